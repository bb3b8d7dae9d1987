package dev.mailstack.server;

import java.io.IOException;
import java.util.OptionalLong;

/**
 * What {@code mailstack user} changes: applied to the store by {@link StoreAccountAdmin} (with no
 * server running, and inside the server for its control socket), or handed to the running server
 * by {@link ControlClient}. Passwords travel as hashes, never as typed.
 */
interface AccountAdmin {
    /** Creates the account with its default mailboxes; returns its address as stored (lower case). */
    String addUser(String address, String passwordHash, OptionalLong quotaBytes) throws IOException;

    /** Open sessions go on; the next login needs the new password. */
    void changePassword(String address, String passwordHash) throws IOException;

    /** Sets the account's storage limit (empty: none); mail over a new, lower limit stays, new mail is refused. */
    void setQuota(String address, OptionalLong quotaBytes) throws IOException;

    /** Deletes the account and all its mail; the running server ends the account's sessions (IMAP, POP3, SMTP). */
    void removeUser(String address) throws IOException;

    /**
     * Disables the account (no login anywhere; the running server ends its sessions; its mail is
     * kept and still delivered) or enables it again.
     */
    void setDisabled(String address, boolean disabled) throws IOException;
}

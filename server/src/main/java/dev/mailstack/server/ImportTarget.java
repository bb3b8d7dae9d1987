package dev.mailstack.server;

import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;

/**
 * Where {@link MailImport} puts messages: straight into the store ({@link StoreImport}) when no
 * server runs, or into the running server through its control socket ({@link ControlClient}), so
 * that the server's own writers and the imported messages take turns per account and live IMAP
 * sessions hear of the new mail.
 */
interface ImportTarget {
    /** Creates the mailbox unless it exists (subscribed once mail is stored in it). */
    void ensure(MailboxName mailbox) throws IOException;

    /** A new message: its octets are written to the draft, then it is stored or closed unstored. */
    Draft draft() throws IOException;

    /** One message on its way in. Closing a draft that was not stored throws its octets away. */
    abstract class Draft extends OutputStream {
        /** Stores what was written, as one message of {@code mailbox}; the draft is used up. */
        abstract void store(MailboxName mailbox, Flags flags, Instant internalDate) throws IOException;
    }
}

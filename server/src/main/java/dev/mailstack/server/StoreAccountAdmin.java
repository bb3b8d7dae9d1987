package dev.mailstack.server;

import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxStore;
import java.util.OptionalLong;

/**
 * {@link AccountAdmin} on the store itself: by the command line when no server runs, and by the
 * server for the requests of its control socket, so both apply a change the same way. The store
 * takes the account's writer turn for a password change or a deletion and tells the account's
 * sessions of a deletion (Accounts.removeUser), which only reaches sessions in this process.
 */
record StoreAccountAdmin(MailboxStore store) implements AccountAdmin {
    @Override
    public String addUser(String address, String passwordHash, OptionalLong quotaBytes) {
        Account a = store.accounts().addUser(address, passwordHash);
        if (quotaBytes.isPresent()) {
            store.accounts().setQuota(a.address(), quotaBytes.getAsLong());
        }
        return a.address();
    }

    @Override
    public void changePassword(String address, String passwordHash) {
        store.accounts().setPasswordHash(address, passwordHash);
    }

    @Override
    public void setQuota(String address, OptionalLong quotaBytes) {
        store.accounts().setQuota(address, quotaBytes.isPresent() ? quotaBytes.getAsLong() : null);
    }

    @Override
    public void removeUser(String address) {
        store.accounts().removeUser(address);
    }

    @Override
    public void setDisabled(String address, boolean disabled) {
        store.accounts().setDisabled(address, disabled);
    }
}

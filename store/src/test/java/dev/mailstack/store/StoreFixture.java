package dev.mailstack.store;

import java.nio.file.Path;

/** A real store on disk in a test's temporary folder, with one domain and user ready. */
public record StoreFixture(MailboxStore store, Account user) implements AutoCloseable {
    public static final String PASSWORD = "secret";

    public static StoreFixture create(Path dir) {
        MailboxStore store = MailboxStore.open(dir, null);
        store.accounts().addDomain("example.org");
        Account user = store.accounts().addUser("alice@example.org", PasswordScheme.hash(PASSWORD));
        return new StoreFixture(store, user);
    }

    public StoreSession session() {
        return store.open(user.id());
    }

    public MailboxId inbox() {
        return session().require(MailboxName.INBOX).id();
    }

    @Override
    public void close() {
        store.close();
    }
}

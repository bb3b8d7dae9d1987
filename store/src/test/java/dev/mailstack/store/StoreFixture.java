package dev.mailstack.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/** A real store on disk in a test's temporary folder, with one domain and user ready. */
public record StoreFixture(MailboxStore store, Account user) implements AutoCloseable {
    public static final String PASSWORD = "secret";

    public static StoreFixture create(Path dir) {
        MailboxStore store = MailboxStore.open(dir, null);
        store.accounts().addDomain("example.org");
        Account user = store.accounts().addUser("alice@example.org", PasswordScheme.hash(PASSWORD));
        return new StoreFixture(store, user);
    }

    /** The store of an earlier {@link #create} in {@code dir} opened again, as after a restart. */
    public static StoreFixture reopen(Path dir) {
        MailboxStore store = MailboxStore.open(dir, null);
        return new StoreFixture(store, store.accounts().authenticate("alice@example.org", PASSWORD).orElseThrow());
    }

    /** Sets when a message counts as saved into its mailbox (RFC 8514), as if it came then. */
    public void savedAt(MailboxName mailbox, Uid uid, Instant at) throws SQLException {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("UPDATE messages SET saved_at = ? WHERE mailbox_id = ? AND uid = ?")) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setLong(2, session().require(mailbox).id().value());
            ps.setLong(3, uid.value());
            if (ps.executeUpdate() != 1) {
                throw new IllegalArgumentException("no message " + uid + " in " + mailbox.path());
            }
        }
    }

    /**
     * Runs one SQL statement on the store's database, for a test that makes the database fail as a
     * busy or broken one would (a table renamed away, then back).
     */
    public void execute(String sql) throws SQLException {
        try (Connection c = store.db().connect(); java.sql.Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /**
     * Makes the content with SHA-256 {@code sha256} durable only once {@code release} completes, as
     * a disk slow to sync it would; {@code started} completes when its put begins. Other contents
     * are not held. Through a hook of the content files that only tests set.
     */
    public void slowContentSync(String sha256, CompletableFuture<Void> started, CompletableFuture<Void> release) {
        store.contents().slowSync = source -> {
            if (!source.sha256().equals(sha256)) {
                return CompletableFuture.completedFuture(null);
            }
            started.complete(null);
            return release;
        };
    }

    /**
     * As {@link #slowContentSync}, for the first content put whose octets contain {@code marker}:
     * for a content the server writes itself (a Sieve-edited copy), whose address a test cannot know.
     */
    public void slowContentSyncOf(String marker, CompletableFuture<Void> started, CompletableFuture<Void> release) {
        store.contents().slowSync = source -> {
            String octets;
            try (java.io.InputStream in = source.open()) {
                octets = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (!octets.contains(marker) || !started.complete(null)) {
                return CompletableFuture.completedFuture(null);
            }
            return release;
        };
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

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class DatabaseTest {
    @TempDir
    Path dir;

    @Test
    void everyCallAfterCloseFailsAsTemporaryStoreIsClosed() throws Exception {
        StoreFixture f = StoreFixture.create(dir);
        StoreSession session = f.session();
        f.close();
        List<Executable> calls = List.of(
                () -> f.store().accounts().find("alice@example.org"),
                () -> f.store().accounts().authenticate("alice@example.org", StoreFixture.PASSWORD),
                () -> f.store().accounts().domains(),
                session::list,
                () -> session.status(MailboxName.INBOX),
                () -> session.select(MailboxName.INBOX),
                session::begin,
                () -> f.store().queue().claimDue(Instant.now(), Duration.ofMinutes(1)),
                () -> f.store().queue().list(),
                () -> f.store().collectGarbage(Duration.ZERO));
        for (Executable call : calls) {
            // a clear TEMPORARY failure, which every protocol edge maps to "try again later" (R4)
            StoreException e = assertThrows(StoreException.class, call);
            assertEquals(StoreFailure.TEMPORARY, e.failure());
            assertEquals("store is closed", e.getMessage());
        }
        f.close(); // closing twice is harmless
    }

    /**
     * H2 keeps what each commit frees for 45 s, so a burst of commits grows the file; the store's
     * close gives it back (H2 compacts as the database shuts), as a server's stop does after a burst.
     */
    @Test
    void closingTheStoreCompactsWhatABurstOfCommitsGrewTheFileBy() throws Exception {
        StoreFixture f = StoreFixture.create(dir);
        for (int i = 0; i < 2000; i++) {
            f.store().accounts().setQuota("alice@example.org", 1_000_000L + i);
        }
        Path file = dir.resolve("mailstack.mv.db");
        long grown = java.nio.file.Files.size(file);
        f.close();
        long closed = java.nio.file.Files.size(file);
        assertTrue(grown > 4 * 1024 * 1024, "the burst grew the file: " + grown);
        assertTrue(closed < grown / 4, "compacted at close: " + grown + " -> " + closed);
        StoreFixture again = StoreFixture.reopen(dir);
        assertEquals(java.util.OptionalLong.of(1_001_999L), again.session().quota().limitBytes(), "and nothing lost");
        again.close();
    }

    @Test
    void aCallWaitingForAConnectionWhenTheStoreClosesFailsAsClosed() throws Exception {
        MailboxStore store = MailboxStore.open(dir, null);
        List<Connection> held = new ArrayList<>();
        for (int i = 0; i < Database.DEFAULT_CONNECTIONS; i++) {
            held.add(store.db().connect());
        }
        CompletableFuture<Object> waiting = CompletableFuture.supplyAsync(() -> store.accounts().domains());
        store.close();
        for (Connection c : held) {
            c.close();
        }
        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(30, TimeUnit.SECONDS));
        StoreException cause = assertInstanceOf(StoreException.class, e.getCause());
        assertEquals(StoreFailure.TEMPORARY, cause.failure());
        assertEquals("store is closed", cause.getMessage());
    }

    @Test
    void aTransactionBegunBeforeCloseStillCommits() throws Exception {
        StoreFixture f = StoreFixture.create(dir);
        StoreSession session = f.session();
        MailboxId inbox = f.inbox();
        MessageSpool.Spooled spooled = TestMessages.spool(f.store(), "Subject: in flight\r\n\r\nx\r\n");
        try (Transaction t = session.begin()) {
            t.append(inbox, spooled, TestMessages.facts(spooled), Flags.NONE, Instant.now(), java.util.Optional.empty());
            f.close();
            // A shutdown lets work in progress finish: the connection was handed out before close
            assertEquals(1, t.commit().assigned().get(0).uids().size());
        }
        try (StoreFixture reopened = new StoreFixture(MailboxStore.open(dir, null), f.user())) {
            assertEquals(1, reopened.session().status(MailboxName.INBOX).messages());
        }
    }
}

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeliveriesTest {
    @TempDir
    Path dir;

    @Test
    void recordsOfFinishedEntriesArePrunedAndThoseOfQueuedEntriesKept() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            MailboxStore store = f.store();
            QueueId delivered = enqueue(store);
            QueueId deleted = enqueue(store);
            QueueId queued = enqueue(store);
            for (QueueId id : List.of(delivered, deleted, queued)) {
                assertTrue(deliver(f, id).isPresent());
            }
            store.queue().record(delivered, List.of(new RecipientOutcome.Delivered(0, "250 ok")));
            assertTrue(store.queue().delete(deleted));
            store.queue().record(queued, List.of(new RecipientOutcome.Deferred(0, "451 later",
                    Instant.now().plus(Duration.ofHours(1)))));

            assertEquals(2, store.pruneExpiredTracking(Instant.now()), "the entry delivered to all and the one deleted");
            assertEquals(0, records(store, delivered));
            assertEquals(0, records(store, deleted));
            assertEquals(1, records(store, queued));
            assertEquals(Optional.empty(), deliver(f, queued), "the queued entry's retry is still a no-op");
            assertEquals(0, store.pruneExpiredTracking(Instant.now()), "nothing more is gone");

            store.queue().record(queued, List.of(new RecipientOutcome.Delivered(0, "250 ok")));
            assertEquals(1, store.pruneExpiredTracking(Instant.now()), "once its entry is done, its record goes too");
            assertEquals(0, count(store, "SELECT COUNT(*) FROM deliveries"));
        }
    }

    @Test
    void manyRecordsArePrunedInOneRoundBatchByBatch() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            MailboxStore store = f.store();
            QueueId queued = enqueue(store);
            deliver(f, queued);
            int gone = 2 * Deliveries.BATCH + 1;
            try (Connection c = store.db().connect();
                 PreparedStatement ps = c.prepareStatement("INSERT INTO deliveries (mailbox_id, delivery_key, queue_id, uid)"
                         + " SELECT ?, 'gone' || X || ':alice@example.org', 1000000 + X, X FROM SYSTEM_RANGE(1, ?)")) {
                ps.setLong(1, f.inbox().value());
                ps.setInt(2, gone);
                assertEquals(gone, ps.executeUpdate());
            }
            assertEquals(gone, store.pruneExpiredTracking(Instant.now()));
            assertEquals(1, count(store, "SELECT COUNT(*) FROM deliveries"));
            assertEquals(1, records(store, queued));
        }
    }

    /** What the prune relies on: an entry once gone never comes back under its id, a restart included. */
    @Test
    void queueIdsAreNotHandedOutAgainOnceTheirEntriesAreGone() throws Exception {
        QueueId last;
        try (StoreFixture f = StoreFixture.create(dir)) {
            enqueue(f.store());
            last = enqueue(f.store());
            for (QueuedMessage m : f.store().queue().claimDue(Instant.now(), Duration.ofMinutes(1), 10)) {
                f.store().queue().record(m.id(), List.of(new RecipientOutcome.Delivered(0, "250 ok")));
            }
            assertEquals(0, f.store().queue().list().size());
        }
        try (StoreFixture f = StoreFixture.reopen(dir)) {
            QueueId next = enqueue(f.store());
            assertTrue(next.value() > last.value(), next + " after " + last);
        }
    }

    private static QueueId enqueue(MailboxStore store) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(store, "Subject: queued\r\n\r\nx\r\n");
        return store.queue().enqueue(new MailEnvelope("bob@remote.test", List.of(MailEnvelope.Recipient.of("alice@example.org")),
                Optional.empty(), Optional.empty(), false, false, Instant.now()), m, TestMessages.facts(m));
    }

    /** Local delivery of the entry to alice's INBOX, keyed as the queue runner keys it; empty when it was delivered before. */
    private static Optional<Uid> deliver(StoreFixture f, QueueId id) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(f.store(), "Subject: queued\r\n\r\nx\r\n");
        try (Transaction t = f.session().begin()) {
            Optional<Uid> uid = t.append(f.inbox(), m, TestMessages.facts(m), Flags.NONE, Instant.now(),
                    Optional.of(new DeliveryKey(id, "Alice@example.org")));
            t.commit();
            return uid;
        }
    }

    private static long records(MailboxStore store, QueueId id) throws Exception {
        return count(store, "SELECT COUNT(*) FROM deliveries WHERE queue_id = " + id.value());
    }

    private static long count(MailboxStore store, String sql) throws Exception {
        try (Connection c = store.db().connect(); var st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

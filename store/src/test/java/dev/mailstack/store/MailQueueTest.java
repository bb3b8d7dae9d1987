package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MailQueueTest {
    @TempDir
    Path dir;
    StoreFixture f;
    MailQueue queue;

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir);
        queue = f.store().queue();
    }

    @AfterEach
    void close() {
        f.close();
    }

    private QueueId enqueue(String... recipients) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(f.store(), "Subject: q\r\n\r\nx\r\n");
        return queue.enqueue(new MailEnvelope("sender@example.org",
                java.util.Arrays.stream(recipients).map(MailEnvelope.Recipient::of).toList(),
                Optional.empty(), Optional.empty(), false, false, Instant.now()), m, TestMessages.facts(m));
    }

    @Test
    void aClaimedMessageIsLeasedUntilItsOutcomeIsRecorded() throws Exception {
        QueueId id = enqueue("a@remote.test");
        Instant now = Instant.now();
        QueuedMessage m = queue.claimDue(now, Duration.ofMinutes(5)).orElseThrow();
        assertEquals(id, m.id());
        assertTrue(queue.claimDue(now, Duration.ofMinutes(5)).isEmpty(), "leased");
        assertEquals(id, queue.claimDue(now.plus(Duration.ofMinutes(6)), Duration.ofMinutes(5)).orElseThrow().id(),
                "an expired lease (a runner that died) frees the message again");
    }

    @Test
    void batchClaimsNeverHandTheSameMessageToTwoRunners() throws Exception {
        for (int i = 0; i < 30; i++) {
            enqueue("a" + i + "@remote.test");
        }
        Instant now = Instant.now();
        java.util.Set<QueueId> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicInteger claimed = new java.util.concurrent.atomic.AtomicInteger();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 4; t++) {
                threads.submit(() -> {
                    List<QueuedMessage> batch;
                    while (!(batch = queue.claimDue(now, Duration.ofMinutes(5), 4)).isEmpty()) {
                        assertTrue(batch.size() <= 4);
                        batch.forEach(m -> seen.add(m.id()));
                        claimed.addAndGet(batch.size());
                    }
                    return null;
                });
            }
        }
        assertEquals(30, claimed.get(), "each message claimed exactly once");
        assertEquals(30, seen.size());
    }

    @Test
    void leasesOfADeadProcessAreReleasedAtStart() throws Exception {
        QueueId id = enqueue("a@remote.test");
        Instant now = Instant.now();
        queue.claimDue(now, Duration.ofMinutes(15)).orElseThrow();
        assertTrue(queue.claimDue(now, Duration.ofMinutes(15)).isEmpty());
        assertEquals(1, queue.releaseLeases());
        assertEquals(id, queue.claimDue(now, Duration.ofMinutes(15)).orElseThrow().id());
    }

    @Test
    void retriesGoOnlyToRecipientsStillPending() throws Exception {
        QueueId id = enqueue("a@remote.test", "b@remote.test", "c@remote.test");
        Instant now = Instant.now();
        queue.claimDue(now, Duration.ofMinutes(5)).orElseThrow();
        Instant later = now.plus(Duration.ofMinutes(5));
        queue.record(id, List.of(new RecipientOutcome.Delivered(0, "250 ok"),
                new RecipientOutcome.Deferred(1, "451 try later", later),
                new RecipientOutcome.Failed(2, "550 no such user")));
        assertTrue(queue.claimDue(now, Duration.ofMinutes(5)).isEmpty(), "not due before its next attempt");
        // H2 keeps microseconds: claim a moment after the deferral so rounding cannot make it not yet due
        QueuedMessage retry = queue.claimDue(later.plusSeconds(1), Duration.ofMinutes(5)).orElseThrow();
        assertEquals(List.of("b@remote.test"), retry.pending().stream().map(p -> p.recipient().address()).toList());
        assertEquals(1, retry.pending().get(0).attempts());
        assertEquals("451 try later", retry.pending().get(0).lastReply());
        queue.record(id, List.of(new RecipientOutcome.Delivered(1, "250 ok")));
        assertEquals(List.of(), queue.list(), "done when no recipient is pending");
    }

    @Test
    void queueSurvivesReopen() throws Exception {
        QueueId id = enqueue("a@remote.test");
        f.close();
        f = new StoreFixture(MailboxStore.open(dir, null), f.user());
        queue = f.store().queue();
        assertEquals(id, queue.list().get(0).id());
        assertEquals(id, QueueId.parse(id.toString()));
    }
}

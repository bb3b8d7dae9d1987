package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
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

    /** Queued already claimed: what a later claim of the same rows would read, and no claim finds it while leased. */
    @Test
    void aMessageQueuedClaimedIsWhatAClaimWouldReadAndIsLeased() throws Exception {
        MessageSpool.Spooled spooled = TestMessages.spool(f.store(), "Subject: q\r\n\r\nx\r\n");
        MailEnvelope envelope = new MailEnvelope("sender@example.org", List.of(MailEnvelope.Recipient.of("a@remote.test"),
                MailEnvelope.Recipient.of("b@remote.test")), Optional.of("env-1"), Optional.empty(), false, false,
                Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        MailQueue.Enqueued queued = queue.enqueue(envelope, spooled, TestMessages.facts(spooled), Optional.of(Duration.ofMinutes(5)));
        QueuedMessage claimed = queued.claimed().orElseThrow();
        Instant now = Instant.now();
        assertTrue(queue.claimDue(now, Duration.ofMinutes(5)).isEmpty(), "leased from the start");
        QueuedMessage read = queue.claimDue(now.plus(Duration.ofMinutes(6)), Duration.ofMinutes(5)).orElseThrow();
        assertEquals(read.id(), claimed.id());
        assertEquals(read.envelope(), claimed.envelope());
        assertEquals(read.pending(), claimed.pending());
        assertEquals(List.of(read.content(), read.contentKey(), read.size(), read.delayWarned()),
                List.of(claimed.content(), claimed.contentKey(), claimed.size(), claimed.delayWarned()));
        assertTrue(queue.enqueue(envelope, spooled, TestMessages.facts(spooled), Optional.empty()).claimed().isEmpty());
    }

    @Test
    void aRenewedLeaseOutlastsItsFirstTermAndADeletedEntryIsReportedGone() throws Exception {
        QueueId kept = enqueue("a@remote.test");
        QueueId deleted = enqueue("b@remote.test");
        Instant now = Instant.now();
        assertEquals(2, queue.claimDue(now, Duration.ofMinutes(5), 10).size());
        assertTrue(queue.delete(deleted));
        assertEquals(java.util.Set.of(deleted), queue.renewLeases(List.of(kept, deleted), now.plus(Duration.ofMinutes(20))));
        assertTrue(queue.claimDue(now.plus(Duration.ofMinutes(6)), Duration.ofMinutes(5)).isEmpty(),
                "renewed past the first lease's end");
        assertEquals(kept, queue.claimDue(now.plus(Duration.ofMinutes(21)), Duration.ofMinutes(5)).orElseThrow().id());
        queue.record(kept, List.of(new RecipientOutcome.Deferred(0, "451 later", now.plus(Duration.ofHours(1)))));
        assertEquals(java.util.Set.of(kept), queue.renewLeases(List.of(kept), now.plus(Duration.ofHours(2))),
                "a recorded entry is no longer leased, and renewing does not lease it again");
        assertEquals(kept, queue.claimDue(now.plus(Duration.ofMinutes(61)), Duration.ofMinutes(5)).orElseThrow().id());
    }

    @Test
    void recordingSomeRecipientsKeepsTheLeaseUntilTheRestAreRecorded() throws Exception {
        QueueId id = enqueue("a@one.test", "b@two.test");
        Instant now = Instant.now();
        QueuedMessage m = queue.claimDue(now, Duration.ofMinutes(5)).orElseThrow();
        assertTrue(queue.recordSome(id, List.of(new RecipientOutcome.Delivered(0, "250 ok"))));
        assertTrue(queue.claimDue(now, Duration.ofMinutes(5)).isEmpty(), "still leased");
        assertEquals(java.util.Set.of(id), queue.record(java.util.Map.of(id,
                List.of(new RecipientOutcome.Deferred(1, "451 later", now.plus(Duration.ofHours(1))))), m.claimedAt()));
        QueuedMessage again = queue.claimDue(now.plus(Duration.ofMinutes(61)), Duration.ofMinutes(5)).orElseThrow();
        assertEquals(List.of("b@two.test"), again.pending().stream().map(r -> r.recipient().address()).toList());
        assertTrue(queue.delete(id));
        assertFalse(queue.recordSome(id, List.of(new RecipientOutcome.Delivered(1, "250 ok"))), "gone");
    }

    private MailQueue.FollowUp report(QueueId about, boolean delayWarning) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(f.store(), "Subject: report on " + about + "\r\n\r\nx\r\n");
        return new MailQueue.FollowUp(about, delayWarning, new MailEnvelope("", List.of(MailEnvelope.Recipient.of("sender@example.org")),
                Optional.empty(), Optional.empty(), false, true, Instant.now()), m, TestMessages.facts(m));
    }

    private List<String> queuedTo() {
        return queue.list().stream().flatMap(e -> queue.details(e.id()).orElseThrow().recipients().stream())
                .filter(r -> r.state().equalsIgnoreCase("pending")).map(r -> r.address()).sorted().toList();
    }

    @Test
    void aReportIsQueuedInTheTransactionThatRecordsItsOutcomesAndNotForADeletedEntry() throws Exception {
        QueueId failed = enqueue("a@remote.test");
        QueueId deleted = enqueue("b@remote.test");
        Instant now = Instant.now();
        QueuedMessage m = queue.claimDue(now, Duration.ofMinutes(5), 10).getFirst();
        assertTrue(queue.delete(deleted));
        MailQueue.FollowUp unwanted = report(deleted, false);
        MailQueue.Recorded recorded = queue.record(java.util.Map.of(
                failed, List.of(new RecipientOutcome.Failed(0, "550 no")),
                deleted, List.of(new RecipientOutcome.Failed(0, "550 no"))), m.claimedAt(),
                List.of(report(failed, false), unwanted));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> f.store().openContent(unwanted.source().sha256(), 0),
                "no content for it either, in the database or a file (no row would ever point at it)");
        assertEquals(java.util.Set.of(failed), recorded.queued());
        assertTrue(recorded.followUps().get(0).isPresent());
        assertEquals(Optional.empty(), recorded.followUps().get(1), "a deleted entry gets no report");
        assertEquals(List.of("sender@example.org"), queuedTo(), "only the one report is left in the queue");
    }

    @Test
    void aReportThatCannotBeWrittenRecordsNothing() throws Exception {
        QueueId id = enqueue("a@remote.test");
        QueuedMessage m = queue.claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow();
        MailQueue.FollowUp good = report(id, false);
        MessageSource unreadable = new MessageSource() {
            @Override
            public long size() {
                return good.source().size();
            }

            @Override
            public String sha256() {
                return "0".repeat(64);
            }

            @Override
            public java.io.InputStream open() throws java.io.IOException {
                throw new java.io.IOException("disk gone");
            }
        };
        MailQueue.FollowUp broken = new MailQueue.FollowUp(id, false, good.envelope(), unreadable, good.facts());
        assertEquals(StoreFailure.TEMPORARY, org.junit.jupiter.api.Assertions.assertThrows(StoreException.class,
                () -> queue.record(java.util.Map.of(id, List.of(new RecipientOutcome.Failed(0, "550 no"))),
                        m.claimedAt(), List.of(broken))).failure());
        assertEquals(List.of("a@remote.test"), queuedTo(), "neither the outcome nor a report");
        assertEquals(List.of(StoreFailure.TEMPORARY), List.of(org.junit.jupiter.api.Assertions.assertThrows(
                StoreException.class, () -> queue.recordSome(id, List.of(new RecipientOutcome.Delivered(0, "250 ok")),
                        List.of(broken))).failure()));
        assertEquals(1, queue.claimDue(Instant.now().plus(Duration.ofMinutes(6)), Duration.ofMinutes(5)).orElseThrow()
                .pending().size(), "the recipient still pending");
    }

    private MailQueue.FollowUp guarded(QueueId about, MailQueue.Guard... guards) throws Exception {
        MailQueue.FollowUp r = report(about, false);
        return new MailQueue.FollowUp(about, false, r.envelope(), r.source(), r.facts(), List.of(guards));
    }

    /**
     * A follow-up sent once per entry and account (a Sieve redirect, V20): not again in the same
     * transaction, nor by a later one for another recipient of the entry; another account's goes.
     */
    @Test
    void aFollowUpGuardedOnceIsQueuedOnceForItsEntryAndAccount() throws Exception {
        QueueId id = enqueue("a@example.org", "b@example.org", "c@example.org");
        MailQueue.Guard.Once alice = new MailQueue.Guard.Once(f.user().id(), "redirect\0carol@example.org");
        Account other = f.store().accounts().addUser("bob@example.org", PasswordScheme.hash("pw"));
        List<Optional<QueueId>> first = queue.recordSome(id, List.of(new RecipientOutcome.Delivered(0, "250 ok")),
                List.of(guarded(id, alice), guarded(id, alice))).orElseThrow();
        assertTrue(first.get(0).isPresent());
        assertEquals(Optional.empty(), first.get(1), "the same transaction's second one");
        MailQueue.Recorded later = queue.record(java.util.Map.of(id, List.of(new RecipientOutcome.Delivered(1, "250 ok"))),
                null, List.of(guarded(id, alice), guarded(id, new MailQueue.Guard.Once(other.id(), alice.action()))));
        assertEquals(Optional.empty(), later.followUps().get(0), "sent by the earlier attempt");
        assertTrue(later.followUps().get(1).isPresent(), "another account's own");
        MailQueue.Recorded last = queue.record(java.util.Map.of(id, List.of(new RecipientOutcome.Delivered(2, "250 ok"))),
                null, List.of(guarded(id, alice)));
        assertEquals(Optional.empty(), last.followUps().get(0), "also in the transaction that ends the entry");
        try (Connection c = f.store().db().connect(); ResultSet rs = c.createStatement().executeQuery(
                "SELECT COUNT(*) FROM follow_ups_sent")) {
            rs.next();
            assertEquals(0, rs.getLong(1), "the marks went with the entry");
        }
    }

    /**
     * A batch records several messages in one transaction: each message's own redirect to the same
     * target goes (an account that forwards all its mail), once per message.
     */
    @Test
    void eachMessageOfABatchGetsItsOwnFollowUpGuardedOnce() throws Exception {
        QueueId first = enqueue("a@example.org", "b@example.org");
        QueueId second = enqueue("a@example.org", "b@example.org");
        MailQueue.Guard.Once alice = new MailQueue.Guard.Once(f.user().id(), "redirect\0carol@remote.test");
        MailQueue.Recorded both = queue.record(java.util.Map.of(
                        first, List.of(new RecipientOutcome.Delivered(0, "250 ok")),
                        second, List.of(new RecipientOutcome.Delivered(0, "250 ok"))),
                null, List.of(guarded(first, alice), guarded(second, alice), guarded(second, alice)));
        assertTrue(both.followUps().get(0).isPresent(), "the first message's");
        assertTrue(both.followUps().get(1).isPresent(), "the second message's, in the same transaction");
        assertEquals(Optional.empty(), both.followUps().get(2), "the second message's again: once");
    }

    /** RFC 5230 §4.6: the reply's claim is written with the reply queued, never without it. */
    @Test
    void aVacationReplyClaimsItsSenderOnlyWithTheReplyQueued() throws Exception {
        QueueId id = enqueue("a@example.org", "b@example.org");
        MailQueue.Guard.VacationReply claim = new MailQueue.Guard.VacationReply(f.user().id(), "dave@remote.test", "",
                Duration.ofDays(7));
        MailQueue.FollowUp reply = guarded(id, claim);
        MailQueue.FollowUp unreadable = new MailQueue.FollowUp(id, false, reply.envelope(), new MessageSource() {
            @Override
            public long size() {
                return reply.source().size();
            }

            @Override
            public String sha256() {
                return "1".repeat(64);
            }

            @Override
            public java.io.InputStream open() throws java.io.IOException {
                throw new java.io.IOException("disk gone");
            }
        }, reply.facts(), List.of(claim));
        org.junit.jupiter.api.Assertions.assertThrows(StoreException.class, () -> queue.recordSome(id,
                List.of(new RecipientOutcome.Delivered(0, "250 ok")), List.of(unreadable)));
        assertTrue(queue.recordSome(id, List.of(new RecipientOutcome.Delivered(0, "250 ok")), List.of(reply))
                .orElseThrow().getFirst().isPresent(), "the failed attempt claimed nothing");
        assertEquals(Optional.empty(), queue.recordSome(id, List.of(new RecipientOutcome.Delivered(1, "250 ok")),
                List.of(guarded(id, claim))).orElseThrow().getFirst(), "answered within the interval");
    }

    @Test
    void aSuccessNoticeGoesWithTheDeliveriesRecordedEarlyAndADelayWarningIsSentOnce() throws Exception {
        QueueId id = enqueue("a@one.test", "b@two.test");
        Instant now = Instant.now();
        QueuedMessage m = queue.claimDue(now, Duration.ofMinutes(5)).orElseThrow();
        assertFalse(m.delayWarned());
        assertEquals(1, queue.recordSome(id, List.of(new RecipientOutcome.Delivered(0, "250 ok")),
                List.of(report(id, false))).orElseThrow().size());
        queue.record(java.util.Map.of(id, List.of(new RecipientOutcome.Deferred(1, "451 later", now.plus(Duration.ofHours(1))))),
                m.claimedAt(), List.of(report(id, true)));
        assertEquals(List.of("b@two.test", "sender@example.org", "sender@example.org"), queuedTo());
        QueuedMessage again = queue.claimDue(now.plus(Duration.ofMinutes(61)), Duration.ofMinutes(5), 10).stream()
                .filter(q -> q.id().equals(id)).findFirst().orElseThrow();
        assertTrue(again.delayWarned(), "marked in the transaction that queued the warning");
        assertTrue(queue.delete(id));
        assertEquals(Optional.empty(), queue.recordSome(id, List.of(new RecipientOutcome.Delivered(1, "250 ok")),
                List.of(report(id, false))), "gone: nothing recorded, no notice");
        assertEquals(List.of("sender@example.org", "sender@example.org"), queuedTo());
    }

    /**
     * More writers than one group commit takes, arriving all the time: each caller returns only once
     * its own message is committed, with its id. A caller that took the lock ahead of its turn used
     * to commit the group at the head of the line and return without its own (no id: its client got
     * no reply and would send the message again, as the entry was committed later all the same).
     */
    @Test
    void everyEnqueueReturnsItsOwnCommittedMessageUnderABurst() throws Exception {
        int writers = 2 * MailQueue.MAX_GROUP + 8;
        int each = 6;
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<List<QueueId>>> results = new java.util.ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newThreadPerTaskExecutor(Thread.ofPlatform().factory())) {
            for (int w = 0; w < writers; w++) {
                int writer = w;
                results.add(threads.submit(() -> {
                    List<MessageSpool.Spooled> spooled = new java.util.ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        spooled.add(TestMessages.spool(f.store(), "Subject: " + writer + "." + i + "\r\n\r\nx\r\n"));
                    }
                    go.await();
                    List<QueueId> ids = new java.util.ArrayList<>();
                    for (MessageSpool.Spooled m : spooled) {
                        ids.add(queue.enqueue(new MailEnvelope("sender@example.org", List.of(MailEnvelope.Recipient.of("a@remote.test")),
                                Optional.empty(), Optional.empty(), false, false, Instant.now()), m, TestMessages.facts(m)));
                    }
                    return ids;
                }));
            }
            go.countDown();
        }
        java.util.Set<QueueId> distinct = new java.util.HashSet<>();
        for (var r : results) {
            for (QueueId id : r.get()) {
                assertNotNull(id, "returned before its message was committed");
                distinct.add(id);
            }
        }
        assertEquals(writers * each, distinct.size());
        assertEquals(writers * each, queue.claimDue(Instant.now(), Duration.ofMinutes(5), 2 * writers * each).size(),
                "every one committed");
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
            List<java.util.concurrent.Future<?>> runners = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                runners.add(threads.submit(() -> {
                    List<QueuedMessage> batch;
                    while (!(batch = queue.claimDue(now, Duration.ofMinutes(5), 4)).isEmpty()) {
                        assertTrue(batch.size() <= 4, "a batch of " + batch.size());
                        batch.forEach(m -> seen.add(m.id()));
                        claimed.addAndGet(batch.size());
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> runner : runners) {
                runner.get(); // a runner's failed assertion or exception fails the test
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

    @Test
    void aHeldMessageIsNeverClaimedUntilReleasedAndIsThenDueAtOnce() throws Exception {
        QueueId id = enqueue("a@remote.test");
        Instant now = Instant.now();
        queue.claimDue(now, Duration.ofMinutes(5)).orElseThrow();
        queue.record(id, List.of(new RecipientOutcome.Deferred(0, "451 later", now.plus(Duration.ofHours(1)))));
        assertTrue(queue.hold(id));
        assertTrue(queue.list().getFirst().held());
        assertTrue(queue.claimDue(now.plus(Duration.ofDays(30)), Duration.ofMinutes(5)).isEmpty(), "held, however late");
        assertFalse(queue.retryNow(id), "a retry does not end a hold");
        assertTrue(queue.claimDue(now, Duration.ofMinutes(5)).isEmpty());
        assertTrue(queue.release(id));
        assertFalse(queue.release(id), "no longer held");
        assertFalse(queue.list().getFirst().held());
        assertEquals(id, queue.claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow().id(),
                "due at once, not at the deferral's next attempt an hour away");
        assertFalse(queue.hold(new QueueId(id.value() + 1)), "no such entry");
    }

    /** /metrics reads these on a public endpoint: they must agree with the list they stand in for. */
    @Test
    void totalsCountWhatTheListShows() throws Exception {
        assertEquals(new QueueTotals(0, 0, java.util.Optional.empty()), queue.totals());
        QueueId first = enqueue("a@remote.test");
        enqueue("b@remote.test");
        assertTrue(queue.hold(first));
        List<QueueEntry> entries = queue.list();
        assertEquals(new QueueTotals(2, 1, java.util.Optional.of(entries.getFirst().receivedAt())), queue.totals());
        assertEquals(f.store().accounts().users().stream().mapToLong(Account::usedBytes).sum(),
                f.store().accounts().usedBytesTotal());
    }

    @Test
    void holdingAMessageBeingDeliveredLetsThatAttemptEndAndKeepsItHeld() throws Exception {
        QueueId id = enqueue("a@remote.test");
        Instant now = Instant.now();
        queue.claimDue(now, Duration.ofMinutes(5)).orElseThrow();
        assertTrue(queue.details(id).orElseThrow().beingDelivered());
        assertTrue(queue.hold(id));
        queue.record(id, List.of(new RecipientOutcome.Deferred(0, "451 later", now.plusSeconds(1))));
        assertTrue(queue.claimDue(now.plus(Duration.ofHours(2)), Duration.ofMinutes(5)).isEmpty());
        QueueDetails d = queue.details(id).orElseThrow();
        assertTrue(d.entry().held());
        assertFalse(d.beingDelivered());
    }

    @Test
    void aRetryLeavesTheLeaseOfAMessageBeingDelivered() throws Exception {
        QueueId id = enqueue("a@remote.test");
        Instant now = Instant.now();
        queue.claimDue(now, Duration.ofMinutes(5)).orElseThrow();
        assertTrue(queue.retryNow(id));
        assertTrue(queue.claimDue(Instant.now(), Duration.ofMinutes(5)).isEmpty(),
                "a second worker must not deliver it beside the first");
        assertFalse(queue.retryNow(new QueueId(id.value() + 1)), "no such entry");
    }

    @Test
    void aRetryDuringAnAttemptWinsOverItsRetryTimeEvenWhenTheClockSteppedBack() throws Exception {
        QueueId id = enqueue("a@remote.test");
        // claimed a minute "later" than the retry below: as if NTP stepped the clock back meanwhile
        Instant claimedAt = Instant.now().plus(Duration.ofMinutes(1));
        queue.claimDue(claimedAt, Duration.ofMinutes(5)).orElseThrow();
        assertTrue(queue.retryNow(id));
        queue.record(java.util.Map.of(id, List.of(new RecipientOutcome.Deferred(0, "451 later",
                claimedAt.plus(Duration.ofHours(1))))), claimedAt);
        assertTrue(queue.claimDue(claimedAt, Duration.ofMinutes(5)).isPresent(), "the retry asked for stays due");
        queue.record(java.util.Map.of(id, List.of(new RecipientOutcome.Deferred(0, "451 later",
                claimedAt.plus(Duration.ofHours(1))))), claimedAt);
        assertTrue(queue.claimDue(claimedAt.plus(Duration.ofMinutes(59)), Duration.ofMinutes(5)).isEmpty(),
                "a later attempt, with no retry asked for, sets its own time again");
    }

    @Test
    void deleteRemovesTheEntryAndALateOutcomeFindsNothingToRecord() throws Exception {
        QueueId id = enqueue("a@remote.test", "b@remote.test");
        queue.claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow();
        assertTrue(queue.delete(id));
        assertFalse(queue.delete(id));
        queue.record(id, List.of(new RecipientOutcome.Delivered(0, "250 ok"),
                new RecipientOutcome.Deferred(1, "451 later", Instant.now())));
        assertEquals(List.of(), queue.list());
        assertEquals(Optional.empty(), queue.details(id));
        try (Connection c = f.store().db().connect(); var st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM queue_recipients")) {
            rs.next();
            assertEquals(0, rs.getLong(1), "recipients go with their message");
        }
        assertEquals(1, f.store().collectGarbage(Duration.ZERO), "its content is no longer used");
    }

    @Test
    void detailsNameEveryRecipientWithItsStateAndTheDsnParameters() throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(f.store(), "Subject: q\r\n\r\nx\r\n");
        QueueId id = queue.enqueue(new MailEnvelope("sender@example.org",
                List.of(MailEnvelope.Recipient.of("a@remote.test"), MailEnvelope.Recipient.of("b@remote.test")),
                Optional.of("env-1"), Optional.of("HDRS"), false, false, Instant.now()), m, TestMessages.facts(m));
        queue.claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow();
        queue.record(id, List.of(new RecipientOutcome.Delivered(0, "250 ok"),
                new RecipientOutcome.Deferred(1, "451 4.4.1 later", Instant.now().plusSeconds(60))));
        QueueDetails d = queue.details(id).orElseThrow();
        assertEquals(List.of(new QueueDetails.Recipient("a@remote.test", "delivered", 1, "250 ok"),
                new QueueDetails.Recipient("b@remote.test", "pending", 1, "451 4.4.1 later")), d.recipients());
        assertEquals(Optional.of("env-1"), d.envId());
        assertEquals(Optional.of("HDRS"), d.ret());
        assertEquals(1, d.entry().pendingRecipients());
        assertEquals(m.sha256(), d.contentKey());
        try (var in = f.store().openContent(d.contentKey(), 0)) {
            assertEquals("Subject: q\r\n\r\nx\r\n", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII));
        }
    }
}

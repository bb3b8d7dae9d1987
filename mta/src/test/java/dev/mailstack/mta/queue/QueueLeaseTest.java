package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MailCharset;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.mta.delivery.LocalDelivery;
import dev.mailstack.mta.delivery.RemoteDelivery;
import dev.mailstack.mta.delivery.Route;
import dev.mailstack.mta.delivery.Router;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.QueueDetails;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.TestMessages;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A delivery under way and the queue around it: the lease is renewed while a slow next hop takes
 * longer than one lease, a message to several domains is marked delivered at each as soon as it
 * is, and an administrator's retry or delete during the attempt is what counts afterwards.
 */
class QueueLeaseTest {
    @TempDir
    Path dir;
    StoreFixture f;
    MailboxStore store;
    ServerSocket first;
    ServerSocket second;
    QueueIntake intake;
    MailCounters counters = new MailCounters();

    @BeforeEach
    void open() throws IOException {
        f = StoreFixture.create(dir);
        store = f.store();
        store.accounts().addUser("bob@example.org", PasswordScheme.hash("secret"));
        first = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        second = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { }, counters);
    }

    @AfterEach
    void close() throws IOException {
        first.close();
        second.close();
        f.close();
    }

    private QueueRunner runner(QueueSettings settings) {
        Router router = new Router(Map.of("first.test", new Route("127.0.0.1", first.getLocalPort()),
                "second.test", new Route("127.0.0.1", second.getLocalPort())), Optional.empty(), null);
        QueueRunner runner = new QueueRunner(store, settings, new LocalDelivery(store),
                new RemoteDelivery(store, router, "mx.example.org"), counters);
        runner.useIntake(intake);
        return runner;
    }

    private QueueId send(String... to) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(store, "From: <bob@example.org>\r\nSubject: hello\r\n\r\nbody\r\n");
        try {
            return intake.accept(new MailEnvelope("bob@example.org", List.of(to).stream().map(MailEnvelope.Recipient::of).toList(),
                    Optional.empty(), Optional.empty(), false, false, Instant.now()), m);
        } finally {
            m.discard();
        }
    }

    /**
     * A next hop that takes every message, answering the end of each with what {@code endOfData}
     * returns (it may block, as a slow server does); counts the messages it was sent.
     */
    private static AtomicInteger serve(ServerSocket socket, Supplier<String> endOfData) {
        AtomicInteger messages = new AtomicInteger();
        Thread.ofVirtual().start(() -> {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    Thread.ofVirtual().start(() -> converse(s, endOfData, messages));
                } catch (IOException e) {
                    return; // the test is over
                }
            }
        });
        return messages;
    }

    private static void converse(Socket s, Supplier<String> endOfData, AtomicInteger messages) {
        try (s) {
            var in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            out.write("220 peer.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
            for (String line; (line = in.readLine()) != null; ) {
                String reply;
                if (line.equalsIgnoreCase("DATA")) {
                    out.write("354 go ahead\r\n".getBytes(StandardCharsets.US_ASCII));
                    while (!".".equals(in.readLine())) {
                        // the message itself
                    }
                    messages.incrementAndGet();
                    reply = endOfData.get();
                } else if (line.equalsIgnoreCase("QUIT")) {
                    out.write("221 bye\r\n".getBytes(StandardCharsets.US_ASCII));
                    return;
                } else {
                    reply = "250 ok";
                }
                out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    private QueueDetails.Recipient recipient(QueueId id, String address) {
        return store.queue().details(id).orElseThrow().recipients().stream()
                .filter(r -> r.address().equals(address)).findFirst().orElseThrow();
    }

    private static QueueSettings withLease(int workers, Duration lease) {
        return new QueueSettings("mx.example.org", Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofDays(5),
                Duration.ofHours(4), workers, lease);
    }

    /** A next hop that is slow on purpose: it holds its reply as long as the scenario needs. */
    private static void hold(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitQueueEmpty() throws InterruptedException {
        await(() -> store.queue().list().isEmpty(), Duration.ofSeconds(40), () -> "the queue never emptied: " + store.queue().list());
    }

    /** Until {@code done} holds, failing with {@code what} after {@code limit}; the state lives in the database or a peer: polled. */
    private static void await(java.util.function.BooleanSupplier done, Duration limit, Supplier<String> what)
            throws InterruptedException {
        Instant deadline = Instant.now().plus(limit);
        while (!done.getAsBoolean()) {
            assertTrue(Instant.now().isBefore(deadline), what);
            Thread.sleep(20); // the poll's interval: no event tells of a change in the database or at the peer
        }
    }

    @Test
    void aDeliveryLongerThanTheLeaseIsNotClaimedASecondTime() throws Exception {
        Duration lease = Duration.ofSeconds(3);
        // The next hop takes more than two leases to say 250: a second worker polls every second meanwhile.
        AtomicInteger received = serve(first, () -> {
            hold(lease.multipliedBy(2).plusMillis(500));
            return "250 2.0.0 queued as slow";
        });
        try (QueueRunner runner = runner(withLease(2, lease))) {
            runner.start();
            send("carol@first.test");
            runner.wake();
            awaitQueueEmpty();
        }
        assertEquals(1, received.get(), "the next hop was sent the message once");
        assertEquals(1, counters.delivered.get());
    }

    /**
     * The next hop said 250, then the database would not take the outcome (busy, a full disk): the
     * attempt goes on trying to record it, its lease renewed, instead of leaving the message to its
     * lease's expiry and so sending it to the next hop a second time.
     */
    @Test
    void aDeliveryWhoseOutcomeCannotBeRecordedAtOnceIsNotSentAgain() throws Exception {
        Duration lease = Duration.ofSeconds(3);
        java.util.concurrent.CountDownLatch failedToRecord = new java.util.concurrent.CountDownLatch(2);
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(QueueRunner.class.getName());
        java.util.logging.Handler watch = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage() != null && r.getMessage().startsWith("cannot record the outcome")) {
                    failedToRecord.countDown();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(watch);
        AtomicInteger received = serve(first, () -> {
            sql("ALTER TABLE queue_recipients RENAME TO queue_recipients_away"); // the record after this 250 fails
            return "250 2.0.0 queued";
        });
        try (QueueRunner runner = runner(withLease(2, lease))) {
            runner.start();
            send("carol@first.test");
            runner.wake();
            // past a lease: a message left to its lease's expiry would be claimed and sent again by now
            assertTrue(failedToRecord.await(20, java.util.concurrent.TimeUnit.SECONDS), "the outcome's record was not retried");
            Instant pastLease = Instant.now().plus(lease.multipliedBy(2));
            while (Instant.now().isBefore(pastLease)) {
                assertEquals(1, received.get(), "sent again while its outcome waited to be recorded");
                Thread.sleep(50); // watching that nothing happens for two leases: there is no event to await
            }
            sql("ALTER TABLE queue_recipients_away RENAME TO queue_recipients");
            awaitQueueEmpty();
        } finally {
            log.removeHandler(watch);
            sql("ALTER TABLE IF EXISTS queue_recipients_away RENAME TO queue_recipients");
        }
        assertEquals(1, received.get(), "the next hop was sent the message once");
    }

    private void sql(String statement) {
        try {
            f.execute(statement);
        } catch (java.sql.SQLException e) {
            throw new AssertionError(statement, e);
        }
    }

    /**
     * A next hop that holds its answer holds no worker: with one worker, mail for a local mailbox
     * queued behind it is delivered while the next hop still thinks (RFC 5321 §4.5.3.2 gives it ten
     * minutes after the final dot).
     */
    @Test
    void aSlowNextHopDoesNotHoldUpLocalDelivery() throws Exception {
        java.util.concurrent.CompletableFuture<Void> answer = new java.util.concurrent.CompletableFuture<>();
        AtomicInteger received = serve(first, () -> {
            answer.join();
            return "250 2.0.0 at last";
        });
        try (QueueRunner runner = runner(withLease(1, Duration.ofMinutes(5)))) {
            runner.start();
            send("carol@first.test");
            runner.wake();
            await(() -> received.get() > 0, Duration.ofSeconds(20), () -> "the next hop never got the message");
            send("bob@example.org");
            runner.wake();
            StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
            await(() -> inboxSize(bob) > 0, Duration.ofSeconds(20), () -> "local mail waited for the slow next hop");
            answer.complete(null);
            awaitQueueEmpty();
        } finally {
            answer.complete(null);
        }
        assertEquals(1, received.get());
    }

    /**
     * A stop's first step (taken as the listeners drain): nothing new goes to another server, local
     * mail still goes in, and the delivery under way has the stop's budget, beside the sessions'
     * grace instead of 30 s after it.
     */
    @Test
    void onceAStopHasBegunNoDeliveryToAnotherServerStartsButLocalMailStillGoesIn() throws Exception {
        java.util.concurrent.CompletableFuture<Void> answer = new java.util.concurrent.CompletableFuture<>();
        AtomicInteger received = serve(first, () -> {
            answer.join();
            return "250 2.0.0 at last";
        });
        QueueId later;
        try {
            try (QueueRunner runner = runner(withLease(1, Duration.ofMinutes(5)))) {
                runner.start();
                send("carol@first.test");
                runner.wake();
                await(() -> received.get() > 0, Duration.ofSeconds(20), () -> "the next hop never got the message");
                runner.beginStop(Duration.ofMillis(200));
                later = send("dave@first.test");
                send("bob@example.org");
                runner.wake();
                StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
                await(() -> inboxSize(bob) > 0, Duration.ofSeconds(20), () -> "local mail stopped with the remote");
            } // close: the worker's batch is over when it returns
            assertEquals(1, received.get(), "the message queued after the stop began went nowhere");
            assertTrue(store.queue().list().stream().anyMatch(e -> e.id().equals(later)), "it waits for the next start");
        } finally {
            answer.complete(null);
        }
    }

    private static int inboxSize(StoreSession session) {
        try (var view = session.select(MailboxName.INBOX)) {
            return view.size();
        }
    }

    @Test
    void aNewClaimIsStillRenewedWhenTheBatchOfAnEarlierOneEnds() throws Exception {
        Duration lease = Duration.ofSeconds(3);
        // X and Y are claimed in one batch. X is deferred at once and retried at once by an
        // administrator; its second attempt takes more than three leases, and the first batch ends
        // (Y is slow too) in the middle of it: the renewal must go on, or a third worker claims X.
        AtomicInteger toFirst = new AtomicInteger();
        AtomicInteger received = serve(first, () -> toFirst.incrementAndGet() == 1 ? "451 4.3.0 greylisted"
                : slowly(lease.multipliedBy(3).plusSeconds(1), "250 2.0.0 first has it"));
        serve(second, () -> slowly(lease.plusMillis(1500), "250 2.0.0 second has it"));
        QueueId x = send("carol@first.test");
        send("dave@second.test");
        // no workers of its own (the lease keeper runs): the test plays them, so it decides what each claim holds
        try (QueueRunner runner = runner(withLease(0, lease)); var workers = Executors.newVirtualThreadPerTaskExecutor()) {
            runner.start();
            List<QueuedMessage> batch = store.queue().claimDue(Instant.now(), lease, 10);
            assertEquals(2, batch.size(), "one claim holds both");
            workers.execute(() -> runner.deliver(batch));
            await(() -> recipient(x, "carol@first.test").attempts() > 0, Duration.ofSeconds(20), () -> "X was never tried");
            assertTrue(store.queue().retryNow(x)); // mailstack queue retry X
            List<QueuedMessage> again = store.queue().claimDue(Instant.now(), lease, 10);
            assertEquals(List.of(x), again.stream().map(QueuedMessage::id).toList());
            workers.execute(() -> runner.deliver(again));
            // a third worker, polling as the runner's own do, finds X only if its lease runs out
            workers.execute(() -> {
                while (!store.queue().list().isEmpty()) {
                    runner.deliver(store.queue().claimDue(Instant.now(), lease, 10));
                    hold(Duration.ofMillis(200));
                }
            });
            awaitQueueEmpty();
        }
        assertEquals(2, received.get(), "once deferred, once delivered: never a second copy");
    }

    private static String slowly(Duration d, String reply) {
        hold(d);
        return reply;
    }

    @Test
    void aDomainDoneIsRecordedBeforeTheNextIsTried() throws Exception {
        QueueId id = send("carol@first.test", "dave@second.test");
        serve(first, () -> "250 2.0.0 first has it");
        QueueDetails.Recipient[] seen = new QueueDetails.Recipient[1];
        serve(second, () -> {
            seen[0] = recipient(id, "carol@first.test"); // while the second domain has the message
            return "451 4.3.0 try later";
        });
        try (QueueRunner runner = runner(QueueSettings.defaults("mx.example.org"))) {
            runner.deliver(store.queue().claimDue(Instant.now(), Duration.ofMinutes(5), 10));
        }
        assertEquals("delivered", seen[0].state(), "a crash now would not send it to first.test again");
        assertEquals("delivered", recipient(id, "carol@first.test").state());
        assertEquals(1, recipient(id, "carol@first.test").attempts(), "recorded once");
        assertEquals("pending", recipient(id, "dave@second.test").state());
        assertTrue(store.queue().list().getFirst().nextAttempt().isAfter(Instant.now().plusSeconds(60)),
                "the deferral's retry time");
    }

    @Test
    void aRetryAskedDuringAnAttemptIsNotOverwrittenByItsDeferral() throws Exception {
        QueueId[] id = new QueueId[1];
        AtomicBoolean retried = new AtomicBoolean();
        serve(first, () -> {
            retried.set(store.queue().retryNow(id[0])); // mailstack queue retry, while the next hop thinks
            return "451 4.3.0 try later";
        });
        id[0] = send("carol@first.test");
        try (QueueRunner runner = runner(QueueSettings.defaults("mx.example.org"))) {
            runner.deliver(store.queue().claimDue(Instant.now(), Duration.ofMinutes(5), 10));
        }
        assertTrue(retried.get(), "the retry found the entry");
        assertEquals("pending", recipient(id[0], "carol@first.test").state());
        assertEquals(1, store.queue().claimDue(Instant.now(), Duration.ofMinutes(5), 10).size(),
                "due at once, as the administrator asked, not in 5 minutes");
    }

    @Test
    void aMessageDeletedDuringItsDeliveryGoesNoFurtherAndGetsNoReport() throws Exception {
        QueueId[] id = new QueueId[1];
        AtomicBoolean removed = new AtomicBoolean();
        serve(first, () -> {
            removed.set(store.queue().delete(id[0])); // mailstack queue delete, while the first domain takes it
            return "250 2.0.0 first has it";
        });
        AtomicInteger toSecond = serve(second, () -> "250 2.0.0 second has it");
        // nobody@example.org fails at once (no such user): a bounce to bob, had the entry not been deleted
        id[0] = send("nobody@example.org", "carol@first.test", "dave@second.test");
        try (QueueRunner runner = runner(QueueSettings.defaults("mx.example.org"))) {
            runner.deliver(store.queue().claimDue(Instant.now(), Duration.ofMinutes(5), 10));
        }
        assertTrue(removed.get(), "the delete found the entry");
        assertTrue(store.queue().list().isEmpty(), "no report was queued");
        assertEquals(0, toSecond.get(), "second.test was not sent it");
        StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
        var inbox = bob.select(MailboxName.INBOX);
        try {
            assertEquals(0, inbox.messages().size(), "no bounce reached bob");
        } finally {
            inbox.close();
        }
    }

    @Test
    void aMessageDeletedWhileADomainDefersItGoesToNoFurtherDomain() throws Exception {
        QueueId[] id = new QueueId[1];
        AtomicBoolean removed = new AtomicBoolean();
        serve(first, () -> {
            removed.set(store.queue().delete(id[0]));
            return "451 4.3.0 try later"; // nothing delivered here, so nothing recorded before the next domain
        });
        AtomicInteger toSecond = serve(second, () -> "250 2.0.0 second has it");
        id[0] = send("carol@first.test", "dave@second.test");
        try (QueueRunner runner = runner(QueueSettings.defaults("mx.example.org"))) {
            runner.deliver(store.queue().claimDue(Instant.now(), Duration.ofMinutes(5), 10));
        }
        assertTrue(removed.get(), "the delete found the entry");
        assertEquals(0, toSecond.get(), "second.test was not sent it");
        assertTrue(store.queue().list().isEmpty());
    }

    @Test
    void aSuccessNoticeIsQueuedWhenItsDomainIsRecorded() throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(store, "From: <bob@example.org>\r\nSubject: hello\r\n\r\nbody\r\n");
        QueueId id;
        try {
            id = intake.accept(new MailEnvelope("bob@example.org", List.of(
                    new MailEnvelope.Recipient("carol@first.test", Optional.of("SUCCESS"), Optional.empty()),
                    MailEnvelope.Recipient.of("dave@second.test")),
                    Optional.empty(), Optional.empty(), false, false, Instant.now()), m);
        } finally {
            m.discard();
        }
        serve(first, () -> "250 2.0.0 first has it");
        AtomicInteger queuedMeanwhile = new AtomicInteger();
        serve(second, () -> {
            queuedMeanwhile.set(store.queue().list().size()); // the message itself, and the notice?
            return "451 4.3.0 try later";
        });
        try (QueueRunner runner = runner(QueueSettings.defaults("mx.example.org"))) {
            runner.deliver(store.queue().claimDue(Instant.now(), Duration.ofMinutes(5), 1));
        }
        assertEquals(2, queuedMeanwhile.get(), "the notice for carol was queued before second.test was tried");
        assertEquals(2, store.queue().list().size(), "one notice, not a second at the end");
        assertEquals(id, store.queue().list().getFirst().id());
    }
}

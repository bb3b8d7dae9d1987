package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MailCharset;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.mta.delivery.LocalDelivery;
import dev.mailstack.mta.delivery.RemoteDelivery;
import dev.mailstack.mta.delivery.Router;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.TestMessages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner's batch path, driven by hand (the runner's workers are not started, so the test
 * decides what one claim holds): group commit at intake, batched claims, one transaction per
 * account, and the one-by-one fallback when a shared transaction fails.
 */
class QueueRunnerTest {
    @TempDir
    Path dir;
    StoreFixture f;
    MailboxStore store;
    QueueRunner runner;
    QueueIntake intake;

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir);
        store = f.store();
        store.accounts().addUser("bob@example.org", PasswordScheme.hash("secret"));
        MailCounters counters = new MailCounters();
        runner = new QueueRunner(store, QueueSettings.defaults("mx.example.org"), new LocalDelivery(store),
                new RemoteDelivery(store, new Router(Map.of(), Optional.empty(), null), "mx.example.org"), counters);
        intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { }, counters);
        runner.useIntake(intake);
    }

    @AfterEach
    void close() {
        f.close();
    }

    private void enqueue(String from, String to, String subject, int bodyBytes) throws Exception {
        enqueue(from, MailEnvelope.Recipient.of(to), subject, bodyBytes);
    }

    private void enqueue(String from, MailEnvelope.Recipient to, String subject, int bodyBytes) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(store, "From: <" + from + ">\r\nSubject: " + subject + "\r\n\r\n"
                + "x".repeat(bodyBytes) + "\r\n");
        try {
            intake.accept(new MailEnvelope(from, List.of(to), Optional.empty(),
                    Optional.empty(), false, false, Instant.now()), m);
        } finally {
            m.discard();
        }
    }

    private List<String> subjects(StoreSession session) throws Exception {
        var view = session.select(MailboxName.INBOX);
        try {
            List<String> out = new ArrayList<>();
            for (var ref : view.messages()) {
                try (var in = session.openContent(ref)) {
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    out.add(text.replaceAll("(?s)^.*?Subject: ([^\r\n]*).*", "$1"));
                }
            }
            return out;
        } finally {
            view.close();
        }
    }

    @Test
    void concurrentIntakesAllCommitAndABurstIsDeliveredOnceInOrder() throws Exception {
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int n = i;
                done.add(threads.submit(() -> {
                    enqueue("bob@example.org", "alice@example.org", "m" + n, 100);
                    return null;
                }));
            }
            for (Future<?> d : done) {
                d.get();
            }
        }
        assertEquals(40, store.queue().list().size(), "every concurrent intake is committed");
        List<QueuedMessage> batch = store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 100);
        assertEquals(40, batch.size());
        assertTrue(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 100).isEmpty(),
                "a claimed batch is leased");
        runner.deliver(batch);
        runner.deliver(batch); // a repeat (a crash before the queue update) delivers nothing twice
        List<String> got = subjects(f.session());
        assertEquals(40, got.size());
        assertEquals(List.of(), store.queue().list(), "the batch's outcomes are recorded");
    }

    @Test
    void whenTheSharedTransactionFailsEachMessageGetsItsOwnAnswer() throws Exception {
        // Room for two of the three messages: together they are over quota, one by one two fit.
        store.accounts().setQuota("alice@example.org", 2_000L);
        enqueue("bob@example.org", "alice@example.org", "first", 700);
        enqueue("bob@example.org", "alice@example.org", "second", 700);
        enqueue("bob@example.org", "alice@example.org", "third", 700);
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        assertEquals(List.of("first", "second"), subjects(f.session()));
        // the third bounced: a report is queued to bob, and delivered on the next pass
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
        List<String> reports = subjects(bob);
        assertEquals(1, reports.size());
        assertEquals("Undelivered Mail Returned to Sender", reports.getFirst());
        assertEquals(List.of(), store.queue().list());
    }

    /**
     * mailstack user del while a message for the account is in DATA or in the queue: SMTP accepted
     * it (one reply for all recipients, RFC 5321 §4.2.5), and the queue, which looks every
     * recipient up again at delivery, finds no user: a 5.1.1 bounce to the sender, no retry.
     */
    @Test
    void mailQueuedForAnAccountDeletedBeforeDeliveryBouncesAsAnUnknownUser() throws Exception {
        enqueue("bob@example.org", "alice@example.org", "too late", 10);
        store.accounts().removeUser("alice@example.org");
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10)); // the report
        assertBounced511();
    }

    /**
     * The narrower race: the account is deleted after the runner looked the recipient up and before
     * the append. The store refuses the append (its INBOX is gone) rather than storing a message in
     * no mailbox, and the recipient bounces as an unknown user, not deferred.
     */
    @Test
    void anAccountDeletedBetweenLookupAndAppendBouncesAsAnUnknownUser() throws Exception {
        enqueue("bob@example.org", "alice@example.org", "too late", 10);
        var alice = store.accounts().find("alice@example.org").orElseThrow();
        List<QueuedMessage> claimed = store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10);
        store.accounts().removeUser("alice@example.org");
        List<LocalDelivery.Result> results = new LocalDelivery(store)
                .deliverAll(List.of(new LocalDelivery.Request(claimed.getFirst(), alice, "alice@example.org")));
        assertEquals(List.of(new LocalDelivery.Refused("550 5.1.1 <alice@example.org>: mailbox unavailable")), results);
        runner.deliver(claimed);
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10)); // the report
        assertBounced511();
    }

    private void assertBounced511() throws Exception {
        assertEquals(List.of(), store.queue().list(), "done with: not deferred, not retried");
        StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
        assertEquals(List.of("Undelivered Mail Returned to Sender"), subjects(bob));
        try (var view = bob.select(MailboxName.INBOX); var in = bob.openContent(view.messages().getFirst())) {
            String report = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(report.contains("Final-Recipient: rfc822; alice@example.org"), report);
            assertTrue(report.contains("Action: failed\r\nStatus: 5.1.1"), report);
        }
    }

    @Test
    void aRecipientThatAskedForSuccessNoticesGetsOneAndOnlyThen() throws Exception {
        // RFC 3461 §4.1: NOTIFY=SUCCESS,FAILURE asks for a notice on delivery; no NOTIFY asks for none
        enqueue("bob@example.org", new MailEnvelope.Recipient("alice@example.org", Optional.of("SUCCESS,FAILURE"),
                Optional.of("rfc822;alice@example.org")), "asked", 10);
        enqueue("bob@example.org", "alice@example.org", "not asked", 10);
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        assertEquals(List.of("asked", "not asked"), subjects(f.session()));
        StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
        assertEquals(List.of("Successful Mail Delivery Report"), subjects(bob));
        try (var view = bob.select(MailboxName.INBOX); var in = bob.openContent(view.messages().getFirst())) {
            String report = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(report.contains("Action: delivered\r\nStatus: 2.0.0"), report);
            assertTrue(report.contains("Original-Recipient: rfc822; alice@example.org"), report);
        }
    }

    /**
     * RFC 3461 §5.2.7: an alias that stands for one address elsewhere passes the sender's NOTIFY on
     * and reports nothing itself (the next hop will); one that expands to several says "expanded"
     * and its copies ask for no success notice of their own (the sender would get one per copy).
     */
    @Test
    void successNoticesForAliasesFollowRfc3461() throws Exception {
        store.accounts().addAlias("one@example.org", "someone@remote.test");
        store.accounts().addAlias("list@example.org", "alice@example.org");
        store.accounts().addAlias("list@example.org", "someone@remote.test");
        enqueue("bob@example.org", new MailEnvelope.Recipient("one@example.org", Optional.of("SUCCESS,FAILURE"),
                Optional.empty()), "to one", 10);
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        List<QueuedMessage> forwarded = store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10);
        assertEquals(1, forwarded.size());
        assertEquals(Optional.of("SUCCESS,FAILURE"), forwarded.getFirst().pending().getFirst().recipient().dsnNotify(),
                "the sender's request goes on with the one copy");
        StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
        assertEquals(List.of(), subjects(bob), "no notice from here: the next hop reports");
        store.queue().delete(forwarded.getFirst().id());

        enqueue("bob@example.org", new MailEnvelope.Recipient("list@example.org", Optional.of("SUCCESS,FAILURE"),
                Optional.empty()), "to the list", 10);
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        forwarded = store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10);
        List<QueuedMessage> copies = forwarded.stream().filter(q -> q.envelope().recipients().getFirst().address()
                .equals("someone@remote.test")).toList();
        assertEquals(1, copies.size(), "" + forwarded);
        assertEquals(Optional.of("FAILURE"), copies.getFirst().pending().getFirst().recipient().dsnNotify(),
                "the copy asks for no success notice of its own");
        runner.deliver(forwarded.stream().filter(q -> !copies.contains(q)).toList()); // the notice to bob
        assertEquals(List.of("Successful Mail Delivery Report"), subjects(bob));
        try (var view = bob.select(MailboxName.INBOX); var in = bob.openContent(view.messages().getFirst())) {
            String report = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(report.contains("Action: expanded\r\nStatus: 2.0.0"), report);
        }
    }

    /**
     * A message for a local account whose Sieve script redirects, and for a remote domain: the
     * redirect is queued with the local delivery's record, before the remote attempt, so the
     * retries of the remote recipient send it no second time.
     */
    @Test
    void aRedirectOfAMessageWithARemoteRecipientGoesOnceAcrossItsRetries() throws Exception {
        var alice = store.accounts().find("alice@example.org").orElseThrow();
        store.sieveScripts().put(alice.id(), "main", "require \"copy\"; redirect :copy \"bob@example.org\";",
                dev.mailstack.store.SieveLimits.defaults());
        store.sieveScripts().activate(alice.id(), "main");
        MessageSpool.Spooled m = TestMessages.spool(store, "From: <carol@example.org>\r\nSubject: both\r\n\r\nx\r\n");
        try {
            intake.accept(new MailEnvelope("carol@example.org", List.of(MailEnvelope.Recipient.of("alice@example.org"),
                    MailEnvelope.Recipient.of("someone@remote.test")), Optional.empty(), Optional.empty(), false, false,
                    Instant.now()), m);
        } finally {
            m.discard();
        }
        var original = store.queue().list().getFirst().id();
        int closed;
        try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort(); // nothing listens there once closed: the remote domain defers
        }
        QueueRunner deferring = new QueueRunner(store, QueueSettings.defaults("mx.example.org"), new LocalDelivery(store),
                new RemoteDelivery(store, new Router(Map.of("remote.test",
                        new dev.mailstack.mta.delivery.Route("127.0.0.1", closed)), Optional.empty(), null), "mx.example.org"),
                new MailCounters());
        deferring.useIntake(intake);
        for (int attempt = 0; attempt < 3; attempt++) {
            assertTrue(store.queue().retryNow(original));
            deferring.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
            var details = store.queue().details(original).orElseThrow();
            assertEquals(List.of("delivered", "pending"), details.recipients().stream().map(r -> r.state()).toList(),
                    "alice has it; the remote domain is deferred: " + details);
        }
        assertEquals(List.of(original), store.queue().list().stream().map(e -> e.id()).toList(),
                "the redirect was delivered on the way");
        assertEquals(List.of("both"), subjects(f.session()));
        assertEquals(List.of("both"), subjects(store.open(store.accounts().find("bob@example.org").orElseThrow().id())),
                "redirected once");
    }

    /** RFC 7352: two copies of one message in one batch (a list's and the sender's own): the second is the duplicate. */
    @Test
    void twoCopiesOfAMessageInOneBatchAreDuplicatesOfEachOther() throws Exception {
        var alice = store.accounts().find("alice@example.org").orElseThrow();
        store.sieveScripts().put(alice.id(), "main", "require [\"duplicate\", \"fileinto\", \"mailbox\"];"
                + " if duplicate { fileinto :create \"Dups\"; }",
                dev.mailstack.store.SieveLimits.defaults());
        store.sieveScripts().activate(alice.id(), "main");
        for (String via : List.of("direct", "list")) {
            MessageSpool.Spooled m = TestMessages.spool(store, "Message-ID: <one@example.org>\r\nSubject: " + via + "\r\n\r\nx\r\n");
            try {
                intake.accept(new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of("alice@example.org")),
                        Optional.empty(), Optional.empty(), false, false, Instant.now()), m);
            } finally {
                m.discard();
            }
        }
        List<QueuedMessage> batch = store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10);
        assertEquals(2, batch.size(), "one batch");
        runner.deliver(batch);
        assertEquals(List.of("direct"), subjects(f.session()));
        StoreSession session = f.session();
        try (var dups = session.select(new MailboxName("Dups"))) {
            assertEquals(1, dups.messages().size(), "the list's copy");
        }
    }

    /**
     * The same, with each copy in a batch of its own delivered at the same moment, as two queue
     * workers do: the account's deliveries take turns from the filter's run to the record of the IDs.
     */
    @Test
    void twoCopiesDeliveredAtTheSameMomentByTwoWorkersAreDuplicatesOfEachOther() throws Exception {
        var alice = store.accounts().find("alice@example.org").orElseThrow();
        store.sieveScripts().put(alice.id(), "main", "require [\"duplicate\", \"fileinto\", \"mailbox\"];"
                + " if duplicate { fileinto :create \"Dups\"; }", dev.mailstack.store.SieveLimits.defaults());
        store.sieveScripts().activate(alice.id(), "main");
        int pairs = 5;
        for (int p = 0; p < pairs; p++) {
            for (String via : List.of("direct", "list")) {
                MessageSpool.Spooled m = TestMessages.spool(store, "Message-ID: <pair" + p + "@example.org>\r\nSubject: "
                        + via + "\r\n\r\nx\r\n");
                try {
                    intake.accept(new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of("alice@example.org")),
                            Optional.empty(), Optional.empty(), false, false, Instant.now()), m);
                } finally {
                    m.discard();
                }
            }
        }
        List<QueuedMessage> claimed = store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 100);
        assertEquals(2 * pairs, claimed.size());
        for (int p = 0; p < pairs; p++) {
            var start = new java.util.concurrent.CountDownLatch(1);
            List<QueuedMessage> two = claimed.subList(2 * p, 2 * p + 2);
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> done = new ArrayList<>();
                for (QueuedMessage one : two) {
                    done.add(threads.submit(() -> {
                        start.await();
                        runner.deliver(List.of(one));
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> d : done) {
                    d.get();
                }
            }
        }
        StoreSession session = f.session();
        assertEquals(pairs, subjects(session).size(), "one copy of each pair in INBOX");
        try (var dups = session.select(new MailboxName("Dups"))) {
            assertEquals(pairs, dups.messages().size(), "the other in Dups");
        }
    }

    /** A runner whose remote deliveries go by {@code router}. */
    private QueueRunner runnerVia(Router router) {
        QueueRunner r = new QueueRunner(store, QueueSettings.defaults("mx.example.org"), new LocalDelivery(store),
                new RemoteDelivery(store, router, "mx.example.org"), new MailCounters());
        r.useIntake(intake);
        return r;
    }

    private dev.mailstack.store.QueueDetails.Recipient onlyRecipient() {
        assertEquals(1, store.queue().list().size(), "still queued, not recorded as delivered");
        return store.queue().details(store.queue().list().getFirst().id()).orElseThrow().recipients().getFirst();
    }

    /**
     * A next hop that answers MAIL with "199" (no SMTP reply: RFC 5321 §4.2 has 2 to 5 first):
     * the recipient used to be recorded as delivered, every code below 400 counting as success.
     * Now it waits for a retry, with the attempt counted.
     */
    @Test
    void aNextHopReplyThatIsNoSuccessLeavesTheRecipientToARetry() throws Exception {
        try (var peer = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (var s = peer.accept()) {
                    var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    var out = s.getOutputStream();
                    out.write("220 peer.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine(); // EHLO
                    out.write("250 peer.test\r\n".getBytes(StandardCharsets.US_ASCII));
                    in.readLine(); // MAIL
                    out.write("199 sure\r\n".getBytes(StandardCharsets.US_ASCII));
                    while (in.readLine() != null) {
                        // until the client hangs up
                    }
                } catch (java.io.IOException e) {
                    // the test is over
                }
            });
            enqueue("bob@example.org", "carol@remote.test", "out", 10);
            runnerVia(new Router(Map.of("remote.test", new dev.mailstack.mta.delivery.Route("127.0.0.1", peer.getLocalPort())),
                    Optional.empty(), null)).deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        }
        waitsForARetryAfterOneAttempt("451 4.5.0 ");
    }

    /** The only recipient is still pending, one attempt counted (so it expires after its lifetime as any other), with this reply. */
    private void waitsForARetryAfterOneAttempt(String replyStart) {
        var carol = onlyRecipient();
        assertEquals("pending", carol.state(), "" + carol);
        assertEquals(1, carol.attempts(), "" + carol);
        assertTrue(carol.lastReply().startsWith(replyStart), carol.lastReply());
    }

    /**
     * A bug that throws during a remote attempt (here a port out of range, which only the JDK's
     * socket address noticed) used to leave the message claimed, its attempt never recorded, so
     * it neither counted towards the retries nor ever expired. It is a temporary failure now.
     */
    @Test
    void aFaultDuringARemoteAttemptIsRecordedAsATemporaryFailure() throws Exception {
        enqueue("bob@example.org", "carol@[127.0.0.1]", "out", 10);
        runnerVia(new Router(Map.of(), Optional.empty(), null, 70_000))
                .deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
        waitsForARetryAfterOneAttempt("451 4.3.0 ");
    }

    /**
     * "451 4.4.5 no turn": our own per-destination limit (queue.destination_concurrency, here 1)
     * gave a delivery no turn, so nothing was tried. It used to count as a failed attempt, growing
     * the backoff; now the message is tried again shortly and no attempt is counted. The wait for
     * the turn is RemoteDelivery.TURN_WAIT, 10 s, which this test spends.
     */
    @Test
    void aDeliveryThatGotNoTurnAtItsDestinationIsTriedSoonWithoutCountingAnAttempt() throws Exception {
        java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (var peer = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (var s = peer.accept()) {
                    var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    var out = s.getOutputStream();
                    out.write("220 peer.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                    for (String line; (line = in.readLine()) != null; ) {
                        if (line.equals("DATA")) {
                            out.write("354 go ahead\r\n".getBytes(StandardCharsets.US_ASCII));
                            while (!".".equals(in.readLine())) {
                                // the message
                            }
                            holding.countDown(); // the turn is held until the test has seen the other message wait
                            release.await();
                        }
                        out.write((line.equals("QUIT") ? "221 bye\r\n" : "250 ok\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                } catch (java.io.IOException | InterruptedException e) {
                    // the test is over
                }
            });
            enqueue("bob@example.org", "carol@remote.test", "first", 10);
            enqueue("bob@example.org", "dave@remote.test", "second", 10);
            var router = new Router(Map.of("remote.test", new dev.mailstack.mta.delivery.Route("127.0.0.1", peer.getLocalPort())),
                    Optional.empty(), null);
            try (RemoteDelivery remote = new RemoteDelivery(store, router, "mx.example.org",
                    dev.mailstack.mta.delivery.SmtpTimeouts.rfc5321(), 1)) {
                QueueRunner oneAtATime = new QueueRunner(store, QueueSettings.defaults("mx.example.org"), new LocalDelivery(store),
                        remote, new MailCounters());
                oneAtATime.useIntake(intake);
                var first = store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 1);
                Thread sending = Thread.ofVirtual().start(() -> oneAtATime.deliver(first));
                assertTrue(holding.await(10, java.util.concurrent.TimeUnit.SECONDS), "the first message holds the turn");
                Instant before = Instant.now();
                oneAtATime.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 1));
                var second = store.queue().list().stream().filter(e -> e.id().value() != first.getFirst().id().value())
                        .findFirst().orElseThrow();
                var dave = store.queue().details(second.id()).orElseThrow().recipients().getFirst();
                assertEquals("pending", dave.state(), "" + dave);
                assertEquals(0, dave.attempts(), "no attempt began, none is counted: " + dave);
                assertTrue(dave.lastReply().startsWith("451 4.4.5 no turn"), dave.lastReply());
                assertTrue(second.nextAttempt().isBefore(before.plus(java.time.Duration.ofMinutes(2))),
                        "tried again shortly, not after the backoff: " + second.nextAttempt());
                release.countDown();
                assertTrue(sending.join(java.time.Duration.ofSeconds(10)), "the first message's delivery ends");
            } finally {
                release.countDown();
            }
        }
    }
}

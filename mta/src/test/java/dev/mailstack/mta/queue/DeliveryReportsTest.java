package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.TestMessages;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reports the queue sends its senders (RFC 3464, with RFC 3461's ENVID, RET and NOTIFY): a
 * delay warning once past queue.delay_warning_hours, a bounce when a message outlives
 * queue.max_lifetime_hours. The next hop is a closed port, so every attempt is deferred.
 */
class DeliveryReportsTest {
    @TempDir
    Path dir;
    StoreFixture f;
    MailboxStore store;
    QueueRunner runner;
    QueueIntake intake;
    /** The mail server of utf8.test, whose users have internationalized addresses. */
    ServerSocket utf8Server;

    @BeforeEach
    void open() throws Exception {
        f = StoreFixture.create(dir);
        store = f.store();
        store.accounts().addUser("bob@example.org", PasswordScheme.hash("secret"));
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        utf8Server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        MailCounters counters = new MailCounters();
        runner = new QueueRunner(store, QueueSettings.defaults("mx.example.org"), new LocalDelivery(store),
                new RemoteDelivery(store, new Router(Map.of("remote.test", new Route("127.0.0.1", closed),
                        "utf8.test", new Route("127.0.0.1", utf8Server.getLocalPort())), Optional.empty(),
                        null), "mx.example.org"), counters);
        intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { }, counters);
        runner.useIntake(intake);
    }

    @AfterEach
    void close() throws Exception {
        utf8Server.close();
        f.close();
    }

    /** From bob to carol@remote.test, received {@code age} ago. */
    private QueueId send(Duration age, Optional<String> ret, Optional<String> notify) throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(store,
                "From: <bob@example.org>\r\nSubject: the original\r\n\r\nthe secret body\r\n");
        try {
            return intake.accept(new MailEnvelope("bob@example.org",
                    List.of(new MailEnvelope.Recipient("carol@remote.test", notify, Optional.of("rfc822;carol@remote.test"))),
                    Optional.of("env-42"), ret, false, false, Instant.now().minus(age)), m);
        } finally {
            m.discard();
        }
    }

    /** One pass of the runner over everything due now. */
    private void pass() {
        runner.deliver(store.queue().claimDue(Instant.now(), QueueSettings.defaults("x").lease(), 10));
    }

    private List<String> bobsMail() throws Exception {
        StoreSession bob = store.open(store.accounts().find("bob@example.org").orElseThrow().id());
        List<String> out = new ArrayList<>();
        try (var view = bob.select(MailboxName.INBOX)) {
            for (MessageRef ref : view.messages()) {
                try (InputStream in = bob.openContent(ref)) {
                    out.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    @Test
    void aDeferralPastTheWarningTimeTellsTheSenderOnce() throws Exception {
        QueueId id = send(Duration.ofHours(5), Optional.empty(), Optional.empty());
        pass(); // deferred; the warning is queued
        pass(); // the warning is delivered to bob
        List<String> mail = bobsMail();
        assertEquals(1, mail.size());
        String report = mail.getFirst();
        assertTrue(report.contains("Subject: Delayed Mail (still being retried)"), report);
        assertTrue(report.contains("Content-Type: multipart/report; report-type=delivery-status"), report);
        assertTrue(report.contains("Original-Envelope-Id: env-42"), "RFC 3464 §2.2.1: " + report);
        assertTrue(report.contains("Original-Recipient: rfc822; carol@remote.test"), report);
        assertTrue(report.contains("Action: delayed") && report.contains("Status: 4."), report);
        // no host answered (the port is closed): the reply is ours, of no SMTP server (RFC 3464 §2.3.6)
        assertTrue(report.contains("Diagnostic-Code: X-mailstack; 451 4.4.1 127.0.0.1:"), report);
        assertFalse(report.contains("Remote-MTA:"), report);
        assertTrue(report.contains("Return-Path: <>"), "reports go with the null sender: " + report);
        assertTrue(store.queue().retryNow(id));
        pass();
        pass();
        assertEquals(1, bobsMail().size(), "one warning, not one per attempt");
        assertEquals(1, store.queue().list().size(), "the message itself is still queued");
    }

    @Test
    void aMessagePastItsLifetimeBouncesWithItsHeaderOnlyUnlessRetIsFull() throws Exception {
        send(Duration.ofDays(6), Optional.of("HDRS"), Optional.empty());
        pass(); // the attempt fails and the message has outlived queue.max_lifetime_hours: a bounce
        pass();
        List<String> mail = bobsMail();
        assertEquals(1, mail.size());
        String bounce = mail.getFirst().replaceAll("\r\n[ \t]+", " "); // long lines folded (RFC 5322 §2.2.3)
        assertTrue(bounce.contains("Subject: Undelivered Mail Returned to Sender"), bounce);
        assertTrue(bounce.contains("Action: failed") && bounce.contains("gave up after 120 hours"), bounce);
        assertTrue(bounce.contains("Content-Type: text/rfc822-headers") && bounce.contains("Subject: the original"), bounce);
        assertTrue(!bounce.contains("the secret body"), "RET=HDRS: no body goes back: " + bounce);
        assertEquals(List.of(), store.queue().list(), "given up on: nothing left queued");

        send(Duration.ofDays(6), Optional.of("FULL"), Optional.empty());
        pass();
        pass();
        String full = bobsMail().get(1);
        assertTrue(full.contains("Content-Type: message/rfc822") && full.contains("the secret body"), full);
    }

    @Test
    void notifyNeverMeansNoReportAtAll() throws Exception {
        send(Duration.ofDays(6), Optional.empty(), Optional.of("NEVER"));
        send(Duration.ofHours(5), Optional.empty(), Optional.of("FAILURE"));
        pass();
        pass();
        assertEquals(List.of(), bobsMail(), "NEVER: no bounce; FAILURE only: no delay warning (RFC 3461 §4.1)");
        assertEquals(1, store.queue().list().size(), "the bounced one is gone, the delayed one waits");
    }

    @Test
    void aBounceToAnInternationalizedSenderGoesWithSmtpUtf8() throws Exception {
        List<String> heard = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CountDownLatch bounced = new java.util.concurrent.CountDownLatch(1);
        Thread.ofVirtual().start(() -> {
            try (java.net.Socket s = utf8Server.accept()) {
                dev.mailstack.net.LineReader in = new dev.mailstack.net.LineReader(s.getInputStream(), 8192);
                java.io.OutputStream out = s.getOutputStream();
                out.write("220 utf8.test ESMTP\r\n".getBytes(StandardCharsets.US_ASCII));
                boolean data = false;
                for (String line; (line = in.readLine()) != null; ) {
                    heard.add(line);
                    String reply = data ? line.equals(".") ? "250 2.0.0 queued" : null
                            : line.startsWith("EHLO") ? "250-utf8.test\r\n250-8BITMIME\r\n250 SMTPUTF8"
                            : line.equals("DATA") ? "354 go ahead" : line.equals("QUIT") ? "221 bye" : "250 ok";
                    data = data ? !line.equals(".") : line.equals("DATA");
                    if (reply != null) {
                        out.write((reply + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    if (line.equals(".")) {
                        bounced.countDown();
                    }
                }
            } catch (java.io.IOException e) {
                // the test is over
            }
        });
        MessageSpool.Spooled m = TestMessages.spool(store, "From: <jörg@utf8.test>\r\nSubject: the original\r\n\r\nbody\r\n");
        try {
            intake.accept(new MailEnvelope("jörg@utf8.test", List.of(MailEnvelope.Recipient.of("carol@remote.test")),
                    Optional.empty(), Optional.empty(), true, false, Instant.now().minus(Duration.ofDays(6))), m);
        } finally {
            m.discard();
        }
        pass(); // the attempt fails for good: a bounce to jörg is queued
        pass(); // the bounce goes to utf8.test
        assertTrue(bounced.await(10, java.util.concurrent.TimeUnit.SECONDS), "no bounce arrived: " + heard);
        assertTrue(heard.stream().anyMatch(l -> l.startsWith("MAIL FROM:<> ") && l.endsWith(" SMTPUTF8")),
                "RFC 6531 §3.4: " + heard);
        assertTrue(heard.contains("RCPT TO:<jörg@utf8.test>"), "" + heard);
        assertTrue(heard.contains("To: <jörg@utf8.test>"), "the header as it is, RFC 6532: " + heard);
    }
}

package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.mailstack.net.LineClient;
import dev.mailstack.server.ConfigKey;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import jakarta.mail.internet.MimeMessage;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two mailstacks on loopback relaying through a static route, and GreenMail as a remote MX. */
class RelayTest {
    @TempDir
    Path dir;

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Map<ConfigKey, String> routeTo(String domain, int port) {
        return Map.of(ConfigKey.STATIC_ROUTES, domain + "=127.0.0.1:" + port, ConfigKey.RETRY_INITIAL, "1",
                ConfigKey.RETRY_MAX, "1");
    }

    /** Sends as alice through A's submission port, the way a mail client does. */
    static void submit(RunningServer a, String to, String message) throws Exception {
        try (LineClient c = new LineClient(a.port("submission"))) {
            c.expect("220 .*");
            c.send("EHLO laptop");
            c.expectEventually("250 HELP");
            c.send("AUTH PLAIN " + Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8)))
                    .expect("235 .*");
            c.send("MAIL FROM:<alice@example.org> BODY=8BITMIME").expect("250 .*");
            c.send("RCPT TO:<" + to + ">").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendBytes((message + ".\r\n").getBytes(StandardCharsets.UTF_8)); // message ends with CRLF
            c.expect("250 2.0.0 Ok: queued as .*");
        }
    }

    static long count(RunningServer s, String user) {
        var account = s.server.store().accounts().find(user).orElseThrow();
        return s.server.store().open(account.id()).status(MailboxName.INBOX).messages();
    }

    private static String text(RunningServer s, String user, int index) throws Exception {
        var session = s.server.store().open(s.server.store().accounts().find(user).orElseThrow().id());
        MessageRef ref = session.select(MailboxName.INBOX).messages().get(index);
        try (InputStream in = session.openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void mailGoesFromAToBOnceAndFailuresBounceBack() throws Exception {
        try (RunningServer b = RunningServer.start(dir.resolve("b"), "example.net", Map.of())) {
            b.addUser("bob", "secret");
            try (RunningServer a2 = RunningServer.start(dir.resolve("a"), "example.org", routeTo("example.net", b.port("smtp")))) {
                a2.addUser("alice", "secret");
                submit(a2, "bob@example.net", "Subject: hello B\r\n\r\nacross servers\r\n");
                Await.until("bob receives", Duration.ofSeconds(20), () -> count(b, "bob@example.net") == 1);
                String got = text(b, "bob@example.net", 0);
                assertTrue(got.startsWith("Return-Path: <alice@example.org>\r\nReceived: from mx.example.org"), got);
                assertEquals(1, got.split("Return-Path:", -1).length - 1, "A does not pass its Return-Path on");
                assertTrue(got.contains("by mx.example.org (mailstack) with ESMTPA"), "A's trace header travels: " + got);

                submit(a2, "nobody@example.net", "Subject: to nobody\r\n\r\nwill bounce\r\n");
                Await.until("the bounce reaches alice", Duration.ofSeconds(20), () -> count(a2, "alice@example.org") == 1);
                String dsn = text(a2, "alice@example.org", 0);
                assertTrue(dsn.contains("Content-Type: multipart/report; report-type=delivery-status"), dsn);
                assertTrue(dsn.contains("Final-Recipient: rfc822; nobody@example.net"), dsn);
                assertTrue(dsn.contains("Action: failed") && dsn.contains("Status: 5.1.1"), dsn);
                // RFC 3464 §2.3.5 and §2.3.6: B's own reply, and B named as the host that gave it
                assertTrue(dsn.contains("Remote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: smtp; 550 5.1.1"), dsn);
                assertTrue(dsn.contains("<nobody@example.net>: host 127.0.0.1 said: 550 5.1.1"), dsn);
                assertTrue(dsn.contains("Return-Path: <>"), "reports go with the null sender: " + dsn);
                assertEquals(1, count(b, "bob@example.net"));
            }
        }
    }

    @Test
    void aTemporaryFailureIsRetriedAndDeliveredOnce() throws Exception {
        int bPort = freePort();
        try (RunningServer a = RunningServer.start(dir.resolve("a"), "example.org", routeTo("example.net", bPort))) {
            a.addUser("alice", "secret");
            submit(a, "bob@example.net", "Subject: retried\r\n\r\nB was down\r\n");
            Await.until("a deferral", Duration.ofSeconds(20),
                    () -> a.server.store().queue().list().stream().anyMatch(e -> e.lastReply() != null));
            assertTrue(a.server.store().queue().list().get(0).lastReply().contains("4.4.1"),
                    a.server.store().queue().list().get(0).lastReply());
            try (RunningServer b = RunningServer.startWithUsers(dir.resolve("b"), "example.net",
                    Map.of(ConfigKey.SMTP_PORT, Integer.toString(bPort)), "bob")) {
                Await.until("the retry delivers", Duration.ofSeconds(30), () -> count(b, "bob@example.net") == 1);
                Await.until("A's queue empties", Duration.ofSeconds(10), () -> a.server.store().queue().list().isEmpty());
                assertEquals(1, count(b, "bob@example.net"));
            }
        }
    }

    @Test
    void eightBitMailIsDowngradedForGreenMailAndKeepsItsChinese() throws Exception {
        GreenMail greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        greenMail.start();
        try (RunningServer a = RunningServer.start(dir.resolve("a"), "example.org",
                routeTo("greenmail.test", greenMail.getSmtp().getPort()))) {
            a.addUser("alice", "secret");
            submit(a, "carol@greenmail.test", "Subject: =?UTF-8?B?5rWL6K+V?=\r\nMIME-Version: 1.0\r\n"
                    + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n中文正文，经过降级。\r\n");
            assertTrue(greenMail.waitForIncomingEmail(20_000, 1));
            MimeMessage got = greenMail.getReceivedMessages()[0];
            assertEquals("测试", got.getSubject());
            assertEquals("中文正文，经过降级。\r\n", got.getContent());
            String encoding = got.getHeader("Content-Transfer-Encoding")[0];
            assertTrue(List.of("quoted-printable", "base64").contains(encoding), "7-bit on the wire: " + encoding);
        } finally {
            greenMail.stop();
        }
    }

    /**
     * DKIM end to end: alice's mail, sent after login, reaches GreenMail (no 8BITMIME) signed with
     * example.org's key, and the signature verifies there (Apache jDKIM, given the DNS record
     * dkim keygen printed): the 8-bit body was made 7-bit before signing, so the hop's lack of
     * 8BITMIME changed nothing signed.
     */
    @Test
    void submittedMailIsDkimSignedAndVerifiesAtTheNextHop() throws Exception {
        GreenMail greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        greenMail.start();
        dev.mailstack.mta.dkim.DkimKey key = dev.mailstack.mta.dkim.DkimKey.generate("example.org", "mailstack");
        key.write(dir.resolve("a/dkim/example.org/mailstack.pem"));
        try (RunningServer a = RunningServer.start(dir.resolve("a"), "example.org",
                routeTo("greenmail.test", greenMail.getSmtp().getPort()))) {
            a.addUser("alice", "secret");
            submit(a, "carol@greenmail.test", "From: Alice <alice@example.org>\r\nTo: carol@greenmail.test\r\n"
                    + "Subject: =?UTF-8?B?5rWL6K+V?=\r\nMIME-Version: 1.0\r\n"
                    + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n签名的中文正文。\r\n");
            assertTrue(greenMail.waitForIncomingEmail(20_000, 1));
            MimeMessage got = greenMail.getReceivedMessages()[0];
            assertEquals("签名的中文正文。\r\n", got.getContent());
            java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
            got.writeTo(raw);
            org.apache.james.jdkim.DKIMVerifier verifier = new org.apache.james.jdkim.DKIMVerifier((method, selector, domain) -> {
                assertEquals("mailstack._domainkey.example.org", selector + "._domainkey." + domain);
                return List.of(key.dnsText());
            });
            var valid = verifier.verify(new java.io.ByteArrayInputStream(raw.toByteArray()));
            assertTrue(valid != null && !valid.isEmpty(), "no valid signature: " + verifier.getResults() + "\n" + raw);
            assertEquals("example.org", valid.getFirst().getDToken().toString());
        } finally {
            greenMail.stop();
        }
    }

    @Test
    void afterASighupTheNextQueuedMessageGoesByTheNewStaticRoute() throws Exception {
        GreenMail before = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        GreenMail after = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        before.start();
        after.start();
        try (RunningServer a = RunningServer.start(dir.resolve("a"), "example.org",
                routeTo("greenmail.test", before.getSmtp().getPort()));
             LogCapture log = LogCapture.of(dev.mailstack.server.Server.class.getName())) {
            a.addUser("alice", "secret");
            submit(a, "carol@greenmail.test", "Subject: first\r\n\r\nby the route the server started with\r\n");
            assertTrue(before.waitForIncomingEmail(20_000, 1), "the first message never reached the first route");
            assertEquals("first", before.getReceivedMessages()[0].getSubject());

            a.reload(routeTo("greenmail.test", after.getSmtp().getPort()));
            assertTrue(log.lines().contains("reload: configuration applied changed=queue.static_routes"), "" + log.lines());
            submit(a, "carol@greenmail.test", "Subject: second\r\n\r\nby the route the reload gave\r\n");
            assertTrue(after.waitForIncomingEmail(20_000, 1), "the second message never reached the new route");
            assertEquals("second", after.getReceivedMessages()[0].getSubject());
            Await.until("A's queue empties", Duration.ofSeconds(10), () -> a.server.store().queue().list().isEmpty());
            assertEquals(1, before.getReceivedMessages().length, "the old route got the second message too");
        } finally {
            before.stop();
            after.stop();
        }
    }
}

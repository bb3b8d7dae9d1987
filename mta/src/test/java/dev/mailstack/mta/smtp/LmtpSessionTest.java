package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LMTP (RFC 2033) as Postfix's lmtp transport speaks it: pipelined, one reply per recipient after DATA. */
class LmtpSessionTest {
    @TempDir
    Path dir;
    MtaFixture mta;
    StoreSession bob;

    @BeforeEach
    void start() throws Exception {
        mta = MtaFixture.create(dir);
        var account = mta.store.store().accounts().addUser("bob@example.org", PasswordScheme.hash("pw"));
        bob = mta.store.store().open(account.id());
    }

    @AfterEach
    void stop() {
        mta.close();
    }

    @Test
    void aPipelinedTransactionGetsOneReplyPerAcceptedRecipientAndIsDelivered() throws Exception {
        try (LineClient c = new LineClient(mta.lmtp.port())) {
            c.expect("220 mx.example.org LMTP mailstack ready");
            c.send("LHLO postfix.example.org").expectEventually("250 HELP");
            // what Postfix sends in one write once PIPELINING is announced
            c.sendRaw("MAIL FROM:<carol@remote.test> BODY=8BITMIME SIZE=120\r\n"
                    + "RCPT TO:<alice@example.org>\r\n"
                    + "RCPT TO:<nobody@example.org>\r\n"
                    + "RCPT TO:<dave@remote.test>\r\n"
                    + "RCPT TO:<bob+lists@example.org>\r\n"
                    + "DATA\r\n");
            c.expect("250 .*");
            c.expect("250 .*");
            c.expect("550 5\\.1\\.1 .*");
            c.expect("550 5\\.1\\.1 Not a mailbox of this server: LMTP delivers to local mailboxes only");
            c.expect("250 .*");
            c.expect("354 .*");
            c.sendRaw("Received: from client.remote.test by postfix.example.org\r\n"
                    + "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=remote.test\r\n"
                    + "Subject: =?UTF-8?B?5L2g5aW9?=\r\n\r\nhello\r\n.\r\n");
            String first = c.expect("250 2\\.0\\.0 .*");
            String second = c.expect("250 2\\.0\\.0 .*");
            assertEquals(first, second, "one reply for alice, one for bob: the same queued message");
            c.send("QUIT").expect("221 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitMessages(bob, MailboxName.INBOX, 1);
        String text = text(bob, 0);
        assertTrue(text.contains("with LMTP id"), text);
        assertTrue(text.contains("Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=remote.test"),
                "the front MTA's results are kept, even in our name: " + text);
    }

    @Test
    void theCapabilitiesAreLmtpsAndSmtpGreetingsAndAuthAreRefused() throws Exception {
        try (LineClient c = new LineClient(mta.lmtp.port())) {
            c.expect("220 .*");
            c.send("EHLO postfix.example.org").expect("500 5\\.5\\.1 This is LMTP: say LHLO your\\.host\\.name");
            c.send("HELO postfix.example.org").expect("500 5\\.5\\.1 .*");
            c.send("MAIL FROM:<carol@remote.test>").expect("503 5\\.5\\.1 .*");
            c.send("LHLO postfix.example.org");
            StringBuilder caps = new StringBuilder();
            String line;
            do {
                line = c.expect("250[ -].*");
                caps.append(line).append('\n');
            } while (line.startsWith("250-"));
            for (String keyword : new String[]{"PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "DSN"}) {
                assertTrue(caps.toString().contains(keyword), caps.toString());
            }
            for (String keyword : new String[]{"AUTH", "STARTTLS", "CHUNKING"}) {
                assertFalse(caps.toString().contains(keyword), caps.toString());
            }
            c.send("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==").expect("503 5\\.5\\.1 No AUTH in LMTP.*");
            c.send("HELP").expect("214-2\\.0\\.0 mailstack LMTP .*");
            c.expectEventually("214 2\\.0\\.0 After the message.*");
            c.send("MAIL FROM:<carol@remote.test>").expect("250 .*");
        }
        try (LineClient c = new LineClient(mta.smtp.port())) {
            c.expect("220 .*ESMTP.*");
            c.send("LHLO postfix.example.org").expect("500 5\\.5\\.1 This is SMTP, not LMTP.*");
        }
    }

    /** RFC 2033 §4.2: a refusal of the message after DATA is repeated for every recipient too. */
    @Test
    void aMessageRefusedAfterDataIsRefusedOncePerRecipient() throws Exception {
        try (LineClient c = new LineClient(mta.lmtp.port())) {
            c.expect("220 .*");
            c.send("LHLO postfix.example.org").expectEventually("250 HELP");
            c.send("MAIL FROM:<carol@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<bob@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Received: from a by b\r\n".repeat(100) + "Subject: loop\r\n\r\nx\r\n.\r\n");
            c.expect("554 5\\.4\\.6 .*");
            c.expect("554 5\\.4\\.6 .*");
            c.send("NOOP").expect("250 .*"); // in step: exactly two replies came
        }
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
    }

    /** The greeting's gate (tests listen on loopback only, so the refusal itself is not reached here). */
    @Test
    void onlyThisMachineAndTrustedNetworksMayUseLmtp() throws Exception {
        var trusted = java.util.List.of(dev.mailstack.net.Cidr.parse("10.1.0.0/16"));
        assertTrue(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("127.0.0.1"), java.util.List.of()));
        assertTrue(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("::1"), java.util.List.of()));
        assertTrue(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("10.1.2.3"), trusted));
        assertFalse(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("10.2.2.3"), trusted));
        assertFalse(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("192.0.2.1"), java.util.List.of()));
    }

    private static String text(StoreSession session, int index) throws IOException {
        MessageRef ref = session.select(MailboxName.INBOX).messages().get(index);
        try (InputStream in = session.openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.mta.delivery.Route;
import dev.mailstack.mta.smtp.SmtpSettings;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An alias that forwards to another server, end to end between two MTAs on loopback: the forward
 * leaves from an SRS address of the alias's domain, and a bounce to that address finds its way
 * back to the original sender; a made-up SRS address is no one.
 */
class SrsForwardingTest {
    @TempDir
    Path dir;

    private static String inbox(MtaFixture mta, int index) throws IOException {
        MessageRef ref = mta.alice().select(MailboxName.INBOX).messages().get(index);
        try (InputStream in = mta.alice().openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void send(MtaFixture to, String from, String rcpt, String rcptReply) throws IOException {
        try (LineClient c = to.connect()) {
            c.expect("220 .*");
            c.send("EHLO client.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<" + from + ">").expect("250 .*");
            int space = rcpt.indexOf(' '); // "address PARAMETERS"
            c.send(space < 0 ? "RCPT TO:<" + rcpt + ">" : "RCPT TO:<" + rcpt.substring(0, space) + ">" + rcpt.substring(space))
                    .expect(rcptReply);
            if (rcptReply.startsWith("250")) {
                c.send("DATA").expect("354 .*");
                c.sendRaw("From: " + (from.isEmpty() ? "MAILER-DAEMON@next.test" : from) + "\r\nSubject: s\r\n\r\nhi\r\n.\r\n");
                c.expect("250 .*");
            }
        }
    }

    @Test
    void aForwardLeavesFromAnSrsAddressAndItsBounceGoesBackToTheSender() throws Exception {
        try (MtaFixture next = MtaFixture.create(dir.resolve("next"))) {
            // next.test is the forward's destination; sender.test, where the bounce goes, lands there too
            next.store.store().accounts().addDomain("next.test");
            next.store.store().accounts().addAlias("bob@next.test", "alice@example.org");
            next.store.store().accounts().addDomain("sender.test");
            next.store.store().accounts().addAlias("carol@sender.test", "alice@example.org");
            Route toNext = new Route("127.0.0.1", next.smtp.port());
            SenderRewriting srs = SenderRewriting.load(dir.resolve("srs"));
            try (MtaFixture front = new MtaFixture(dir.resolve("front"), Map.of("next.test", toNext, "sender.test", toNext),
                    SmtpSettings.mx("mx.forward.test").withSenderRewriting(srs), QueueSettings.defaults("mx.forward.test"))) {
                front.runner.useSenderRewriting(srs);
                front.store.store().accounts().addDomain("forward.test");
                front.store.store().accounts().addAlias("fwd@forward.test", "bob@next.test");

                send(front, "carol@sender.test", "fwd@forward.test", "250 .*");
                next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
                String forwarded = inbox(next, 0);
                Matcher m = Pattern.compile("^Return-Path: <(SRS0=[^>]+@forward\\.test)>").matcher(forwarded);
                assertTrue(m.find(), forwarded);
                assertTrue(m.group(1).contains("=sender.test=carol@"), m.group(1));

                send(front, "", m.group(1), "250 .*"); // the next server's bounce, relayed back to carol
                next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
                List<String> both = List.of(inbox(next, 0), inbox(next, 1));
                assertTrue(both.stream().anyMatch(t -> t.startsWith("Return-Path: <>") && t.contains("for <carol@sender.test>")),
                        "" + both);

                send(front, "", m.group(1).replaceFirst("=carol@", "=mallory@"), "550 5\\.1\\.1 .*");
                // only bounces go back: whoever saw the address must not send carol anything through us
                send(front, "spammer@spam.test", m.group(1), "550 5\\.1\\.1 .*");
                send(front, "x@spam.test", "carol@sender.test", "554 5\\.7\\.1 .*"); // still no open relay

                // a forward the next server refuses: our own bounce goes to carol, not to the SRS
                // address, and only when she asked for one (her NOTIFY goes with the forward)
                front.store.store().accounts().addAlias("lost@forward.test", "nobody@next.test");
                send(front, "carol@sender.test", "lost@forward.test NOTIFY=NEVER", "250 .*");
                front.awaitQueueEmpty();
                send(front, "carol@sender.test", "lost@forward.test", "250 .*");
                next.awaitMessages(next.alice(), MailboxName.INBOX, 3);
                front.awaitQueueEmpty();
                next.awaitQueueEmpty(); // a report for the first would be in by now
                String report = inbox(next, 2);
                assertTrue(report.startsWith("Return-Path: <>") && report.contains("multipart/report")
                        && report.contains("nobody@next.test") && report.contains("for <carol@sender.test>")
                        && report.contains("Original-Recipient: rfc822; lost@forward.test")
                        && report.contains("To: <carol@sender.test>"), report);
                assertEquals(3, next.alice().status(MailboxName.INBOX).messages(), "no report for NOTIFY=NEVER");
            }
        }
    }
}

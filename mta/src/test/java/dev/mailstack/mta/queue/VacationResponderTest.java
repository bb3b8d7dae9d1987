package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.Rfc2047;
import dev.mailstack.mime.TransferEncoding;
import dev.mailstack.mta.MtaFixture;
import dev.mailstack.mta.delivery.Route;
import dev.mailstack.mta.smtp.SmtpSettings;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.TestMessages;
import dev.mailstack.store.Vacation;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
 * Out-of-office replies end to end between two MTAs on loopback: alice@example.org is away at
 * "home"; mail from remote.test reaches her over SMTP, and her replies are routed to "peer", where
 * a catch-all puts everything for remote.test into peer's alice's INBOX. A message a rule keeps
 * from an answer is followed by one from a new sender that gets one, and once both queues are
 * empty the count of replies tells whether any other went out.
 */
class VacationResponderTest {
    private static final String SUBJECT = "不在办公室：休假中";
    private static final String BODY = "您好，\n我正在休假，3月10日回来。\nUrgent: call +86 10 1234 5678.";

    @TempDir
    Path dir;
    MtaFixture peer;
    MtaFixture home;

    @BeforeEach
    void start() throws IOException {
        peer = MtaFixture.create(dir.resolve("peer"));
        peer.store.store().accounts().addDomain("remote.test");
        peer.store.store().accounts().addAlias("@remote.test", "alice@example.org");
        home = new MtaFixture(dir.resolve("home"), Map.of("remote.test", new Route("127.0.0.1", peer.smtp.port())),
                SmtpSettings.mx("home.example.org"), QueueSettings.defaults("home.example.org")); // peer is mx.example.org
        away(Optional.empty());
    }

    @AfterEach
    void stop() {
        home.close();
        peer.close();
    }

    private void away(Optional<Instant> until) {
        home.store.store().accounts().setVacation("alice@example.org", Optional.of(new Vacation(SUBJECT, BODY, until)));
    }

    /** Sends {@code header} and a line of text from {@code from} ("" for the null sender) to {@code rcpt} at home. */
    private void send(String from, String rcpt, String header) throws IOException {
        try (LineClient c = home.connect()) {
            c.expect("220 .*");
            c.send("EHLO client.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<" + from + ">").expect("250 .*");
            c.send("RCPT TO:<" + rcpt + ">").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw(header + "\r\nhi\r\n.\r\n");
            c.expect("250 .*");
        }
    }

    private static String header(String from, String to, String id, String... more) {
        return "From: <" + from + ">\r\nTo: " + to + "\r\nSubject: Hello\r\nMessage-ID: <" + id + ">\r\n"
                + String.join("", List.of(more).stream().map(f -> f + "\r\n").toList());
    }

    private int homeInbox = 0;

    /**
     * A message to alice's INBOX at home; waits for it to be delivered there, and for its delivery
     * to be recorded: by then its reply, if any, is queued (the responder runs in between), so a
     * change to the vacation after this cannot reach it.
     */
    private void deliver(String from, String rcpt, String header) throws Exception {
        send(from, rcpt, header);
        home.awaitMessages(home.alice(), MailboxName.INBOX, ++homeInbox);
        home.awaitQueueEmpty();
    }

    /** Every reply peer got, once nothing is left in either queue. */
    private List<String> repliesOnceSettled(int expected) throws Exception {
        peer.awaitMessages(peer.alice(), MailboxName.INBOX, expected);
        home.awaitQueueEmpty(); // every reply handed to peer...
        peer.awaitQueueEmpty(); // ...and delivered there
        List<String> out = new ArrayList<>();
        for (MessageRef ref : peer.alice().select(MailboxName.INBOX).messages()) {
            try (InputStream in = peer.alice().openContent(ref)) {
                out.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** The first {@code name} field of the message's header, unfolded. */
    private static String field(String message, String name) {
        String header = message.substring(0, message.indexOf("\r\n\r\n")).replaceAll("\r\n[ \t]", " ");
        for (String line : header.split("\r\n")) {
            if (line.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
                return line.substring(name.length() + 1).strip();
            }
        }
        throw new AssertionError("no " + name + " in " + message);
    }

    @Test
    void aMessageToAliceGetsHerReplyOncePerSender() throws Exception {
        deliver("bob@remote.test", "alice@example.org", header("bob@remote.test", "Alice <alice@example.org>", "m1@remote.test"));
        List<String> replies = repliesOnceSettled(1);
        String reply = replies.getFirst();
        assertTrue(reply.startsWith("Return-Path: <>\r\n"), reply); // RFC 3834 §3.3: MAIL FROM:<>
        assertEquals("auto-replied", field(reply, "Auto-Submitted"));
        assertEquals("<m1@remote.test>", field(reply, "In-Reply-To"));
        assertEquals("<m1@remote.test>", field(reply, "References"));
        assertEquals("<alice@example.org>", field(reply, "From"));
        assertEquals("<bob@remote.test>", field(reply, "To"));
        assertTrue(field(reply, "Subject").startsWith("=?UTF-8?B?"), "RFC 2047-encoded");
        assertEquals(SUBJECT, Rfc2047.decode(field(reply, "Subject")));
        assertEquals("text/plain; charset=UTF-8", field(reply, "Content-Type"));
        assertEquals("quoted-printable", field(reply, "Content-Transfer-Encoding"));
        byte[] body = reply.substring(reply.indexOf("\r\n\r\n") + 4).getBytes(StandardCharsets.US_ASCII);
        assertEquals(BODY.replace("\n", "\r\n") + "\r\n",
                new String(TransferEncoding.quotedPrintable(body, 0, body.length, false), StandardCharsets.UTF_8));

        // the same sender again: delivered, not answered; then a new sender, with alice's address
        // tagged and in other case in both the envelope and To, is
        deliver("bob@remote.test", "alice@example.org", header("bob@remote.test", "alice@example.org", "m2@remote.test"));
        deliver("carol@remote.test", "alice+trips@example.org",
                header("carol@remote.test", "\"Alice\" <ALICE+trips@Example.ORG>", "m3@remote.test",
                        "References: <m0@remote.test>"));
        replies = repliesOnceSettled(2);
        assertEquals(2, replies.size(), "" + replies);
        assertEquals("<carol@remote.test>", field(replies.get(1), "To"));
        assertEquals("<m0@remote.test> <m3@remote.test>", field(replies.get(1), "References"));
    }

    /**
     * RFC 5293 §7: a script's vacation reads the header as the script's edits left it, as Pigeonhole
     * does: a Precedence: bulk it adds keeps the reply from going (RFC 3834 §3.1.8), and the reply's
     * In-Reply-To names the Message-ID the script wrote.
     */
    @Test
    void theScriptsVacationReadsTheHeaderAsItsEditsLeftIt() throws Exception {
        home.store.store().sieveScripts().put(home.store.user().id(), "main", """
                require ["vacation", "editheader"];
                if header :contains "subject" "newsletter" { addheader "Precedence" "bulk"; }
                if header :contains "subject" "renumber" { deleteheader "message-id"; addheader "Message-ID" "<new@example.org>"; }
                addheader "Auto-Submitted" "no";
                vacation :subject "Away" "Back on Monday.";
                """, dev.mailstack.store.SieveLimits.defaults());
        home.store.store().sieveScripts().activate(home.store.user().id(), "main");
        deliver("bob@remote.test", "alice@example.org", "From: <bob@remote.test>\r\nTo: alice@example.org\r\n"
                + "Subject: Our newsletter\r\nMessage-ID: <n1@remote.test>\r\n");
        deliver("carol@remote.test", "alice@example.org", "From: <carol@remote.test>\r\nTo: alice@example.org\r\n"
                + "Subject: renumber me\r\nMessage-ID: <c1@remote.test>\r\n");
        // the added "Auto-Submitted: no" cannot hide the message's own (RFC 3834 §2: never answer a program)
        deliver("robot@remote.test", "alice@example.org", "From: <robot@remote.test>\r\nTo: alice@example.org\r\n"
                + "Subject: out of office\r\nAuto-Submitted: auto-replied\r\n");
        List<String> replies = repliesOnceSettled(1);
        assertEquals(1, replies.size(), "no reply to what the script marked as bulk, nor to an auto-reply: " + replies);
        assertEquals("<carol@remote.test>", field(replies.getFirst(), "To"));
        assertEquals("Away", field(replies.getFirst(), "Subject"));
        assertEquals("<new@example.org>", field(replies.getFirst(), "In-Reply-To"));
    }

    @Test
    void listsProgramsBccAndTheNullSenderGetNoReply() throws Exception {
        deliver("erin@remote.test", "alice@example.org", header("erin@remote.test", "alice@example.org", "l1@remote.test",
                "List-Id: Trips <trips.remote.test>"));
        deliver("frank@remote.test", "alice@example.org", header("frank@remote.test", "alice@example.org", "l2@remote.test",
                "Auto-Submitted: auto-generated"));
        deliver("grace@remote.test", "alice@example.org", header("grace@remote.test", "alice@example.org", "l3@remote.test",
                "Precedence: bulk"));
        deliver("heidi@remote.test", "alice@example.org", header("heidi@remote.test", "team@remote.test", "l4@remote.test"));
        deliver("", "alice@example.org", header("MAILER-DAEMON@remote.test", "alice@example.org", "l5@remote.test"));
        deliver("owner-trips@remote.test", "alice@example.org",
                header("owner-trips@remote.test", "alice@example.org", "l6@remote.test"));
        deliver("trips-request@remote.test", "alice@example.org",
                header("trips-request@remote.test", "alice@example.org", "l7@remote.test"));
        deliver("ivan@remote.test", "alice@example.org", header("ivan@remote.test", "alice@example.org", "l8@remote.test",
                "List-Unsubscribe: <mailto:leave@remote.test>"));
        // marked as junk (the sender's domain asked for quarantine): into alice's Junk, unanswered
        MessageSpool.Spooled junk = TestMessages.spool(home.store.store(),
                header("judy@remote.test", "alice@example.org", "l9@remote.test") + "\r\nspam\r\n");
        try {
            home.store.store().queue().enqueue(new MailEnvelope("judy@remote.test", List.of(MailEnvelope.Recipient.of(
                    "alice@example.org")), Optional.empty(), Optional.empty(), false, false, Instant.now()).asJunk(),
                    junk, TestMessages.facts(junk));
        } finally {
            junk.discard();
        }
        home.runner.wake();
        home.awaitMessages(home.alice(), new MailboxName("Junk"), 1);

        deliver("mallory@remote.test", "alice@example.org",
                header("mallory@remote.test", "alice@example.org", "l10@remote.test", "Auto-Submitted: no"));
        List<String> replies = repliesOnceSettled(1);
        assertEquals(1, replies.size(), "" + replies);
        assertEquals("<mallory@remote.test>", field(replies.getFirst(), "To"), "Auto-Submitted: no is a person");
    }

    @Test
    void noReplyOnceTheVacationIsClearedOrOver() throws Exception {
        deliver("bob@remote.test", "alice@example.org", header("bob@remote.test", "alice@example.org", "o1@remote.test"));
        assertEquals(1, repliesOnceSettled(1).size());

        home.store.store().accounts().setVacation("alice@example.org", Optional.empty()); // user vacation --off
        deliver("carol@remote.test", "alice@example.org", header("carol@remote.test", "alice@example.org", "o2@remote.test"));
        away(Optional.of(Instant.now().minusSeconds(60))); // ended a minute ago
        deliver("dave@remote.test", "alice@example.org", header("dave@remote.test", "alice@example.org", "o3@remote.test"));

        away(Optional.of(Instant.now().plusSeconds(3600)));
        deliver("erin@remote.test", "alice@example.org", header("erin@remote.test", "alice@example.org", "o4@remote.test"));
        List<String> replies = repliesOnceSettled(2);
        assertEquals(2, replies.size(), "" + replies);
        assertEquals("<erin@remote.test>", field(replies.get(1), "To"));
        assertFalse(replies.stream().anyMatch(r -> r.contains("carol@remote.test") || r.contains("dave@remote.test")));
    }

    /**
     * A script's vacation action (RFC 5230): its :subject, its :addresses counted as alice's, its
     * :from refused when it is not hers, tracked under its :handle apart from the administrator's;
     * a script without one leaves the administrator's vacation answering.
     */
    @Test
    void aSieveVacationAnswersWithItsOwnSettings() throws Exception {
        var sieve = home.store.store().sieveScripts();
        var alice = home.store.user().id();
        sieve.put(alice, "away", """
                require ["vacation", "fileinto"];
                if header :contains "subject" "Trip" {
                    vacation :days 3 :subject "Re: your trip\r\nBcc: mallory@remote.test" :from "boss@example.org"
                        :addresses ["team@remote.test"] :handle "trips" "On the road, back soon.";
                }
                """, dev.mailstack.store.SieveLimits.defaults());
        sieve.activate(alice, "away");
        deliver("bob@remote.test", "alice@example.org", header("bob@remote.test", "team@remote.test", "s1@remote.test")
                .replace("Subject: Hello", "Subject: Trip plans"));
        List<String> replies = repliesOnceSettled(1);
        String reply = replies.getFirst();
        assertEquals("Re: your trip Bcc: mallory@remote.test", field(reply, "Subject"), "one line: no field smuggled in");
        assertEquals("<alice@example.org>", field(reply, "From"), "boss@ is not hers");
        String body = reply.substring(reply.indexOf("\r\n\r\n") + 4);
        assertEquals("On the road, back soon.\r\n", body);

        // the same sender, same handle: nothing; no vacation action: the administrator's answers
        deliver("bob@remote.test", "alice@example.org", header("bob@remote.test", "team@remote.test", "s2@remote.test")
                .replace("Subject: Hello", "Subject: Trip again"));
        deliver("bob@remote.test", "alice@example.org", header("bob@remote.test", "alice@example.org", "s3@remote.test"));
        replies = repliesOnceSettled(2);
        assertEquals(2, replies.size(), "" + replies);
        assertEquals(SUBJECT, Rfc2047.decode(field(replies.get(1), "Subject")));
    }

    /**
     * RFC 5230 §4.5: mail from one of the user's :addresses gets no reply; mail that names her only
     * in Resent-To gets one. A message id too long for a header line is left out of the reply's
     * In-Reply-To and References instead of making a line past 998 octets.
     */
    @Test
    void theUsersOtherAddressesGetNoReplyAndResentMailGetsOne() throws Exception {
        var sieve = home.store.store().sieveScripts();
        var alice = home.store.user().id();
        sieve.put(alice, "away", """
                require "vacation";
                vacation :addresses ["team@remote.test"] "Away.";
                """, dev.mailstack.store.SieveLimits.defaults());
        sieve.activate(alice, "away");
        deliver("team@remote.test", "alice@example.org", header("team@remote.test", "alice@example.org", "a1@remote.test"));
        String longId = "x".repeat(300) + "@remote.test";
        deliver("bob@remote.test", "alice@example.org", header("bob@remote.test", "friends@remote.test", longId,
                "Resent-To: alice@example.org"));
        List<String> replies = repliesOnceSettled(1);
        assertEquals(1, replies.size(), "" + replies);
        assertEquals("<bob@remote.test>", field(replies.getFirst(), "To"));
        String header = replies.getFirst().substring(0, replies.getFirst().indexOf("\r\n\r\n"));
        assertFalse(header.contains("In-Reply-To") || header.contains(longId), header);
    }

    /** RFC 5230 :mime: the reason's Content-* fields make the reply's entity; any other field it holds is dropped. */
    @Test
    void aMimeReasonBringsOnlyItsContentFields() {
        assertEquals("Content-Type: text/plain; charset=UTF-8\r\n\tformat=flowed\r\n\r\n不在\r\nback soon\r\n",
                VacationResponder.mimeEntity("From: ceo@example.org\nContent-Type: text/plain; charset=UTF-8\n\tformat=flowed\n"
                        + "Bcc: x@remote.test\n continued\n\n不在\nback soon\n"));
        assertEquals("\r\nno header here\r\n", VacationResponder.mimeEntity("no header here\n"));
    }
}

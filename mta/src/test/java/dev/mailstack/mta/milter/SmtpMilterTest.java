package dev.mailstack.mta.milter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.mta.queue.QueueSettings;
import dev.mailstack.mta.smtp.SmtpSettings;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Milters end to end: a real MTA on loopback, scripted milters on loopback, SMTP spoken as telnet would. */
class SmtpMilterTest {
    private static final String HOST = "mx.example.org";
    private static final int ALL_ACTIONS = MilterOptions.ADDHDRS | MilterOptions.CHGHDRS | MilterOptions.QUARANTINE;
    private static final int ENVELOPE_ACTIONS = MilterOptions.ADDRCPT | MilterOptions.ADDRCPT_PAR | MilterOptions.DELRCPT
            | MilterOptions.CHGFROM;
    @TempDir
    Path dir;
    private MtaFixture mta;
    private final List<TestMilter> milters = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        if (mta != null) {
            mta.close();
        }
        for (TestMilter m : milters) {
            m.close();
        }
    }

    private TestMilter milter(int actions, int protocol, Function<TestMilter.Received, List<byte[]>> script) throws IOException {
        TestMilter m = new TestMilter(actions, protocol, script);
        milters.add(m);
        return m;
    }

    private void start(MilterSettings.DefaultAction action, Duration timeout, String... addresses) throws IOException {
        MilterSettings settings = new MilterSettings(MilterAddress.parseList(String.join(",", addresses)), action,
                timeout, timeout, timeout, false);
        mta = new MtaFixture(dir.resolve("mta"), Map.of(), SmtpSettings.mx(HOST).withMilters(settings),
                QueueSettings.defaults(HOST));
        // a recipient we would take, so that only a milter refuses it
        mta.store.store().accounts().addAlias("spamtrap@example.org", "alice@example.org");
    }

    private void start(String... addresses) throws IOException {
        start(MilterSettings.DefaultAction.TEMPFAIL, Duration.ofSeconds(10), addresses);
    }

    private LineClient greeted() throws IOException {
        LineClient c = mta.connect();
        c.expect("220 .*");
        c.send("EHLO client.example.net").expectEventually("250 HELP");
        return c;
    }

    private static void send(LineClient c, String subject) throws IOException {
        c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
        c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        c.send("DATA").expect("354 .*");
        c.sendRaw("From: bob@example.net\r\nSubject: " + subject + "\r\n\r\nhello\r\n.\r\n");
    }

    private String text(MailboxName mailbox, int index) throws IOException {
        MessageRef ref = mta.alice().select(mailbox).messages().get(index);
        try (InputStream in = mta.alice().openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Sends a message that passes and waits for it: whatever was to be stored before it is there by then. */
    private void passAndAwait(int inboxCount) throws Exception {
        try (LineClient c = greeted()) {
            send(c, "marker");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, inboxCount);
        mta.awaitQueueEmpty();
    }

    @Test
    void negotiationOffersOnlyWhatIsImplementedAndEveryStepCarriesItsMacros() throws Exception {
        TestMilter m = milter(ALL_ACTIONS | ENVELOPE_ACTIONS | MilterOptions.CHGBODY, 0, r -> null);
        start(m.address());
        try (LineClient c = greeted()) {
            send(c, "hi");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
            c.send("QUIT").expect("221 .*");
        }
        TestMilter.Received optneg = m.await('O');
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(optneg.data());
        assertEquals(6, b.getInt());
        assertEquals(ALL_ACTIONS | ENVELOPE_ACTIONS, b.getInt(), "header, envelope changes and quarantine; no body changes");
        assertEquals(0, b.getInt() & MilterOptions.RCPT_REJ);
        m.await('Q');
        assertTrue(m.codes().matches("ODCHDMDRDTLLLDNBDEAQ"), m.codes());
        TestMilter.Received connect = m.received.stream().filter(r -> r.code() == 'C').findFirst().orElseThrow();
        assertEquals("[127.0.0.1]", connect.strings(0).get(0));
        assertEquals('4', (char) connect.data()[12]);
        Map<String, String> atConnect = m.macrosFor('C');
        assertEquals(HOST, atConnect.get("j"));
        assertEquals("127.0.0.1", atConnect.get("{client_addr}"));
        assertEquals("smtp", atConnect.get("{daemon_name}"));
        assertTrue(atConnect.containsKey("_") && atConnect.containsKey("{client_name}"), atConnect.toString());
        assertEquals("bob@example.net", m.macrosFor('M').get("{mail_addr}"));
        assertTrue(m.macrosFor('M').get("i").matches(".+\\.1"), m.macrosFor('M').toString());
        assertEquals("alice@example.org", m.macrosFor('R').get("{rcpt_addr}"));
        List<String> headers = new ArrayList<>();
        m.received.stream().filter(r -> r.code() == 'L').forEach(r -> headers.add(String.join(": ", r.strings(0))));
        assertTrue(headers.get(0).startsWith("Received: from client.example.net ([127.0.0.1])\n\tby " + HOST), headers.get(0));
        assertTrue(headers.contains("Subject: hi"), headers.toString());
        assertFalse(headers.stream().anyMatch(h -> h.startsWith("Return-Path")), headers.toString());
        TestMilter.Received body = m.received.stream().filter(r -> r.code() == 'B').findFirst().orElseThrow();
        assertEquals("hello\r\n", body.text());
    }

    @Test
    void skippedStepsAreNotSentAndUnansweredOnesNotAwaited() throws Exception {
        int protocol = MilterOptions.NOCONNECT | MilterOptions.NOHELO | MilterOptions.NOHDRS | MilterOptions.NOBODY
                | MilterOptions.NR_MAIL | MilterOptions.NR_RCPT | MilterOptions.NR_EOH | MilterOptions.NODATA;
        TestMilter m = milter(ALL_ACTIONS, protocol, r -> null); // answering MAIL anyway would shift every reply
        start(m.address());
        try (LineClient c = greeted()) {
            send(c, "hi");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        m.await('E');
        assertEquals("ODMDRDNDE", m.codes().substring(0, 9), m.codes());
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void aRejectAtRcptIsTheReplyToRcpt() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'R' && r.text().contains("spamtrap")
                ? List.of(TestMilter.reject()) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<spamtrap@example.org>").expect("550 5\\.7\\.1 Command rejected");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        }
        assertEquals(1, mta.counters.refusals(MailCounters.Refusal.MILTER));
    }

    @Test
    void aTempfailAtMailIsTheReplyToMail() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'M' ? List.of(TestMilter.progress(), TestMilter.tempfail()) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("451 4\\.7\\.1 Service unavailable - try again later");
            c.send("RCPT TO:<alice@example.org>").expect("503 .*"); // no transaction began
        }
        m.await('A'); // the milter is told the transaction is gone
    }

    @Test
    void aMultiLineReplyCodeIsPassedOn() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'R'
                ? List.of(TestMilter.replyCode("550-5.7.1 Listed at our trap\r\n550 5.7.1 See https://example.org/why")) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("550-5\\.7\\.1 Listed at our trap");
            c.expect("550 5\\.7\\.1 See https://example\\.org/why");
        }
    }

    @Test
    void aMalformedReplyCodeGetsTheDefaultAction() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'R' ? List.of(TestMilter.replyCode("250 2.0.0 fine")) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("451 4\\.3\\.5 Server configuration problem - try again later");
            c.send("MAIL FROM:<bob@example.net>").expect("503 .*"); // still in the transaction
            c.send("RSET").expect("250 .*");
            c.send("MAIL FROM:<bob@example.net>").expect("451 4\\.3\\.5 .*"); // the milter is gone for the session
        }
    }

    @Test
    void endOfDataRejectDiscardAndQuarantine() throws Exception {
        List<String> subject = new java.util.concurrent.CopyOnWriteArrayList<>();
        TestMilter decider = milter(ALL_ACTIONS, 0, r -> {
            if (r.code() == 'L' && r.strings(0).get(0).equals("Subject")) {
                subject.add(r.strings(0).get(1));
            }
            if (r.code() != 'E') {
                return null;
            }
            return switch (subject.getLast()) {
                case "virus" -> List.of(TestMilter.replyCode("554 5.7.1 Virus found: Eicar-Test-Signature"));
                case "drop" -> List.of(TestMilter.discard());
                case "spam" -> List.of(TestMilter.quarantine("rspamd: add header"), TestMilter.accept());
                default -> List.of(TestMilter.cont());
            };
        });
        start(decider.address());
        try (LineClient c = greeted()) {
            send(c, "virus");
            c.expect("554 5\\.7\\.1 Virus found: Eicar-Test-Signature");
            send(c, "drop");
            c.expect("250 2\\.0\\.0 Ok: message accepted");
            send(c, "spam");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        MailboxName junk = new MailboxName("Junk");
        mta.awaitMessages(mta.alice(), junk, 1);
        assertTrue(text(junk, 0).contains("Subject: spam"));
        passAndAwait(1);
        assertTrue(text(MailboxName.INBOX, 0).contains("Subject: marker"), "neither the virus nor the dropped one");
        assertEquals(1, mta.counters.quarantines());
    }

    @Test
    void headerChangesAreInTheStoredMessage() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'E' ? List.of(
                TestMilter.addHeader("X-Spamd-Result", "default: False [1.20 / 15.00]\n\tR_SPF_NA(0.00)"),
                TestMilter.indexed('i', 1, "X-Inserted", "second"),
                TestMilter.indexed('m', 1, "Subject", "[SPAM] hi"),
                TestMilter.indexed('m', 1, "X-Remove-Me", ""),
                TestMilter.cont()) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("From: bob@example.net\r\nX-Remove-Me: yes\r\nSubject: hi\r\n\r\nhello\r\n.\r\n");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        String stored = text(MailboxName.INBOX, 0);
        assertTrue(stored.startsWith("Return-Path: <bob@example.net>\r\n"
                + "X-Spamd-Result: default: False [1.20 / 15.00]\r\n\tR_SPF_NA(0.00)\r\n"
                + "Received: from client.example.net"), stored);
        // index 1 of the header the milter saw: after our Received field, the added field not counted
        assertTrue(stored.contains("\r\nX-Inserted: second\r\nFrom: bob@example.net\r\n"), stored);
        assertTrue(stored.contains("\r\nSubject: [SPAM] hi\r\n"), stored);
        assertFalse(stored.contains("X-Remove-Me"), stored);
        assertTrue(stored.endsWith("\r\n\r\nhello\r\n"), stored);
    }

    @Test
    void aMilterThatIsDownTempfailsByDefault() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again: connecting is refused
        }
        start("inet:127.0.0.1:" + port);
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("451 4\\.3\\.5 Server configuration problem - try again later");
        }
    }

    @Test
    void aMilterThatIsDownIsSkippedWithAccept() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        start(MilterSettings.DefaultAction.ACCEPT, Duration.ofSeconds(10), "inet:127.0.0.1:" + port);
        passAndAwait(1);
    }

    @Test
    void aSilentMilterTimesOutAndRejectsWhenConfigured() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'M' ? List.of() : null); // never answers MAIL
        start(MilterSettings.DefaultAction.REJECT, Duration.ofMillis(300), m.address());
        try (LineClient c = greeted()) {
            long started = System.nanoTime();
            c.send("MAIL FROM:<bob@example.net>").expect("550 5\\.5\\.0 Service unavailable");
            assertTrue(System.nanoTime() - started >= Duration.ofMillis(300).toNanos());
        }
    }

    @Test
    void garbageAndOversizedRepliesAreProtocolErrors() throws Exception {
        TestMilter garbage = milter(ALL_ACTIONS, 0, r -> r.code() == 'R'
                ? List.of(TestMilter.packet('Z', "HTTP/1.1 400 Bad Request".getBytes(StandardCharsets.US_ASCII))) : null);
        TestMilter huge = milter(ALL_ACTIONS, 0, r -> r.code() == 'R'
                ? List.of(java.nio.ByteBuffer.allocate(5).putInt(MilterPacket.MAX_DATA + 2).put((byte) 'h').array()) : null);
        for (TestMilter m : List.of(garbage, huge)) {
            start(m.address());
            try (LineClient c = greeted()) {
                c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
                c.send("RCPT TO:<alice@example.org>").expect("451 4\\.3\\.5 .*");
                c.send("NOOP").expect("250 .*"); // the session goes on
            }
            mta.close();
            mta = null;
            dir = dir.resolve("next");
        }
    }

    @Test
    void rsetAbortsAndTwoMessagesGoThroughOneConnection() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RSET").expect("250 .*");
            m.await('A');
            send(c, "one");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
            send(c, "two");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
            c.send("QUIT").expect("221 .*");
        }
        m.await('Q');
        assertEquals(1, m.codes().chars().filter(ch -> ch == 'O').count(), "one milter connection: " + m.codes());
        assertEquals(2, m.codes().chars().filter(ch -> ch == 'E').count(), m.codes());
        assertTrue(m.codes().matches("ODCHDMA(DMDRDTL+DNBDEA){2}Q"), m.codes());
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
    }

    @Test
    void twoMiltersInOrderTheFirstRejectWinsAndHeaderChangesStack() throws Exception {
        TestMilter first = milter(ALL_ACTIONS, 0, r -> switch (r.code()) {
            case 'R' -> r.text().contains("trap") ? List.of(TestMilter.reject()) : null;
            case 'E' -> List.of(TestMilter.addHeader("X-First", "1"), TestMilter.cont());
            default -> null;
        });
        TestMilter second = milter(ALL_ACTIONS, 0, r -> r.code() == 'E'
                ? List.of(TestMilter.addHeader("X-Second", "2"), TestMilter.cont()) : null);
        start(first.address(), second.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<spamtrap@example.org>").expect("550 5\\.7\\.1 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: both\r\n\r\nhello\r\n.\r\n");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertTrue(text(MailboxName.INBOX, 0).startsWith("Return-Path: <bob@example.net>\r\nX-First: 1\r\nX-Second: 2\r\n"),
                text(MailboxName.INBOX, 0));
        second.await('E');
        long rcpts = second.received.stream().filter(r -> r.code() == 'R').count();
        assertEquals(1, rcpts, "the second milter never saw the recipient the first refused: " + second.codes());
    }

    /** Each milter's indexes count in the header it saw: a field another milter added on top is not one of them. */
    @Test
    void aChangeByIndexMeansTheFieldTheMilterSawNotOneAddedOnTop() throws Exception {
        TestMilter first = milter(ALL_ACTIONS, 0, r -> r.code() == 'E'
                ? List.of(TestMilter.addHeader("X-Spam-Flag", "YES"), TestMilter.cont()) : null);
        TestMilter second = milter(ALL_ACTIONS, 0, r -> r.code() == 'E'
                ? List.of(TestMilter.indexed('m', 1, "X-Spam-Flag", ""), TestMilter.cont()) : null);
        start(first.address(), second.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("X-Spam-Flag: NO\r\nSubject: forged flag\r\n\r\nhello\r\n.\r\n");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        String stored = text(MailboxName.INBOX, 0);
        assertTrue(stored.startsWith("Return-Path: <bob@example.net>\r\nX-Spam-Flag: YES\r\n"), stored);
        assertFalse(stored.contains("X-Spam-Flag: NO"), "the sender's forged one is the one removed: " + stored);
    }

    /** What a milter sent before it broke is applied to no message: not this one, not a later one. */
    @Test
    void aMilterThatBreaksAfterAHeaderChangeLeavesNoChangeBehind() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'E' ? List.of(TestMilter.addHeader("X-Partial", "1"),
                TestMilter.quarantine("half"), TestMilter.packet('Z', new byte[] {1})) : null);
        start(MilterSettings.DefaultAction.ACCEPT, Duration.ofSeconds(10), m.address());
        try (LineClient c = greeted()) {
            send(c, "one");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
            send(c, "two");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
        for (int i = 0; i < 2; i++) {
            assertFalse(text(MailboxName.INBOX, i).contains("X-Partial"), text(MailboxName.INBOX, i));
        }
        assertEquals(0, mta.alice().status(new MailboxName("Junk")).messages(), "nor its quarantine");
    }

    private Account bob() {
        return mta.store.store().accounts().addUser("bob@example.org", PasswordScheme.hash("secret"));
    }

    private StoreSession session(Account account) {
        return mta.store.store().open(account.id());
    }

    private static String text(StoreSession session, MailboxName mailbox, int index) throws IOException {
        MessageRef ref = session.select(mailbox).messages().get(index);
        try (InputStream in = session.openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** A milter that answers the end of each message with {@code replies}, then continue. */
    private TestMilter atEnd(byte[]... replies) throws IOException {
        List<byte[]> answer = new ArrayList<>(List.of(replies));
        answer.add(TestMilter.cont());
        return milter(ALL_ACTIONS | ENVELOPE_ACTIONS, 0, r -> r.code() == 'E' ? answer : null);
    }

    @Test
    void anAddedLocalRecipientGetsTheMessageAndAnUnknownOneIsLeftOut() throws Exception {
        TestMilter m = atEnd(TestMilter.strings('+', "<bob@example.org>"), TestMilter.strings('+', "nobody@example.org"));
        start(m.address());
        Account bob = bob();
        try (LineClient c = greeted()) {
            send(c, "copy to bob");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertTrue(text(session(bob), MailboxName.INBOX, 0).contains("Subject: copy to bob"));
        assertEquals(0, mta.counters.reports(), "no bounce for the unknown address the milter added");
    }

    @Test
    void deletingTheOnlyRecipientAcceptsTheMessageForNoOne() throws Exception {
        List<String> subject = new java.util.concurrent.CopyOnWriteArrayList<>();
        TestMilter m = milter(ALL_ACTIONS | ENVELOPE_ACTIONS, 0, r -> {
            if (r.code() == 'L' && r.strings(0).get(0).equals("Subject")) {
                subject.add(r.strings(0).get(1));
            }
            return r.code() == 'E' && subject.getLast().equals("drop")
                    ? List.of(TestMilter.strings('-', "<Alice@Example.ORG>"), TestMilter.cont()) : null;
        });
        start(m.address());
        try (LineClient c = greeted()) {
            send(c, "drop");
            c.expect("250 2\\.0\\.0 Ok: message accepted");
        }
        passAndAwait(1);
        assertTrue(text(MailboxName.INBOX, 0).contains("Subject: marker"), "only the marker arrived");
    }

    @Test
    void deletingOneOfTwoRecipientsLeavesTheOther() throws Exception {
        TestMilter m = atEnd(TestMilter.strings('-', "bob@example.org"));
        start(m.address());
        Account bob = bob();
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<carol@example.net>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<bob@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: for alice only\r\n\r\nhello\r\n.\r\n");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(0, session(bob).status(MailboxName.INBOX).messages());
    }

    /** Sends a message through a milter that answers its end with {@code replies}; the message as alice's INBOX got it. */
    private String storedThrough(byte[]... replies) throws Exception {
        TestMilter m = atEnd(replies);
        start(m.address());
        try (LineClient c = greeted()) {
            send(c, "new sender");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        return text(MailboxName.INBOX, 0);
    }

    @Test
    void aChangedSenderIsTheStoredReturnPath() throws Exception {
        String stored = storedThrough(TestMilter.strings('e', "<bounces@lists.example.net>", "RET=HDRS"));
        assertTrue(stored.startsWith("Return-Path: <bounces@lists.example.net>\r\nReceived: "), stored);
    }

    @Test
    void aMalformedAddedAddressIsAProtocolError() throws Exception {
        TestMilter m = atEnd(TestMilter.strings('+', "<bob@exa mple.org>"));
        start(m.address());
        try (LineClient c = greeted()) {
            send(c, "malformed");
            c.expect("451 4\\.3\\.5 Server configuration problem - try again later");
        }
    }

    @Test
    void anEnvelopeChangeThatWasNotNegotiatedIsAProtocolError() throws Exception {
        TestMilter m = milter(ALL_ACTIONS | MilterOptions.ADDRCPT, 0, r -> r.code() == 'E'
                ? List.of(TestMilter.strings('2', "<bob@example.org>", "NOTIFY=NEVER"), TestMilter.cont()) : null);
        start(MilterSettings.DefaultAction.ACCEPT, Duration.ofSeconds(10), m.address());
        Account bob = bob();
        try (LineClient c = greeted()) {
            send(c, "unasked");
            c.expect("250 2\\.0\\.0 Ok: queued as .*"); // accept: as if the milter were not there
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(0, session(bob).status(MailboxName.INBOX).messages());
    }

    /** Each milter saw the original envelope; the second's changes apply after the first's. */
    @Test
    void twoMiltersChangeTheEnvelopeInOrder() throws Exception {
        TestMilter first = atEnd(TestMilter.strings('+', "<bob@example.org>"), TestMilter.strings('e', "<first@example.net>"));
        TestMilter second = atEnd(TestMilter.strings('-', "<alice@example.org>"), TestMilter.strings('e', "<second@example.net>"));
        start(first.address(), second.address());
        Account bob = bob();
        try (LineClient c = greeted()) {
            send(c, "both");
            c.expect("250 2\\.0\\.0 Ok: queued as .*");
        }
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertTrue(text(session(bob), MailboxName.INBOX, 0).startsWith("Return-Path: <second@example.net>\r\n"));
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
        assertEquals(1, second.received.stream().filter(r -> r.code() == 'R').count(), "it saw only alice");
    }

    /** Header changes add up to at most a header's size (MilterSession.MAX_HEADER_BYTES): past it, a broken milter. */
    @Test
    void headerChangesPastAHeadersSizeAreAProtocolError() throws Exception {
        String big = "x".repeat(MilterSession.MAX_HEADER_BYTES / 2);
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'E' ? List.of(TestMilter.addHeader("X-A", big),
                TestMilter.addHeader("X-B", big), TestMilter.addHeader("X-C", big), TestMilter.cont()) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            send(c, "too much");
            c.expect("451 4\\.3\\.5 .*");
            c.send("NOOP").expect("250 .*"); // the session goes on
        }
        assertEquals(List.of(), mta.store.store().queue().list(), "nothing queued");
    }

    /** As Postfix's milter_default_action: after a milter broke at RCPT, nothing in that transaction gets past it unseen. */
    @Test
    void aMilterThatBreaksAtRcptRefusesTheRestOfTheTransaction() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'R' && r.text().contains("spamtrap")
                ? List.of(TestMilter.packet('Z', "garbage".getBytes(StandardCharsets.US_ASCII))) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<spamtrap@example.org>").expect("451 4\\.3\\.5 .*");
            c.send("RCPT TO:<alice+later@example.org>").expect("451 4\\.3\\.5 .*");
            c.send("DATA").expect("451 4\\.3\\.5 .*");
            c.send("NOOP").expect("250 .*");
        }
        assertEquals(List.of(), mta.store.store().queue().list(), "nothing queued");
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
    }

    @Test
    void a421FromAMilterClosesTheSession() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'R' ? List.of(TestMilter.replyCode("421 4.7.0 Go away")) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            // pipelined (RFC 2920), as MTAs send: the replies before the 421 and the 421 itself arrive
            c.sendRaw("MAIL FROM:<bob@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n");
            c.expect("250 .*");
            c.expect("421 4\\.7\\.0 Go away");
            assertEquals(null, c.readLine(), "RFC 5321 §3.8: the server closes the connection after 421");
        }
    }

    @Test
    void aMilterReplyIsMadeAsciiAndGetsAnEnhancedCode() throws Exception {
        TestMilter m = milter(ALL_ACTIONS, 0, r -> r.code() == 'R' ? List.of(TestMilter.replyCode("550 Zugriff f\u00fcr Sie verweigert")) : null);
        start(m.address());
        try (LineClient c = greeted()) {
            c.send("MAIL FROM:<bob@example.net>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("550 5\\.7\\.1 Zugriff f\\?r Sie verweigert");
        }
    }

    @Test
    void aSecondSenderChangeReplacesTheFirst() throws Exception {
        String stored = storedThrough(TestMilter.strings('e', "<first@lists.example.net>"),
                TestMilter.strings('e', "<second@lists.example.net>"));
        assertTrue(stored.startsWith("Return-Path: <second@lists.example.net>\r\n"), stored);
    }

    /** Each change costs a pass over the header when applied: their number is bounded, not only their octets. */
    @Test
    void moreHeaderChangesThanTheLimitAreAProtocolError() throws Exception {
        byte[][] many = new byte[MilterConnection.MAX_HEADER_CHANGES + 1][];
        java.util.Arrays.fill(many, TestMilter.addHeader("X-N", "n"));
        TestMilter m = atEnd(many);
        start(m.address());
        try (LineClient c = greeted()) {
            send(c, "too many changes");
            c.expect("451 4\\.3\\.5 .*");
        }
        assertEquals(List.of(), mta.store.store().queue().list(), "nothing queued");
    }

    /**
     * Modifications, each inside the timeout, do not hold the session for ever: the end of the
     * message gets as long as ten timeouts (MilterConnection.MAX_PROGRESS), as progress replies do.
     */
    @Test
    void aMilterTricklingChangesIsCutOffAfterTenTimeouts() throws Exception {
        byte[][] trickle = new byte[75][]; // 75 x 200 ms: 15 s, past the 10 s the end of the message may take
        java.util.Arrays.fill(trickle, TestMilter.addHeader("X-N", "n"));
        TestMilter m = atEnd(trickle);
        m.trickled = 'E';
        m.gap = Duration.ofMillis(200); // each change well inside the 1 s step timeout
        start(MilterSettings.DefaultAction.TEMPFAIL, Duration.ofSeconds(1), m.address());
        try (LineClient c = greeted()) {
            c.setTimeout(Duration.ofSeconds(30)); // the reply comes after ten step timeouts, by design
            long start = System.nanoTime();
            send(c, "trickled");
            c.expect("451 4\\.3\\.5 .*");
            long took = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(took >= 9000, "cut off by the whole exchange's limit, not a step's timeout: " + took + " ms");
        }
        assertEquals(List.of(), mta.store.store().queue().list(), "nothing queued");
    }
}

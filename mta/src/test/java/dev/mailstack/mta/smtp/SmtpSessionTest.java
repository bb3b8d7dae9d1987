package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.Trickle;
import dev.mailstack.net.TranscriptRunner;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmtpSessionTest {
    @TempDir
    Path dir;
    MtaFixture mta;

    @BeforeEach
    void start() throws IOException {
        mta = MtaFixture.create(dir);
    }

    @AfterEach
    void stop() {
        mta.close();
    }

    private String inboxText(int index) throws IOException {
        MessageRef ref = mta.alice().select(MailboxName.INBOX).messages().get(index);
        try (InputStream in = mta.alice().openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String plain(String user, String password) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aTelnetUserTypingBareLfDeliversToTheInbox() throws Exception {
        TranscriptRunner.run("/transcripts/telnet-lf.txt", port -> {
            try {
                return mta.connect();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        String text = inboxText(0);
        assertTrue(text.startsWith("Return-Path: <bob@remote.test>\r\nReceived: from laptop ([127.0.0.1])\r\n"), text);
        assertTrue(text.contains("Subject: typed by hand\r\n\r\nHello Alice,\r\n.leading dot\r\n"), text);
        assertFalse(text.contains("\n\n"), "every line ends in CRLF");
    }

    /**
     * A full mailbox is refused at RCPT (552 5.2.2), as Dovecot's quota-status service has Postfix
     * do, instead of taking the message and bouncing it later to a sender who may be forged; MAIL's
     * SIZE counts, and without it only a mailbox already full is refused.
     */
    @Test
    void aFullMailboxIsRefusedAtRcptRatherThanBouncedLater() throws Exception {
        mta.store.store().accounts().setQuota("alice@example.org", 10_000L);
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            c.send("MAIL FROM:<bob@remote.test> SIZE=20000").expect("250 2.1.0 .*");
            c.send("RCPT TO:<alice@example.org>").expect("552 5.2.2 <alice@example.org>: mailbox full");
            c.send("RSET").expect("250 .*");
            c.send("MAIL FROM:<bob@remote.test> SIZE=2000").expect("250 2.1.0 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 2.1.5 .*");
            c.send("RSET").expect("250 .*");
            mta.store.store().accounts().setQuota("alice@example.org", 0L);
            c.send("MAIL FROM:<bob@remote.test>").expect("250 2.1.0 .*");
            c.send("RCPT TO:<alice@example.org>").expect("552 5.2.2 .*");
            c.send("RCPT TO:<ghost@example.org>").expect("550 5.1.1 .*");
            // a script of the account's own may redirect or discard the mail: delivery decides
            var alice = mta.store.store().accounts().find("alice@example.org").orElseThrow();
            mta.store.store().sieveScripts().put(alice.id(), "main", "redirect \"bob@remote.test\";",
                    dev.mailstack.store.SieveLimits.defaults());
            mta.store.store().sieveScripts().activate(alice.id(), "main");
            c.send("RCPT TO:<alice@example.org>").expect("250 2.1.5 .*");
            c.send("QUIT").expect("221 .*");
        }
        assertEquals(0, mta.counters.reports(), "nothing was taken, so nothing bounces");
    }

    /**
     * store.min_free_bytes: below it MAIL gets 452 4.3.1 (RFC 1870 §6.1, as Postfix under
     * queue_minfree), counting a declared SIZE, and the session goes on; with room again mail is taken.
     */
    @Test
    void aNearlyFullDiskRefusesNewMailForNowAndTheSessionGoesOn() throws Exception {
        long free = mta.store.store().diskSpace().usable();
        try (LineClient c = mta.connectEhlo()) {
            // only the declared size takes it under the reserve (and would, unless 24 MB were freed meanwhile)
            mta.store.store().diskSpace().keepFree(free - 1_000_000);
            c.send("MAIL FROM:<bob@remote.test> SIZE=25000000").expect("452 4.3.1 Insufficient system storage: .*");
            mta.store.store().diskSpace().keepFree(Long.MAX_VALUE / 2);
            c.send("MAIL FROM:<bob@remote.test>").expect("452 4.3.1 .*");
            mta.store.store().diskSpace().keepFree(free / 2);
            c.send("MAIL FROM:<bob@remote.test> SIZE=1000").expect("250 2.1.0 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 2.1.5 .*");
            c.send("DATA").expect("354 .*");
            c.send("Subject: room again\r\n\r\nhello\r\n.").expect("250 2.0.0 .*");
            c.send("QUIT").expect("221 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void pipelinedCommandsGetTheirRepliesInOrder() throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO client.test");
            assertTrue(c.expectEventually("250 HELP").startsWith("250"));
            c.sendRaw("MAIL FROM:<bob@remote.test>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
                    + "RCPT TO:<alice+news@example.org>\r\nDATA\r\n");
            c.expect("250 2.1.0 .*");
            c.expect("250 2.1.5 .*");
            c.expect("550 5.1.1 .*");
            c.expect("250 2.1.5 .*");
            c.expect("354 .*");
            c.sendRaw("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n");
            c.expect("250 2.0.0 Ok: queued as Q[0-9A-F]+");
            c.expect("221 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, mta.alice().status(MailboxName.INBOX).messages(),
                "alice and alice+news are one mailbox: delivered once");
    }

    @Test
    void smugglingVariantsNeverEndTheMessage() throws Exception {
        for (String smuggle : List.of("\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\n", "\r\n.\r")) {
            try (LineClient c = mta.connect()) {
                c.expect("220 .*");
                c.send("HELO client.test").expect("250 .*");
                c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
                c.send("RCPT TO:<alice@example.org>").expect("250 .*");
                c.send("DATA").expect("354 .*");
                c.sendRaw("Subject: smuggle\r\n\r\nbefore" + smuggle
                        + "MAIL FROM:<evil@remote.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n\r\nsmuggled\r\n.\r\n");
                c.expect("250 2.0.0 Ok: queued as .*");
                c.send("QUIT").expect("221 .*");
            }
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 5);
        assertEquals(5, mta.alice().status(MailboxName.INBOX).messages(), "one message per session, nothing smuggled");
        for (int i = 0; i < 5; i++) {
            String text = inboxText(i);
            assertTrue(text.contains("MAIL FROM:<evil@remote.test>"), "the smuggled commands are message text: " + text);
            assertFalse(text.matches("(?s).*[^\r]\n.*") || text.matches("(?s).*\r[^\n].*"), "bare LF/CR normalised");
        }
    }

    /**
     * A line past the data limit is dropped, but how it ended still counts: after one ended by a
     * bare LF, ".\r\n" is content, as after any other line; after one ended by CRLF it is the end.
     */
    @Test
    void aDotAfterAnOverlongLineEndsTheMessageOnlyAfterCrlf() throws Exception {
        String overlong = "x".repeat(DataReader.MAX_LINE + 10);
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: carrier\r\n\r\n" + overlong + "\n.\r\n"
                    + "MAIL FROM:<ceo@bank.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"
                    + "Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n");
            c.expect("500 5.5.2 Line too long"); // the one reply, at the real end: nothing was read as commands
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: carrier\r\n\r\n" + overlong + "\r\n.\r\n");
            c.expect("500 5.5.2 Line too long");
            c.send("QUIT").expect("221 .*");
        }
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages(), "nothing smuggled, nothing accepted");
    }

    /** RFC 5321 §6.3: a message that has passed 100 hosts is going round in a loop; 99 is still mail. */
    @Test
    void aMessageWithAHundredHopsIsRefusedAsALoop() throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            for (int hops : List.of(100, 99)) {
                c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
                c.send("RCPT TO:<alice@example.org>").expect("250 .*");
                c.send("DATA").expect("354 .*");
                c.sendRaw("Received: from a by b; Sun, 6 Dec 2026 10:00:00 +0000\r\n".repeat(hops)
                        + "Subject: round and round\r\n\r\nx\r\n.\r\n");
                c.expect(hops == 100 ? "554 5.4.6 Too many hops \\(101 Received fields\\).*" : "250 2.0.0 .*");
            }
            c.send("QUIT").expect("221 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertEquals(1, mta.alice().status(MailboxName.INBOX).messages());
    }

    @Test
    void bareNewlinesAreRejectedWhenConfigured() throws Exception {
        mta.close();
        SmtpSettings strict = SmtpSettings.mx("mx.example.org");
        strict = new SmtpSettings(strict.hostname(), false, strict.maxMessageBytes(), strict.maxRecipients(),
                strict.maxErrors(), strict.plaintextAuth(), strict.trustedNetworks(), true);
        mta = new MtaFixture(dir.resolve("strict"), java.util.Map.of(), strict,
                dev.mailstack.mta.queue.QueueSettings.defaults("mx.example.org"));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: x\r\n\r\nbare\nline\r\n.\r\n").expect("550 5.5.2 .*");
            c.send("NOOP").expect("250 .*");
        }
    }

    /** RFC 6531 §3.3: with SMTPUTF8 an address is UTF-8; bytes that are not were taken as U+FFFD. */
    @Test
    void aCommandLineThatIsNotUtf8IsRefusedAndTheSessionGoesOn() throws Exception {
        try (LineClient c = mta.connectEhlo()) {
            c.sendBytes(new byte[]{'M', 'A', 'I', 'L', ' ', 'F', 'R', 'O', 'M', ':', '<', 'b', (byte) 0xFF, '@', 'r', '.', 't', 'e', 's', 't',
                '>', ' ', 'S', 'M', 'T', 'P', 'U', 'T', 'F', '8', '\r', '\n'});
            c.expect("500 5.5.2 Bad UTF-8 syntax");
            c.send("MAIL FROM:<b\u00fcb@remote.test> SMTPUTF8").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        }
    }

    /** RFC 1870 §4 size-value = 1*20DIGIT; RFC 3461 §4.1 NOTIFY items separated by single commas. */
    @Test
    void sizeAndNotifyValuesFollowTheirGrammar() throws Exception {
        try (LineClient c = mta.connectEhlo()) {
            c.send("MAIL FROM:<bob@remote.test> SIZE=-1").expect("501 5.5.4 Syntax: SIZE=.*");
            c.send("MAIL FROM:<bob@remote.test> SIZE=+5").expect("501 5.5.4 Syntax: SIZE=.*");
            c.send("MAIL FROM:<bob@remote.test> SIZE=" + "9".repeat(20)).expect("552 5.3.4 .*");
            c.send("MAIL FROM:<bob@remote.test> SIZE=" + "9".repeat(21)).expect("501 5.5.4 Syntax: SIZE=.*");
            c.send("MAIL FROM:<bob@remote.test> SIZE=00000000000000000120").expect("250 2.1.0 .*");
            c.send("RCPT TO:<alice@example.org> NOTIFY=SUCCESS,,").expect("501 5.5.4 .*NOTIFY.*");
            c.send("RCPT TO:<alice@example.org> NOTIFY=,FAILURE").expect("501 5.5.4 .*NOTIFY.*");
            c.send("RCPT TO:<alice@example.org> NOTIFY=SUCCESS,FAILURE").expect("250 2.1.5 .*");
        }
    }

    @Test
    void commandsInTheWrongOrderOrWithBadSyntaxGetClearErrors() throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("503 5.5.1 Say EHLO .*");
            c.send("HELO").expect("501 5.5.4 .*");
            c.send("EHLO client.test");
            c.expectEventually("250 HELP");
            c.send("RCPT TO:<alice@example.org>").expect("503 5.5.1 Need MAIL .*");
            c.send("DATA").expect("503 5.5.1 Need MAIL .*");
            c.send("MAIL FROM:bob").expect("501 5.1.3 .*");
            c.send("MAIL FROM:<bob@remote.test> FOO=1").expect("555 5.5.4 .*");
            c.send("MAIL FROM:<bob@remote.test> SIZE=999999999999").expect("552 5.3.4 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 2.1.0 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("503 5.5.1 .*");
            c.send("DATA").expect("554 5.5.1 No valid recipients");
            c.send("RCPT TO:<friend@remote.test>").expect("554 5.7.1 Relay access denied: .*");
            c.send("RCPT TO:<ghost@example.org>").expect("550 5.1.1 .*");
            c.send("RCPT TO:<用户@example.org>").expect("553 5.6.7 .*");
            c.send("WHAT").expect("500 5.5.2 .*");
            c.send("VRFY alice").expect("252 2.5.2 .*");
            c.send("HELP").expect("214-2.0.0 .*");
            c.expectEventually("214 2.0.0 End of HELP");
            c.send("RSET").expect("250 .*");
            c.send("NOOP whatever").expect("250 .*");
            c.send("QUIT").expect("221 .*");
            c.expectClosed();
        }
    }

    @Test
    void tooManyErrorsCloseTheSession() throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            for (int i = 0; i < 19; i++) {
                c.send("BOGUS").expect("500 .*");
            }
            c.send("BOGUS").expect("500 .*");
            c.expect("421 4.7.0 Too many errors.*");
            c.expectClosed();
        }
    }

    /** The MX again, taking messages of at most 1,000 octets, with {@code maxErrors}. */
    private void restartWithSmallMessages(int maxErrors) throws IOException {
        mta.close();
        SmtpSettings mx = SmtpSettings.mx("mx.example.org");
        SmtpSettings small = new SmtpSettings(mx.hostname(), false, 1000, mx.maxRecipients(), maxErrors,
                mx.plaintextAuth(), mx.trustedNetworks(), false);
        mta = new MtaFixture(dir.resolve("small"), java.util.Map.of(), small,
                dev.mailstack.mta.queue.QueueSettings.defaults("mx.example.org"));
    }

    @Test
    void oversizedMessagesAreReadToTheEndThenRefused() throws Exception {
        restartWithSmallMessages(SmtpSettings.mx("mx.example.org").maxErrors());
        try (LineClient c = mta.connectEhlo()) {
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: big\r\n\r\n" + "0123456789\r\n".repeat(200) + ".\r\n").expect("552 5.3.4 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
        }
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
    }

    /**
     * RFC 3030 §2: after a refused chunk the server "MUST be prepared to accept and discard" the
     * chunks pipelined behind it. Each is read and refused, but not counted as the client's error:
     * with three errors allowed, a message of many chunks ended the session with 421.
     */
    @Test
    void chunksPipelinedAfterARefusedOneAreDiscardedWithoutEndingTheSession() throws Exception {
        restartWithSmallMessages(3);
        try (LineClient c = mta.connectEhlo()) {
            String chunk = "x".repeat(598) + "\r\n";
            StringBuilder pipelined = new StringBuilder("MAIL FROM:<bob@remote.test>\r\nRCPT TO:<alice@example.org>\r\n");
            for (int i = 0; i < 6; i++) {
                pipelined.append("BDAT 600\r\n").append(chunk);
            }
            pipelined.append("BDAT 600 LAST\r\n").append(chunk);
            c.sendRaw(pipelined.toString());
            c.expect("250 .*");
            c.expect("250 .*");
            c.expect("250 2.0.0 Ok: 600 octets.*");
            c.expect("552 5.3.4 .*");
            for (int i = 0; i < 5; i++) {
                c.expect("503 5.5.1 .*");
            }
            c.sendRaw("BDAT 3 LAST\r\nabc").expect("503 5.5.1 .*"); // a new one, not pipelined behind the refusal: an error
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.sendRaw("BDAT 25 LAST\r\nSubject: small\r\n\r\nhello\r\n").expect("250 2.0.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
    }

    /** RFC 4954 §4: undecodable responses get 501; one over the line limit got no reply, the session closed. */
    @Test
    void malformedAndOverlongAuthResponsesAreAnsweredAndTheSessionGoesOn() throws Exception {
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop");
            c.expectEventually("250 HELP");
            c.send("AUTH PLAIN !!!!").expect("501 5.5.2 Cannot decode .*");
            c.send("AUTH PLAIN").expect("334 ");
            c.send("A".repeat(9000)).expect("500 5.5.6 Authentication response too long");
            c.send("AUTH LOGIN").expect("334 VXNlcm5hbWU6");
            c.send(Base64.getEncoder().encodeToString("alice@example.org".getBytes(StandardCharsets.UTF_8)))
                    .expect("334 UGFzc3dvcmQ6");
            c.send("x".repeat(9000)).expect("500 5.5.6 .*");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 2.7.0 .*");
        }
    }

    @Test
    void submissionNeedsAuthAndAuthenticatedUsersMayRelay() throws Exception {
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop");
            assertTrue(c.expectEventually("250[ -]AUTH PLAIN LOGIN|250 HELP").contains("AUTH"));
            c.expectEventually("250 HELP");
            c.send("MAIL FROM:<alice@example.org>").expect("530 5.7.0 .*");
            c.send("AUTH PLAIN " + plain("alice@example.org", "wrong")).expect("535 5.7.8 .*");
            c.send("AUTH LOGIN").expect("334 VXNlcm5hbWU6");
            c.send(Base64.getEncoder().encodeToString("alice@example.org".getBytes(StandardCharsets.UTF_8)))
                    .expect("334 UGFzc3dvcmQ6");
            c.send(Base64.getEncoder().encodeToString("secret".getBytes(StandardCharsets.UTF_8))).expect("235 2.7.0 .*");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("503 5.5.1 .*");
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<friend@remote.test>").expect("250 2.1.5 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 2.1.5 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: no date\r\n\r\nhi\r\n.\r\n").expect("250 2.0.0 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        String text = inboxText(0);
        assertTrue(text.contains("\r\nDate: "), "submission adds Date: " + text);
        assertTrue(text.contains("\r\nMessage-ID: <"), "submission adds Message-ID: " + text);
        assertTrue(text.contains("with ESMTPA id"), text);
    }

    /** smtp.max_recipients_per_hour: a logged-in account past its hour's recipients is told to come back later. */
    @Test
    void aLoggedInAccountPastItsHourlyRecipientsGets450UntilTheLimitIsRaised() throws Exception {
        mta.rates.limit(3);
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop").expectEventually("250 HELP");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 2.7.0 .*");
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice+a@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: one\r\n\r\nx\r\n.\r\n").expect("250 .*");
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice+b@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice+c@example.org>")
                    .expect("450 4.7.1 Too many recipients from this account in the last hour \\(at most 3\\); try again later");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: two\r\n\r\nx\r\n.\r\n").expect("250 .*"); // to the one recipient taken
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("450 4.7.1 .*");
            c.send("RSET").expect("250 .*");
            mta.rates.limit(0); // a SIGHUP with the limit off
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        }
        assertEquals(2, mta.counters.refusals(dev.mailstack.mta.queue.MailCounters.Refusal.RATE_LIMIT));
    }

    /** Another server delivering to our users is not a logged-in account: no hourly limit applies to it. */
    @Test
    void mailFromOtherServersIsNotCountedAgainstAnyAccount() throws Exception {
        mta.rates.limit(1);
        try (LineClient c = new LineClient(mta.smtp.port())) {
            c.expect("220 .*");
            c.send("EHLO mx.remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice+x@example.org>").expect("250 .*");
        }
    }

    /** mailstack user del: a submission session authenticated as the account sends no more mail as it. */
    @Test
    void deletingTheAccountEndsItsSubmissionSession() throws Exception {
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop").expectEventually("250 HELP");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 2.7.0 .*");
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            mta.store.store().accounts().removeUser("alice@example.org");
            c.expect("421 4.7.0 This account was deleted or disabled; closing the connection");
            c.expectClosed();
        }
    }

    /** RFC 3207 §4.2 forgets the login at STARTTLS: the watch on its account goes with it. */
    @Test
    void aLoginForgottenAtStartTlsNoLongerEndsTheSessionWhenItsAccountIsDeleted() throws Exception {
        mta.store.store().accounts().addUser("bob@example.org", dev.mailstack.store.PasswordScheme.hash("x"));
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop").expectEventually("250 HELP");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 2.7.0 .*");
            c.send("STARTTLS").expect("220 2.0.0 .*");
            c.startTls();
            c.send("EHLO laptop").expectEventually("250 HELP");
            c.send("AUTH PLAIN " + plain("bob@example.org", "x")).expect("235 2.7.0 .*");
            mta.store.store().accounts().removeUser("alice@example.org");
            c.send("MAIL FROM:<bob@example.org>").expect("250 .*"); // bob's session goes on
            mta.store.store().accounts().removeUser("bob@example.org");
            c.expect("421 4.7.0 This account was deleted or disabled; closing the connection");
        }
    }

    /**
     * CVE-2011-0411: a command pipelined after STARTTLS in the same packet is dropped, never run under
     * TLS; the 220 still goes out (it used to stay in the buffer, held back for the pipelined line,
     * and was lost with the plaintext writer, leaving both sides waiting).
     */
    @Test
    void aCommandPipelinedAfterStartTlsIsDroppedAndThe220StillComes() throws Exception {
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.setTimeout(java.time.Duration.ofSeconds(5));
            c.expect("220 .*");
            c.send("EHLO laptop").expectEventually("250 HELP");
            c.sendRaw("STARTTLS\r\nHELP\r\n").expect("220 2.0.0 .*");
            c.startTls();
            c.send("NOOP").expect("250 .*"); // HELP's 214 never comes
        }
    }

    @Test
    void startTlsThenAuthPlainWithInitialResponse() throws Exception {
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop");
            c.expectEventually("250 HELP");
            c.send("STARTTLS").expect("220 2.0.0 .*");
            c.startTls();
            c.send("MAIL FROM:<alice@example.org>").expect("503 5.5.1 .*");
            c.send("EHLO laptop");
            c.expectEventually("250 HELP");
            c.send("STARTTLS").expect("503 5.5.1 TLS already active");
            c.send("AUTH CRAM-MD5").expect("504 5.5.4 .*PLAIN or LOGIN");
            c.send("AUTH PLAIN").expect("334 ");
            c.send(plain("alice@example.org", "secret")).expect("235 .*");
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: tls\r\n\r\nx\r\n.\r\n").expect("250 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertTrue(inboxText(0).contains("with ESMTPSA id"));
    }

    @Test
    void bdatChunksMakeOneMessage() throws Exception {
        try (LineClient c = mta.connectEhlo()) {
            c.send("MAIL FROM:<bob@remote.test> BODY=BINARYMIME").expect("555 5.5.4 BODY=BINARYMIME is not supported.*");
            c.send("MAIL FROM:<bob@remote.test> BODY=8BITMIME").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.sendRaw("BDAT 21\r\nSubject: chunks\r\n\r\nab").expect("250 2.0.0 Ok: 21 octets.*");
            c.sendRaw("BDAT 4 LAST\r\ncd\r\n").expect("250 2.0.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertTrue(inboxText(0).endsWith("Subject: chunks\r\n\r\nabcd\r\n"), inboxText(0));
    }

    /** RFC 3030 §2: once a chunk is in, the envelope is closed; a late RCPT would read the first recipient's "for". */
    @Test
    void rcptAfterABdatChunkIsRefusedAndTheMessageGoesOn() throws Exception {
        try (LineClient c = mta.connectEhlo()) {
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.sendRaw("BDAT 21\r\nSubject: chunks\r\n\r\nab").expect("250 2.0.0 Ok: 21 octets.*");
            c.send("RCPT TO:<alice+late@example.org>").expect("503 5.5.1 RCPT cannot follow BDAT.*");
            c.sendRaw("BDAT 4 LAST\r\ncd\r\n").expect("250 2.0.0 Ok: queued as .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        String text = inboxText(0);
        assertTrue(text.contains("\tfor <alice@example.org>;") && text.endsWith("Subject: chunks\r\n\r\nabcd\r\n"), text);
    }

    /** A 1 s idle timeout and 100 bytes/s: Postfix's smtpd_min_data_rate, at a test's scale. */
    private void restartWithMinDataRate() throws IOException {
        mta.close();
        mta = MtaFixture.create(dir.resolve("rated"), new NetLimits(1024, Duration.ofSeconds(1), 10, 10).withMinDataRate(100));
    }

    /** Up to a transaction's 354 or to just before a BDAT chunk's octets, the client's line at a time. */
    private static void transaction(LineClient c) throws IOException {
        c.setTimeout(Duration.ofSeconds(8));
        c.expect("220 .*");
        c.send("EHLO client.test");
        c.expectEventually("250 HELP");
        c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
        c.send("RCPT TO:<alice@example.org>").expect("250 .*");
    }

    /**
     * A byte every 200 ms keeps each read inside the idle timeout, but is far under the minimum data
     * rate: the message's time runs out, the session ends as an idle one does, and nothing is queued.
     */
    @Test
    void aMessageTrickledUnderTheMinimumDataRateEndsWith421AndIsNotQueued() throws Exception {
        restartWithMinDataRate();
        try (LineClient c = mta.connect()) {
            transaction(c);
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: slow\r\n\r\n");
            assertTimedOut(c);
        }
        assertNothingQueued();
    }

    @Test
    void aBdatChunkTrickledUnderTheMinimumDataRateEndsWith421AndIsNotQueued() throws Exception {
        restartWithMinDataRate();
        try (LineClient c = mta.connect()) {
            transaction(c);
            c.sendRaw("BDAT 1000 LAST\r\nSubject: slow\r\n\r\n");
            assertTimedOut(c);
        }
        assertNothingQueued();
    }

    /**
     * An AUTH response (RFC 4954 §4) is a line of its own that must come whole within the idle
     * timeout, as a command line must: trickled, the session ends with the idle timeout's 421.
     */
    @Test
    void anAuthResponseTrickledEndsWith421() throws Exception {
        restartWithMinDataRate();
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.setTimeout(Duration.ofSeconds(8));
            c.expect("220 .*");
            c.send("EHLO laptop");
            c.expectEventually("250 HELP");
            c.send("AUTH LOGIN").expect("334 VXNlcm5hbWU6");
            assertTimedOut(c);
        }
    }

    /**
     * An AUTH exchange under way is part of one command, not a wait between two: a stop says 421 to
     * a session waiting for its next command at once (so it has looked at both), and to one in the
     * middle of AUTH only after the exchange is answered.
     */
    @Test
    void aStopLetsAnAuthExchangeUnderWayFinish() throws Exception {
        try (LineClient idle = new LineClient(mta.submission.port()); LineClient c = new LineClient(mta.submission.port())) {
            idle.expect("220 .*");
            c.expect("220 .*");
            c.send("EHLO laptop");
            c.expectEventually("250 HELP");
            c.send("AUTH LOGIN").expect("334 VXNlcm5hbWU6");
            c.send(Base64.getEncoder().encodeToString("alice@example.org".getBytes(StandardCharsets.UTF_8)))
                    .expect("334 UGFzc3dvcmQ6");
            java.util.concurrent.CompletableFuture<Void> stopping = java.util.concurrent.CompletableFuture.runAsync(
                    () -> mta.submission.shutdown(Duration.ofSeconds(20)));
            idle.expect("421 4\\.3\\.2 .*");
            c.send(Base64.getEncoder().encodeToString("secret".getBytes(StandardCharsets.UTF_8))).expect("235 2.7.0 .*");
            c.expect("421 4\\.3\\.2 .*");
            c.expectClosed();
            stopping.get(20, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /** Trickles until the server gives up, which it must within the idle timeout and a little. */
    private static void assertTimedOut(LineClient c) throws Exception {
        long start = System.nanoTime();
        Trickle trickle = Trickle.start(c::sendRaw, "x", Duration.ofMillis(200));
        try {
            c.expect("421 4\\.4\\.2 .*");
        } finally {
            trickle.close();
        }
        long took = System.nanoTime() - start;
        assertTrue(took < Duration.ofSeconds(3).toNanos(), "cut off only after " + took / 1_000_000 + " ms");
        c.expectClosed();
    }

    private void assertNothingQueued() throws IOException {
        // the session is over: an enqueue would have come before a 250, never after the 421
        assertTrue(mta.store.store().queue().list().isEmpty(), "nothing queued");
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
    }

    /**
     * Above the minimum rate a message may take several idle timeouts (here 3 s, slower than any
     * network) and pause for almost one: every byte gives time back.
     */
    @Test
    void aMessageAboveTheMinimumDataRateIsQueuedHoweverLongItTakes() throws Exception {
        restartWithMinDataRate();
        try (LineClient c = mta.connect()) {
            transaction(c);
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: steady\r\n\r\n");
            String line = "z".repeat(48) + "\r\n";
            for (int i = 0; i < 60; i++) {
                c.sendRaw(line);
                Thread.sleep(i == 30 ? 800 : 50); // 1,000 bytes/s, and once almost the idle timeout
            }
            c.sendRaw(".\r\n").expect("250 2.0.0 Ok: queued as .*");
            c.send("NOOP").expect("250 .*"); // and the session goes on
            c.send("QUIT").expect("221 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertTrue(inboxText(0).endsWith("z".repeat(48) + "\r\n"), "all of it");
    }

    @Test
    void twoLocalRecipientsShareOneStoredCopy() throws Exception {
        mta.store.store().accounts().addUser("bob@example.org", dev.mailstack.store.PasswordScheme.hash("x"));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            c.send("MAIL FROM:<carol@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<bob@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: both\r\n\r\nshared\r\n.\r\n").expect("250 .*");
        }
        var bob = mta.store.store().open(mta.store.store().accounts().find("bob@example.org").orElseThrow().id());
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitMessages(bob, MailboxName.INBOX, 1);
        assertEquals(mta.alice().select(MailboxName.INBOX).messages().get(0).content(),
                bob.select(MailboxName.INBOX).messages().get(0).content());
    }

    /**
     * smtp.sender_login_match: after login, MAIL FROM must deliver to the login's own account (its
     * address, an alias, a +tag form; the null sender passes); another user's address or a foreign
     * one gets 553 5.7.1 in Postfix's words and the session goes on. Off, anything goes as before.
     */
    @Test
    void withSenderLoginMatchALoginSendsOnlyAsItself() throws Exception {
        mta.close();
        SmtpSettings d = SmtpSettings.mx("mx.example.org");
        SmtpSettings strict = new SmtpSettings(d.hostname(), false, d.maxMessageBytes(), d.maxRecipients(), d.maxErrors(),
                d.plaintextAuth(), List.of(), false, DnsBlocklists.NONE, true, dev.mailstack.mta.inbound.InboundChecks.OFF,
                dev.mailstack.mta.queue.SenderRewriting.OFF);
        mta = new MtaFixture(dir.resolve("strict"), java.util.Map.of(), strict,
                dev.mailstack.mta.queue.QueueSettings.defaults("mx.example.org"));
        mta.store.store().accounts().addUser("bob@example.org", dev.mailstack.store.PasswordScheme.hash("x"));
        mta.store.store().accounts().addAlias("sales@example.org", "alice@example.org");
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop").expectEventually("250 HELP");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 .*");
            c.send("MAIL FROM:<bob@example.org>").expect(
                    "553 5\\.7\\.1 <bob@example\\.org>: Sender address rejected: not owned by user alice@example\\.org");
            c.send("MAIL FROM:<alice@gmail.test>").expect("553 5\\.7\\.1 .*");
            for (String mine : List.of("alice@example.org", "ALICE@example.org", "sales@example.org", "alice+lists@example.org", "")) {
                c.send("MAIL FROM:<" + mine + ">").expect("250 .*");
                c.send("RSET").expect("250 .*");
            }
        }
        try (LineClient c = mta.connect()) { // port 25 without a login: not this check's business
            c.expect("220 .*");
            c.send("EHLO remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@example.org>").expect("250 .*");
        }
    }

    /**
     * smtp.dnsbl: an MX client a blocklist names gets 554 5.7.1 at RCPT with the list's reason
     * (Postfix's reject_rbl_client), the list asked once per connection; postmaster stays reachable
     * (RFC 5321 §4.5.1); the same client after logging in is not asked about.
     */
    @Test
    void aBlocklistedClientIsRefusedAtRcptUnlessItLogsIn() throws Exception {
        mta.close();
        try (dev.mailstack.mta.delivery.LocalDnsServer dns = new dev.mailstack.mta.delivery.LocalDnsServer(java.util.Map.of(
                "1.0.0.127.bl.test", List.of(new dev.mailstack.mta.delivery.LocalDnsServer.A("127.0.0.2"),
                        new dev.mailstack.mta.delivery.LocalDnsServer.Txt("spam source"))))) {
            SmtpSettings d = SmtpSettings.mx("mx.example.org");
            SmtpSettings listed = new SmtpSettings(d.hostname(), false, d.maxMessageBytes(), d.maxRecipients(), d.maxErrors(),
                    d.plaintextAuth(), List.of(), false, new DnsBlocklists(List.of("bl.test"), dns.url()), false, dev.mailstack.mta.inbound.InboundChecks.OFF,
                dev.mailstack.mta.queue.SenderRewriting.OFF);
            mta = new MtaFixture(dir.resolve("listed"), java.util.Map.of(), listed,
                    dev.mailstack.mta.queue.QueueSettings.defaults("mx.example.org"));
            mta.store.store().accounts().addAlias("postmaster@example.org", "alice@example.org");
            try (LineClient c = mta.connect()) {
                c.expect("220 .*");
                c.send("EHLO spammer.test").expectEventually("250 HELP");
                c.send("MAIL FROM:<x@spammer.test>").expect("250 .*");
                c.send("RCPT TO:<alice@example.org>").expect(
                        "554 5\\.7\\.1 Service unavailable; client host \\[127\\.0\\.0\\.1\\] blocked using bl\\.test; spam source");
                c.send("RCPT TO:<alice+again@example.org>").expect("554 5\\.7\\.1 .*bl\\.test.*");
                c.send("RCPT TO:<postmaster@example.org>").expect("250 .*");
                c.send("RSET").expect("250 .*");
                c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 .*");
                c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
                c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            }
            assertEquals(1, dns.queries.stream().filter(q -> q.startsWith("1.0.0.127.bl.test/")).filter(q -> q.endsWith("/1")).count(),
                    "asked once, at the first RCPT, for both refusals: " + dns.queries);
        }
    }

    @Test
    void dsnParametersLimitsAndAuthRefusalsGetTheirOwnReplies() throws Exception {
        mta.close();
        SmtpSettings d = SmtpSettings.mx("mx.example.org");
        SmtpSettings strict = new SmtpSettings(d.hostname(), false, d.maxMessageBytes(), 2, d.maxErrors(),
                dev.mailstack.net.PlaintextAuth.NEVER, List.of(dev.mailstack.net.Cidr.parse("127.0.0.0/8")), false);
        java.util.Map<String, dev.mailstack.mta.delivery.Route> nowhere =
                java.util.Map.of("remote.test", new dev.mailstack.mta.delivery.Route("127.0.0.1", 9)); // never delivered
        mta = new MtaFixture(dir.resolve("strict"), nowhere, strict,
                dev.mailstack.mta.queue.QueueSettings.defaults("mx.example.org"));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO client.test");
            List<String> ehlo = new java.util.ArrayList<>();
            for (String line = c.readLine(); !line.equals("250 HELP"); line = c.readLine()) {
                ehlo.add(line);
            }
            assertTrue(ehlo.contains("250-CHUNKING") && ehlo.stream().noneMatch(l -> l.contains("BINARYMIME")), "" + ehlo);
            assertTrue(ehlo.stream().noneMatch(l -> l.contains("AUTH")), "no AUTH offered in plaintext: " + ehlo);
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("538 5.7.11 .*");
            c.send("MAIL FROM:<bob@remote.test> BODY=BINARYMIME").expect("555 5.5.4 .*");
            c.send("MAIL FROM:<bob@remote.test> ENVID=" + "x".repeat(101)).expect("501 5.5.4 .*ENVID.*");
            c.send("MAIL FROM:<bob@remote.test> ENVID=a=b").expect("501 5.5.4 .*");
            c.send("MAIL FROM:<bob@remote.test> ENVID=a+2").expect("501 5.5.4 .*");
            c.send("MAIL FROM:<bob@remote.test> ENVID=QQ+2Bid RET=HDRS").expect("250 .*");
            c.send("RCPT TO:<alice@example.org> ORCPT=rfc822;a=b").expect("501 5.5.4 .*ORCPT.*");
            c.send("RCPT TO:<alice@example.org> ORCPT=rfc822;" + "a".repeat(500)).expect("501 5.5.4 .*");
            c.send("RCPT TO:<alice@example.org> NOTIFY=SUCCESS,NEVER").expect("501 5.5.4 .*NOTIFY.*");
            // longer than the column kept for it until repeated items were dropped: then DATA got a 451
            c.send("RCPT TO:<alice@example.org> NOTIFY=DELAY,SUCCESS,SUCCESS,SUCCESS,DELAY,FAILURE,SUCCESS"
                    + " ORCPT=rfc822;alice+40example.org").expect("250 .*");
            c.send("RCPT TO:<friend@remote.test>").expect("250 .*"); // a trusted network may relay
            c.send("RCPT TO:<third@example.org>").expect("452 4.5.3 Too many recipients");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: dsn\r\n\r\nx\r\n.\r\n").expect("250 2.0.0 Ok: queued as .*");
            c.send("MAIL FROM:<bob@remote.test> SMTPUTF8").expect("250 .*");
            c.send("RCPT TO:<用户@example.org>").expect("550 5.1.1 .*"); // UTF-8 is an address now, just not ours
            c.send("NOOP " + "x".repeat(9000)).expect("500 5.5.2 Line too long");
            c.send("NOOP").expect("250 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void anSmtpUtf8MessageKeepsItsUtf8HeaderAndMailWithoutItGetsEncodedWords() throws Exception {
        try (LineClient c = mta.connectEhlo()) {
            c.send("MAIL FROM:<bob@remote.test> SMTPUTF8").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendBytes("Subject: 测试\r\n\r\n中文\r\n.\r\n".getBytes(StandardCharsets.UTF_8));
            c.expect("250 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendBytes("Subject: 测试\r\n\r\n中文\r\n.\r\n".getBytes(StandardCharsets.UTF_8));
            c.expect("250 .*");
            // SMTPUTF8 claimed, GBK sent: labelled like any unlabelled 8-bit mail
            c.send("MAIL FROM:<bob@remote.test> SMTPUTF8").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendBytes("Subject: gbk\r\n\r\n中文\r\n.\r\n".getBytes(java.nio.charset.Charset.forName("GBK")));
            c.expect("250 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 3);
        // the queue delivers in no fixed order: each kind once, in any of the three
        List<String> texts = List.of(inboxText(0), inboxText(1), inboxText(2));
        assertEquals(1, texts.stream().filter(t -> t.contains("\r\nSubject: 测试\r\n\r\n中文\r\n")).count(),
                "RFC 6532, unchanged: " + texts);
        assertEquals(1, texts.stream().filter(t -> t.contains("Subject: =?UTF-8?")).count(),
                "labelled for readers without SMTPUTF8: " + texts);
        assertEquals(1, texts.stream().filter(t -> t.contains("charset=GB18030")).count(),
                "not UTF-8 whatever the envelope said: " + texts);
    }
}

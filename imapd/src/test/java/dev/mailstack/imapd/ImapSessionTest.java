package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.net.TranscriptRunner;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageSpool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImapSessionTest {
    static final String PLAIN = "From: Bob <bob@remote.test>\r\nTo: alice@example.org\r\nSubject: hello\r\n"
            + "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@remote.test>\r\n\r\nfirst body\r\n";
    static final String CHINESE = "From: =?UTF-8?B?5byg5LiJ?= <zhang@remote.test>\r\nTo: alice@example.org\r\n"
            + "Subject: =?GBK?B?1tDOxLLiytQ=?=\r\nDate: Wed, 2 Dec 2026 10:00:00 +0800\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n5L2g5aW977yM5LiW55WM\r\n";
    static final String MULTIPART = "From: carol@remote.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
            + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            + "part one\r\n--b1\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
            + "Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\nAAECAw==\r\n--b1--\r\n";

    @TempDir
    Path dir;
    ImapFixture imap;

    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        imap.deliver(MailboxName.INBOX, PLAIN);
        imap.deliver(MailboxName.INBOX, CHINESE);
        imap.deliver(MailboxName.INBOX, MULTIPART);
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    private LineClient connect(int ignored) {
        try {
            return new LineClient(imap.port());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The conversations in src/test/resources/transcripts: Thunderbird's, errors and wrong states,
     * mailboxes with Chinese names, LIST-EXTENDED, each command's success, every SEARCH key.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"thunderbird", "errors", "mailboxes", "list-extended",
        "commands", "search"})
    void transcript(String name) throws Exception {
        TranscriptRunner.run("/transcripts/" + name + ".txt", this::connect);
    }

    /**
     * With auth.plaintext = never, a password waits for TLS: before STARTTLS the capabilities say
     * LOGINDISABLED and no AUTH= (RFC 3501 §6.2.3, §7.2.1) and LOGIN and AUTHENTICATE are refused;
     * after it (RFC 3501 §6.2.1: no new greeting, the client asks again) they are offered and work.
     */
    @Test
    void withPlaintextNeverLoginWaitsForStartTls() throws Exception {
        ImapSettings d = ImapSettings.defaults("imap.example.org");
        ImapSettings strict = new ImapSettings(d.hostname(), dev.mailstack.net.PlaintextAuth.NEVER, d.appendLimit(),
                d.preAuthLiteralLimit(), d.authenticatedIdle(), d.mimeLimits(), d.recent());
        try (ImapFixture tlsOnly = new ImapFixture(dir.resolve("strict"), strict)) {
            passwordsWaitForTls(tlsOnly);
            try (LineClient c = new LineClient(tlsOnly.port())) { // AUTHENTICATE PLAIN too, once in TLS
                c.expect("\\* OK .*");
                c.send("a STARTTLS").expect("a OK Begin TLS negotiation now");
                c.startTls();
                c.send("b AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==").expect("b OK \\[CAPABILITY .*\\] Logged in");
            }
        }
    }

    /**
     * IMAP at a test's scale of Postfix's smtpd_min_data_rate: 1 s idle, before and after login,
     * and 100 bytes/s for every literal.
     */
    private ImapFixture rated() throws IOException {
        ImapSettings d = ImapSettings.defaults("imap.example.org");
        ImapSettings quick = new ImapSettings(d.hostname(), d.plaintextAuth(), d.appendLimit(), d.preAuthLiteralLimit(),
                Duration.ofSeconds(1), d.mimeLimits(), d.recent());
        return new ImapFixture(dir.resolve("rated"), quick,
                new dev.mailstack.net.NetLimits(1024, Duration.ofSeconds(1), 10, 10).withMinDataRate(100));
    }

    /** Trickles a byte every 200 ms, each read inside the idle timeout, until the server says goodbye. */
    private static void assertTrickleEndsWithBye(LineClient c) throws Exception {
        long start = System.nanoTime();
        dev.mailstack.net.Trickle trickle = dev.mailstack.net.Trickle.start(c::sendRaw, "x", Duration.ofMillis(200));
        try {
            c.expect("\\* BYE .*");
        } finally {
            trickle.close();
        }
        long took = System.nanoTime() - start;
        assertTrue(took < Duration.ofSeconds(3).toNanos(), "cut off only after " + took / 1_000_000 + " ms");
        c.expectClosed();
    }

    /** Bytes that are not UTF-8 became U+FFFD unseen: CREATE "x\\xFF" made the mailbox "x\\uFFFD". */
    @Test
    void aStringThatIsNotUtf8IsBadAndCreatesNothing() throws Exception {
        try (LineClient c = imap.login()) {
            c.sendBytes(new byte[]{'a', ' ', 'C', 'R', 'E', 'A', 'T', 'E', ' ', '"', 'x', (byte) 0xFF, '"', '\r', '\n'});
            c.expect("a BAD Strings must be UTF-8 .*");
            c.send("b ENABLE UTF8=ACCEPT").expectEventually("b OK .*");
            c.sendBytes(new byte[]{'c', ' ', 'C', 'R', 'E', 'A', 'T', 'E', ' ', '{', '2', '+', '}', '\r', '\n', 'y', (byte) 0xC3, '\r', '\n'});
            c.expect("c BAD Strings must be UTF-8 .*");
            c.sendBytes(new byte[]{'d', ' ', 'C', 'R', 'E', 'A', 'T', 'E', ' ', '{', '1', '+', '}', '\r', '\n', 'z', ' ', (byte) 0xFF, '\r', '\n'});
            c.expect("d BAD .*");
            c.send("e CREATE \"\u00fcbrig\"").expect("e OK .*");
            c.send("f NOOP").expect("f OK .*");
        }
        List<String> names = imap.store.session().list().stream().map(i -> i.name().path()).toList();
        assertTrue(names.contains("\u00fcbrig") && names.stream().noneMatch(n -> n.contains("\uFFFD")), names.toString());
    }

    /**
     * RFC 3501 §6.4.4: a charset the server cannot search in is NO [BADCHARSET], whatever bytes its
     * strings hold (a Latin-1 word, say), so the client tries again in UTF-8; in UTF-8 they are BAD.
     */
    @Test
    void aSearchInAnotherCharsetIsBadcharsetEvenWithItsOwnBytes() throws Exception {
        try (LineClient c = imap.login()) {
            c.send("s SELECT INBOX").expectEventually("s OK .*");
            byte[] cafe = {'c', 'a', 'f', (byte) 0xE9};
            c.sendBytes(concat("a SEARCH CHARSET ISO-8859-1 SUBJECT {4+}\r\n", cafe, "\r\n"));
            c.expect("a NO \\[BADCHARSET \\(UTF-8 US-ASCII\\)\\] .*ISO-8859-1");
            c.sendBytes(concat("b UID SEARCH CHARSET ISO-8859-1 SUBJECT \"", cafe, "\"\r\n"));
            c.expect("b NO \\[BADCHARSET .*");
            c.sendBytes(concat("c SORT (DATE) ISO-8859-1 SUBJECT {4+}\r\n", cafe, "\r\n"));
            c.expect("c NO \\[BADCHARSET .*");
            c.sendBytes(concat("d SEARCH CHARSET UTF-8 SUBJECT {4+}\r\n", cafe, "\r\n"));
            c.expect("d BAD Strings must be UTF-8 .*");
            c.send("e SEARCH CHARSET UTF-8 SUBJECT \"caf\u00e9\"").expectEventually("e OK .*");
        }
    }

    private static byte[] concat(String before, byte[] middle, String after) {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        all.writeBytes(before.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        all.writeBytes(middle);
        all.writeBytes(after.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return all.toByteArray();
    }

    @Test
    void anAppendTrickledUnderTheMinimumDataRateEndsWithByeAndAppendsNothing() throws Exception {
        try (ImapFixture slow = rated(); LineClient c = slow.login()) {
            c.setTimeout(Duration.ofSeconds(8));
            c.send("a APPEND INBOX {1000}").expect("\\+ Ready for literal data");
            c.sendRaw("Subject: slow\r\n\r\n");
            assertTrickleEndsWithBye(c);
            assertEquals(0, slow.store.session().status(MailboxName.INBOX).messages());
        }
    }

    /** Before login too: a LOGIN's literal, and a refused non-synchronizing one the server skips. */
    @Test
    void literalsTrickledBeforeLoginEndWithBye() throws Exception {
        try (ImapFixture slow = rated()) {
            try (LineClient c = slow.connect()) {
                c.setTimeout(Duration.ofSeconds(8));
                c.send("a LOGIN {4000}").expect("\\+ Ready for literal data");
                assertTrickleEndsWithBye(c);
            }
            try (LineClient c = slow.connect()) {
                c.setTimeout(Duration.ofSeconds(8));
                c.send("a NOSUCHCOMMAND {4000+}"); // RFC 7888 §4: its octets come anyway, and are read to be skipped
                assertTrickleEndsWithBye(c);
            }
        }
    }

    /**
     * APPEND before login can only be refused (RFC 3501 §6.3.11: authenticated state), so its message
     * literal is refused as it is announced: no "+" for a synchronizing one, and a non-synchronizing
     * one (RFC 7888 §4) is skipped, not spooled, with the session in step after it; past the
     * pre-login literal limit the session ends rather than read it.
     */
    @Test
    void anAppendBeforeLoginGetsNoGoAheadAndItsNonSynchronizingLiteralIsSkipped() throws Exception {
        try (LineClient c = imap.connect()) {
            c.setTimeout(Duration.ofSeconds(5));
            c.send("a APPEND INBOX {10}").expect("a NO Log in first.*");
            c.sendRaw("b APPEND INBOX (\\Seen) {10+}\r\nb NOOP xyz\r\n");
            c.expect("b NO Log in first.*");
            c.send("c NOOP").expect("c OK NOOP completed"); // "b NOOP xyz" was the literal, not a command
            c.send("d APPEND INBOX {9000+}").expect("\\* BYE literal of 9000 bytes is over the limit of 8192.*");
            c.expectClosed();
        }
        assertEquals(3, imap.store.session().status(MailboxName.INBOX).messages());
    }

    /**
     * The rest of a command line after a literal must come whole within the idle timeout, as the
     * line before it: trickled a byte every 200 ms it ends with BYE, where each read alone would
     * have waited a whole idle timeout, max_line_bytes times over. A client at an ordinary pace logs in.
     */
    @Test
    void theLineAfterALiteralTrickledEndsWithBye() throws Exception {
        try (ImapFixture slow = rated()) {
            try (LineClient c = slow.connect()) {
                c.setTimeout(Duration.ofSeconds(8));
                c.send("a LOGIN {17}").expect("\\+ Ready for literal data");
                c.sendRaw("alice@example.org");
                assertTrickleEndsWithBye(c);
            }
            try (LineClient c = slow.connect()) {
                c.send("a LOGIN {17}").expect("\\+ Ready for literal data");
                c.send("alice@example.org secret").expect("a OK .*Logged in");
            }
        }
    }

    /** So must an AUTHENTICATE response (RFC 3501 §6.2.2), a line of its own after the server's "+". */
    @Test
    void anAuthenticateResponseTrickledEndsWithBye() throws Exception {
        try (ImapFixture slow = rated()) {
            try (LineClient c = slow.connect()) {
                c.setTimeout(Duration.ofSeconds(8));
                c.send("a AUTHENTICATE PLAIN").expect("\\+ ?");
                assertTrickleEndsWithBye(c);
            }
            try (LineClient c = slow.connect()) {
                c.send("a AUTHENTICATE PLAIN").expect("\\+ ?");
                c.send("AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==").expect("a OK .*Logged in");
            }
        }
    }

    /** A message above the minimum rate is appended however long it takes, with a pause of almost the idle timeout. */
    @Test
    void anAppendAboveTheMinimumDataRateIsAppendedHoweverLongItTakes() throws Exception {
        try (ImapFixture slow = rated(); LineClient c = slow.login()) {
            c.setTimeout(Duration.ofSeconds(8));
            String line = "z".repeat(48) + "\r\n";
            String header = "Subject: steady\r\n\r\n";
            c.send("a APPEND INBOX {" + (header.length() + 40 * line.length()) + "}").expect("\\+ Ready for literal data");
            c.sendRaw(header);
            for (int i = 0; i < 40; i++) {
                c.sendRaw(line);
                Thread.sleep(i == 20 ? 800 : 50); // 1,000 bytes/s, and once almost the idle timeout
            }
            c.sendRaw("\r\n").expect("a OK \\[APPENDUID \\d+ 1\\] APPEND completed");
            assertEquals(1, slow.store.session().status(MailboxName.INBOX).messages());
        }
    }

    private static void passwordsWaitForTls(ImapFixture tlsOnly) throws IOException {
        try (LineClient c = new LineClient(tlsOnly.port())) {
            String greeting = c.expect("\\* OK \\[CAPABILITY IMAP4rev1 .*\\] mailstack IMAP ready");
            assertTrue(greeting.contains(" STARTTLS") && greeting.contains(" LOGINDISABLED") && !greeting.contains("AUTH="),
                    greeting);
            String before = c.send("a CAPABILITY").expect("\\* CAPABILITY .*");
            assertTrue(before.contains(" STARTTLS") && before.contains(" LOGINDISABLED") && !before.contains("AUTH="), before);
            c.expect("a OK CAPABILITY completed");
            c.send("b LOGIN alice@example.org secret").expect("b NO \\[PRIVACYREQUIRED\\] .*");
            c.send("c AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==").expect("c NO \\[PRIVACYREQUIRED\\] .*");
            c.send("d SELECT INBOX").expect("d NO Log in first.*"); // the refusals logged nobody in

            c.send("e STARTTLS").expect("e OK Begin TLS negotiation now");
            c.startTls();
            String after = c.send("f CAPABILITY").expect("\\* CAPABILITY .*");
            assertTrue(after.contains(" AUTH=PLAIN AUTH=LOGIN") && !after.contains("LOGINDISABLED")
                    && !after.contains("STARTTLS"), after);
            c.expect("f OK CAPABILITY completed");
            c.send("g STARTTLS").expect("g BAD TLS is already active");
            c.send("h LOGIN alice@example.org secret").expect("h OK \\[CAPABILITY .*\\] Logged in");
            c.send("i SELECT INBOX").expectEventually("i OK \\[READ-WRITE\\] SELECT completed");
        }
    }

    @Test
    void idleHearsADeliveryWithinASecond() throws Exception {
        try (LineClient c = imap.login()) {
            c.send("s SELECT INBOX");
            c.expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("i IDLE").expect("\\+ idling");
            long start = System.nanoTime();
            imap.deliver(MailboxName.INBOX, "Subject: pushed\r\n\r\nnew\r\n");
            c.setTimeout(Duration.ofSeconds(1));
            c.expect("\\* 4 EXISTS");
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(1).toNanos());
            c.setTimeout(Duration.ofSeconds(10));
            c.expect("\\* 4 RECENT"); // the three it selected and the new one: this session saw them first
            c.send("DONE").expect("i OK IDLE terminated");
        }
    }

    /**
     * mailstack user del ends the account's sessions with a BYE that says why: one idling on INBOX
     * and one between commands, at once; and the address logs in no more.
     */
    @Test
    void deletingTheAccountEndsItsSessionsWithBye() throws Exception {
        try (LineClient idling = imap.login(); LineClient waiting = imap.login()) {
            idling.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            idling.send("i IDLE").expect("\\+ idling");
            imap.store.store().accounts().removeUser("alice@example.org");
            idling.expect("\\* BYE This account was deleted or disabled; closing the connection");
            idling.expectClosed();
            waiting.expect("\\* BYE This account was deleted or disabled; closing the connection");
            waiting.expectClosed();
        }
        try (LineClient c = imap.connect()) {
            c.send("a LOGIN alice@example.org secret").expect("a NO \\[AUTHENTICATIONFAILED\\] Authentication failed");
        }
    }

    @Test
    void recentBelongsToTheFirstSessionThatSeesAMessage() throws Exception {
        try (LineClient a = imap.login(); LineClient b = imap.login()) {
            a.send("s SELECT INBOX");
            a.expectEventually("\\* 3 RECENT");
            a.expectEventually("s OK .*");
            a.send("f FETCH 1 (FLAGS)").expect("\\* 1 FETCH \\(FLAGS \\(\\\\Recent\\)\\)");
            a.expect("f OK FETCH completed");
            b.send("e EXAMINE INBOX");
            b.expectEventually("\\* 0 RECENT");
            b.expectEventually("e OK .*");
            b.send("s SELECT INBOX");
            b.expectEventually("\\* 0 RECENT");
            b.expectEventually("s OK .*");
            imap.deliver(MailboxName.INBOX, "Subject: new\r\n\r\nx\r\n");
            b.send("t STATUS INBOX (RECENT)").expect("\\* STATUS \"INBOX\" \\(RECENT 1\\)"); // nobody has seen it yet
            b.expect("t OK STATUS completed");
            b.send("n NOOP").expect("\\* 4 EXISTS");
            b.expect("\\* 1 RECENT");
            b.expect("n OK NOOP completed");
            a.send("n NOOP").expect("\\* 4 EXISTS");
            a.expect("\\* 3 RECENT"); // b took the new one
            a.expect("n OK NOOP completed");
            b.send("r SEARCH RECENT").expect("\\* SEARCH 4");
            b.expect("r OK SEARCH completed");
            a.send("r SEARCH OLD").expect("\\* SEARCH 4");
            a.expect("r OK SEARCH completed");
            b.send("x STORE 4 FLAGS (\\Recent)").expect("\\* 4 FETCH \\(FLAGS \\(\\\\Recent\\)\\)");
            b.expect("x OK STORE completed");
        }
    }

    /** The response names a HEADER.FIELDS section as the request did: "X Y" is one name, "" an empty one. */
    @Test
    void aHeaderFieldNameThatIsNoAtomIsAnsweredQuoted() throws Exception {
        try (LineClient c = selectedInbox()) {
            c.send("g FETCH 1 (BODY.PEEK[HEADER.FIELDS (\"X Y\" \"\" Subject)])")
                    .expect("\\* 1 FETCH \\(BODY\\[HEADER.FIELDS \\(\"X Y\" \"\" SUBJECT\\)\\] \\{18\\}");
            c.expect("Subject: hello");
            c.expectEventually("g OK FETCH completed");
        }
    }

    @Test
    void twoSessionsSeeEachOthersChangesAtSafePoints() throws Exception {
        try (LineClient a = selectedInbox(); LineClient b = selectedInbox()) {
            b.send("t STORE 1 +FLAGS (\\Deleted)").expect("\\* 1 FETCH \\(FLAGS \\(\\\\Deleted\\)\\)");
            b.expect("t OK STORE completed");
            b.send("x EXPUNGE").expect("\\* 1 EXPUNGE");
            b.expect("x OK EXPUNGE completed");
            a.send("f FETCH 1 (UID)").expect("\\* 1 FETCH \\(UID 1\\)");
            a.expect("f OK FETCH completed"); // no EXPUNGE during FETCH (RFC 3501 §7.4.1)
            a.send("n NOOP").expect("\\* 1 EXPUNGE");
            a.expect("n OK NOOP completed");
            a.send("f FETCH 1 (UID)").expect("\\* 1 FETCH \\(UID 2\\)");
            a.expect("f OK FETCH completed");
        }
    }

    /**
     * Messages another session expunged stay in this session's view until it is told (RFC 3501
     * §7.4.1). A COPY by sequence numbers naming one fails whole with EXPUNGEISSUED (RFC 5530 §3,
     * as Dovecot answers) and copies nothing (§6.4.7); UID COPY and UID MOVE pass over the UIDs
     * gone (§6.4.8) and name only what they copied in COPYUID, none when nothing was: RFC 4315 §3
     * has no empty uid-set, where "COPYUID v  " was sent.
     */
    @Test
    void aCopyOfMessagesExpungedElsewhereFailsByNumberAndByUidCopiesTheRestWithNoEmptyCopyUid() throws Exception {
        imap.deliver(MailboxName.INBOX, PLAIN);
        try (LineClient a = selectedInbox(); LineClient b = selectedInbox()) {
            a.send("c CREATE Bin").expectEventually("c OK .*");
            expungeElsewhere(b, 1);
            a.send("c COPY 1:2 Bin").expectEventually("c NO \\[EXPUNGEISSUED\\] .*nothing was copied");
            b.send("s STATUS Bin (MESSAGES)").expectEventually("\\* STATUS \"Bin\" \\(MESSAGES 0\\)");
            a.send("k UID COPY 1:2 Bin").expectEventually("k OK \\[COPYUID \\d+ 2 1\\] UID COPY completed");
            expungeElsewhere(b, 3);
            assertEquals("l OK UID COPY completed (the messages were expunged by another session)",
                    a.send("l UID COPY 3 Bin").expectEventually("l .*"));
            expungeElsewhere(b, 4);
            a.send("m UID MOVE 4 Bin");
            for (String line = a.readLine(); !line.startsWith("m "); line = a.readLine()) {
                assertFalse(line.contains("COPYUID"), line);
            }
            b.send("t STATUS Bin (MESSAGES)").expectEventually("\\* STATUS \"Bin\" \\(MESSAGES 1\\)");
        }
    }

    private static void expungeElsewhere(LineClient c, int uid) throws IOException {
        c.send("d UID STORE " + uid + " +FLAGS.SILENT (\\Deleted)").expectEventually("d OK .*");
        c.send("e EXPUNGE").expectEventually("e OK EXPUNGE completed");
    }

    /**
     * RFC 3501 §6.4.3: EXPUNGE removes the messages that have \Deleted, as committed: one another
     * session undeleted since this session last heard stays, and one another session deleted goes.
     */
    @Test
    void expungeGoesByTheCommittedDeletedFlagNotTheSessionsLastView() throws Exception {
        try (LineClient a = selectedInbox(); LineClient b = selectedInbox()) {
            a.send("t STORE 1 +FLAGS.SILENT (\\Deleted)").expect("t OK STORE completed");
            b.send("u STORE 1 -FLAGS.SILENT (\\Deleted)").expectEventually("u OK STORE completed"); // b's undo
            b.send("v STORE 2 +FLAGS.SILENT (\\Deleted)").expectEventually("v OK STORE completed");
            a.send("x EXPUNGE").expectEventually("\\* 2 EXPUNGE");
            a.expectEventually("x OK EXPUNGE completed");
            a.send("f FETCH 1:* (UID)").expect("\\* 1 FETCH \\(UID 1\\)");
            a.expect("\\* 2 FETCH \\(UID 3\\)");
            a.expect("f OK FETCH completed");
        }
    }

    @Test
    void aFetchOfManyMessagesComesInOrderAcrossItsWriteBatchesAndBeforeItsTaggedReply() throws Exception {
        for (int i = 4; i <= 900; i++) {
            imap.deliver(MailboxName.INBOX, "Subject: n" + i + "\r\n\r\nbody " + i + "\r\n");
        }
        try (LineClient c = selectedInbox()) {
            // 900 lines of about 45 octets: written in batches of 16 KB, not line by line
            c.send("f UID FETCH 1:* (UID FLAGS RFC822.SIZE)");
            for (int i = 1; i <= 900; i++) {
                c.expect("\\* " + i + " FETCH \\(UID " + i + " FLAGS \\(.*\\) RFC822.SIZE \\d+\\)");
            }
            c.expect("f OK UID FETCH completed");
            // with a body section, each response goes out up to the section, then the section streams
            c.send("g FETCH 449:451 (FLAGS BODY.PEEK[TEXT])");
            for (int i = 449; i <= 451; i++) {
                c.expect("\\* " + i + " FETCH \\(FLAGS \\(.*\\) BODY\\[TEXT\\] \\{\\d+\\}");
                c.expect("body " + i);
                c.expect("\\)");
            }
            c.expect("g OK FETCH completed");
        }
    }

    @Test
    void aBodySweptAwayBeforeTheSessionSawItsExpungeIsNilAndTheSessionGoesOn() throws Exception {
        try (LineClient a = selectedInbox(); LineClient b = selectedInbox()) {
            expungeFirstAndSweep(b);
            a.send("f FETCH 1 (UID BODY.PEEK[])").expect("\\* 1 FETCH \\(UID 1 BODY\\[\\] NIL\\)");
            a.expect("f OK FETCH completed");
            a.send("h FETCH 1 (UID BODY.PEEK[TEXT] FLAGS)").expect("\\* 1 FETCH \\(UID 1 BODY\\[TEXT\\] NIL FLAGS \\(.*\\)\\)");
            a.expect("h OK FETCH completed");
            a.send("n NOOP").expect("\\* 1 EXPUNGE");
            a.expect("n OK NOOP completed");
            a.send("g FETCH 1 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])").expect("\\* 1 FETCH \\(UID 2 .*");
        }
    }

    /**
     * SEARCH over a message another session expunged and the sweep removed before this session
     * heard of it: it is taken as a message without header or body (as SORT takes it), so no key
     * that reads them matches it and NOT such a key does, and the search answers OK (it used to
     * answer NO [EXPUNGEISSUED], or drop the connection for BODY and HEADER).
     */
    @Test
    void searchPassesOverAMessageSweptAwayBeforeTheSessionSawItsExpunge() throws Exception {
        try (LineClient a = selectedInbox(); LineClient b = selectedInbox()) {
            expungeFirstAndSweep(b);
            a.send("a SEARCH BODY first").expect("\\* SEARCH");
            a.expect("a OK SEARCH completed");
            a.send("b SEARCH HEADER Message-ID m1").expect("\\* SEARCH");
            a.expect("b OK SEARCH completed");
            a.send("c SEARCH OR SUBJECT hello TEXT hello").expect("\\* SEARCH");
            a.expect("c OK SEARCH completed");
            a.send("d SEARCH SENTBEFORE 1-Jan-2030").expect("\\* SEARCH 2");
            a.expect("d OK SEARCH completed");
            a.send("e SEARCH 1:* NOT BODY nothing-like-this").expect("\\* SEARCH 1 2 3");
            a.expect("e OK SEARCH completed");
            a.send("n NOOP").expect("\\* 1 EXPUNGE");
            a.expect("n OK NOOP completed");
        }
    }

    /** RFC 7162 §3.1.3: a change another session committed fails UNCHANGEDSINCE even before this session has heard of it. */
    @Test
    void conditionalStoreComparesTheCommittedModseqNotTheSessionsCopy() throws Exception {
        try (LineClient a = selectedInbox(); LineClient b = selectedInbox()) {
            a.send("m FETCH 1:2 (MODSEQ)").expect("\\* OK \\[HIGHESTMODSEQ \\d+\\] Highest"); // CONDSTORE on from here
            long seen = Math.max(modSeq(a.expect("\\* 1 FETCH .*")), modSeq(a.expect("\\* 2 FETCH .*")));
            a.expect("m OK FETCH completed");
            b.send("t STORE 1 +FLAGS.SILENT (\\Flagged)").expectEventually("t OK .*");

            a.send("c STORE 1:2 (UNCHANGEDSINCE " + seen + ") +FLAGS (\\Seen)");
            a.expect("\\* 2 FETCH \\(UID 2 FLAGS \\(\\\\Seen \\\\Recent\\) MODSEQ \\(\\d+\\)\\)");
            assertEquals("c OK [MODIFIED 1] Conditional STORE failed for some messages",
                    a.expectEventually("c OK .*"));
            a.send("u UID SEARCH MODSEQ " + (seen + 1)).expect("\\* SEARCH [\\d ]+ \\(MODSEQ \\d+\\)");
            a.expectEventually("u OK UID SEARCH completed"); // b's change to 1 is told here, at a UID command
            // RFC 7162 §3.1.5: ESEARCH MIN alone tells the modseq of that message, ALL the highest of all
            long min = esearchModSeq(a.send("e1 UID SEARCH RETURN (MIN) MODSEQ 1")
                    .expect("\\* ESEARCH \\(TAG \"e1\"\\) UID MIN 1 MODSEQ \\d+"));
            a.expect("e1 OK UID SEARCH completed");
            long all = esearchModSeq(a.send("e2 UID SEARCH RETURN (ALL) MODSEQ 1")
                    .expect("\\* ESEARCH \\(TAG \"e2\"\\) UID ALL 1:3 MODSEQ \\d+"));
            a.expect("e2 OK UID SEARCH completed");
            assertTrue(min < all, min + " for message 1, changed before message 2, " + all + " for all");
            a.send("f FETCH 1 (FLAGS)").expect("\\* 1 FETCH \\(FLAGS \\(\\\\Flagged \\\\Recent\\)\\)"); // not \\Seen
            a.expect("f OK FETCH completed");
        }
    }

    /**
     * RFC 7162 §3.1.3/§3.1.4: a STORE over many messages gives every message it changes the same new
     * modseq, leaves the one changed since UNCHANGEDSINCE to MODIFIED and the one that already had the
     * flag at its modseq; an idling session hears of each changed message once with that modseq, and
     * the storing session, which takes in its own change without reading it back, still learns of a
     * change another session makes right after.
     */
    @Test
    void aStoreAcrossManyMessagesGivesEachTheCommandsModseqAndTellsAnotherSessionOfEach() throws Exception {
        for (int i = 4; i <= 300; i++) {
            imap.deliver(MailboxName.INBOX, "Subject: n" + i + "\r\n\r\nbody " + i + "\r\n");
        }
        try (LineClient a = imap.login(); LineClient b = imap.login(); LineClient idler = imap.login()) {
            a.send("s SELECT INBOX (CONDSTORE)");
            long before = firstNumber(a.expectEventually("\\* OK \\[HIGHESTMODSEQ \\d+\\].*"));
            a.expectEventually("s OK .*");
            b.send("s SELECT INBOX").expectEventually("s OK .*");
            b.send("f STORE 150 +FLAGS.SILENT (\\Seen)").expectEventually("f OK .*");
            b.send("g STORE 200 +FLAGS.SILENT (\\Flagged)").expectEventually("g OK .*");
            idler.send("e ENABLE CONDSTORE").expectEventually("e OK .*");
            idler.send("s SELECT INBOX").expectEventually("s OK .*");
            idler.send("i IDLE").expect("\\+ idling");

            a.send("c UID STORE 1:* (UNCHANGEDSINCE " + before + ") +FLAGS (\\Seen)");
            java.util.Map<Long, String> told = new java.util.TreeMap<>();
            String line;
            while (!(line = a.readLine()).startsWith("c ")) {
                if (line.matches("\\* \\d+ FETCH .*")) {
                    assertEquals(null, told.put(firstNumber(line), line), "once: " + line);
                }
            }
            // 150 and 200 were changed by b after UNCHANGEDSINCE's modseq (\Seen already, \Flagged): refused
            assertEquals("c OK [MODIFIED 150,200] Conditional STORE failed for some messages", line);
            java.util.Set<Long> expected = new java.util.TreeSet<>();
            for (long i = 1; i <= 300; i++) {
                expected.add(i);
            }
            expected.remove(150L);
            expected.remove(200L);
            long stored = modSeq(told.get(1L));
            assertTrue(stored > before);
            for (long i : expected) {
                String fetch = told.get(i);
                assertTrue(fetch != null && fetch.matches("\\* " + i + " FETCH \\(UID " + i
                        + " FLAGS \\(\\\\Seen \\\\Recent\\) MODSEQ \\(" + stored + "\\)\\)"), i + ": " + fetch);
            }
            // b's own changes reach a too, at their own (lower) modseqs, with 200 left without \Seen
            assertTrue(told.get(150L).matches("\\* 150 FETCH \\(UID 150 FLAGS \\(\\\\Seen \\\\Recent\\) MODSEQ \\(\\d+\\)\\)"), told.get(150L));
            assertTrue(told.get(200L).matches("\\* 200 FETCH \\(UID 200 FLAGS \\(\\\\Flagged \\\\Recent\\) MODSEQ \\(\\d+\\)\\)"), told.get(200L));
            assertTrue(modSeq(told.get(150L)) < stored && modSeq(told.get(200L)) < stored);

            idler.setTimeout(Duration.ofSeconds(10));
            java.util.Map<Long, Long> heard = new java.util.TreeMap<>();
            while (heard.size() < 298) {
                line = idler.readLine();
                if (line.matches("\\* \\d+ FETCH .*") && line.contains("MODSEQ (" + stored + ")")) {
                    assertTrue(line.matches("\\* (\\d+) FETCH \\(UID \\1 FLAGS \\(\\\\Seen\\) MODSEQ \\(\\d+\\)\\)"), line);
                    assertEquals(null, heard.put(firstNumber(line.substring(2)), modSeq(line)), "once: " + line);
                }
            }
            assertEquals(expected, heard.keySet());
            idler.send("DONE").expectEventually("i OK IDLE terminated");

            a.send("m FETCH 149:151 (MODSEQ FLAGS)");
            assertEquals(stored, modSeq(a.expect("\\* 149 FETCH .*\\\\Seen.*")));
            assertTrue(modSeq(a.expect("\\* 150 FETCH .*\\\\Seen.*")) < stored, "b's change to 150 stands");
            assertEquals(stored, modSeq(a.expect("\\* 151 FETCH .*\\\\Seen.*")));
            a.expect("m OK FETCH completed");

            // a has read everything: its next STORE is taken in without reading it back, and a change
            // b makes right after still reaches it
            a.send("r STORE 1:* -FLAGS.SILENT (\\Seen)").expectEventually("r OK STORE completed");
            b.send("h STORE 7 +FLAGS.SILENT (\\Draft)").expectEventually("h OK .*");
            a.send("n NOOP").expect("\\* 7 FETCH \\(UID 7 FLAGS \\(\\\\Draft \\\\Recent\\) MODSEQ \\(\\d+\\)\\)");
            a.expect("n OK NOOP completed");
            a.send("u FETCH 1:* (FLAGS)");
            for (int i = 1; i <= 300; i++) {
                a.expect("\\* " + i + " FETCH \\(.*FLAGS \\(" + (i == 7 ? "\\\\Draft " : i == 200 ? "\\\\Flagged " : "")
                        + "\\\\Recent\\).*\\)");
            }
            a.expect("u OK FETCH completed");
        }
    }

    /** RFC 7162 §3.2: a client back after a while learns in its SELECT what vanished and what changed. */
    @Test
    void qresyncTellsAReturningClientWhatVanishedAndWhatChanged() throws Exception {
        long uidValidity;
        long highest;
        try (LineClient a = imap.login()) {
            a.send("s SELECT INBOX (CONDSTORE)");
            uidValidity = firstNumber(a.expectEventually("\\* OK \\[UIDVALIDITY \\d+\\].*"));
            highest = firstNumber(a.expectEventually("\\* OK \\[HIGHESTMODSEQ \\d+\\].*"));
            a.expectEventually("s OK .*");
        } // it knew UIDs 1:3 at that modseq
        try (LineClient b = selectedInbox()) {
            b.send("t UID STORE 1 +FLAGS.SILENT (\\Deleted)").expectEventually("t OK .*");
            b.send("x EXPUNGE").expectEventually("x OK .*");
            b.send("f UID STORE 3 +FLAGS.SILENT (\\Flagged)").expectEventually("f OK .*");
        }
        String resync = "SELECT INBOX (QRESYNC (" + uidValidity + " " + highest + " 1:3))";
        try (LineClient c = imap.login()) {
            c.send("p SELECT INBOX").expectEventually("p OK .*");
            c.send("r EXAMINE Trash").expect("\\* OK \\[CLOSED\\] Previous mailbox closed"); // §3.2.11, enabled or not
            c.expectEventually("r OK .*");
            c.send("q " + resync).expect("q BAD .*ENABLE QRESYNC.*");
            c.send("e ENABLE QRESYNC").expect("\\* OK \\[HIGHESTMODSEQ \\d+\\] Highest"); // of Trash, selected
            c.expect("\\* ENABLED QRESYNC");
            c.expect("e OK ENABLE completed");
            c.send("s " + resync).expect("\\* OK \\[CLOSED\\] Previous mailbox closed");
            c.expectEventually("\\* OK \\[HIGHESTMODSEQ \\d+\\].*");
            c.expect("\\* OK \\[MAILBOXID \\([A-Za-z0-9_-]+\\)\\] Ok"); // RFC 8474 §4.2
            c.expect("\\* VANISHED \\(EARLIER\\) 1");
            c.expect("\\* 2 FETCH \\(UID 3 FLAGS \\(\\\\Flagged\\) MODSEQ \\(\\d+\\)\\)"); // UID 2 did not change
            c.expect("s OK \\[READ-WRITE\\] SELECT completed");

            try (LineClient d = selectedInbox()) {
                d.send("t UID STORE 2 +FLAGS.SILENT (\\Deleted)").expectEventually("t OK .*");
                d.send("x EXPUNGE").expectEventually("x OK .*");
            }
            // A STORE may not report the expunge; the MODSEQ it sends must not pass for a resync point.
            long stored = firstNumber(c.send("m STORE 2 +FLAGS (\\Seen)").expect("\\* 2 FETCH \\(UID 3 .*")
                    .replaceAll(".*MODSEQ \\(", ""));
            long told = firstNumber(c.expect("\\* OK \\[HIGHESTMODSEQ \\d+\\] Highest"));
            assertTrue(told < stored, told + " is to be below " + stored + " while the expunge waits");
            c.expect("m OK STORE completed");
            c.send("n NOOP").expect("\\* VANISHED 2"); // RFC 7162 §3.2.10: no EXPUNGE once QRESYNC is on
            c.expect("n OK NOOP completed");
            c.send("v UID FETCH 1:* (FLAGS) (CHANGEDSINCE " + highest + " VANISHED)");
            c.expect("\\* VANISHED \\(EARLIER\\) 1:2");
            c.expect("\\* 1 FETCH \\(UID 3 .*\\\\Seen \\\\Flagged.*MODSEQ.*");
            c.expect("v OK UID FETCH completed");
            c.send("w FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)").expect("w BAD .*UID FETCH.*");
            c.send("d UID STORE 3 +FLAGS.SILENT (\\Deleted)").expectEventually("d OK .*");
            c.send("u UID EXPUNGE 3").expect("\\* VANISHED 3");
            c.expect("u OK .*");
            // the highest UID is gone too: `*` reaches UIDNEXT - 1, so the empty mailbox still names it
            c.send("y UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)").expect("\\* VANISHED \\(EARLIER\\) 1:3");
            c.expect("y OK UID FETCH completed");
            c.send("x EXAMINE Trash").expect("\\* OK \\[CLOSED\\] Previous mailbox closed");
            c.expectEventually("x OK \\[READ-ONLY\\] EXAMINE completed");
        }
    }

    private static long firstNumber(String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+").matcher(line);
        assertTrue(m.find(), line);
        return Long.parseLong(m.group());
    }

    private static long esearchModSeq(String esearch) {
        return Long.parseLong(esearch.substring(esearch.lastIndexOf(' ') + 1));
    }

    private static long modSeq(String fetch) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("MODSEQ \\((\\d+)\\)").matcher(fetch);
        assertTrue(m.find(), fetch);
        return Long.parseLong(m.group(1));
    }

    private LineClient selectedInbox() throws IOException {
        LineClient c = imap.login();
        c.send("s SELECT INBOX");
        c.expectEventually("s OK .*");
        return c;
    }

    /**
     * Each string literal is capped at 64 KiB, but a command may carry any number of them (LIST's
     * patterns, SEARCH keys): all are held in memory until it runs. Together they are capped too
     * (as Dovecot's imap_max_line_length counts them), the rest of the command is skipped unread
     * into memory, and the session goes on.
     */
    @Test
    void theStringLiteralsOfOneCommandTogetherAreBounded() throws Exception {
        String pattern = "x".repeat(60_000);
        try (LineClient c = imap.login()) {
            StringBuilder command = new StringBuilder("a LIST \"\" (");
            for (int i = 0; i < 100; i++) {
                command.append(i == 0 ? "" : " ").append("{60000+}\r\n").append(pattern);
            }
            c.sendRaw(command.append(")\r\n").toString());
            c.expect("a NO \\[TOOBIG\\] .*");
            c.send("b NOOP").expect("b OK .*");
        }
    }

    @Test
    void searchFindsChineseInBase64BodiesAndEncodedSubjects() throws Exception {
        try (LineClient c = imap.login()) {
            c.send("s SELECT INBOX");
            c.expectEventually("s OK .*");
            c.send("a SEARCH CHARSET UTF-8 SUBJECT {6}").expect("\\+ Ready for literal data");
            c.send("测试").expect("\\* SEARCH 2");
            c.expect("a OK SEARCH completed");
            c.send("b UID SEARCH CHARSET UTF-8 BODY \"世界\"").expect("\\* SEARCH 2");
            c.expect("b OK UID SEARCH completed");
            c.send("c SEARCH FROM \"张三\" NOT DELETED").expect("\\* SEARCH 2");
            c.expect("c OK SEARCH completed");
            c.send("d SEARCH HEADER Message-ID <m1@remote.test>").expect("\\* SEARCH 1");
            c.expect("d OK SEARCH completed");
            c.send("e SEARCH RETURN (MIN MAX COUNT) ALL").expect("\\* ESEARCH \\(TAG \"e\"\\) MIN 1 MAX 3 COUNT 3");
            c.expect("e OK SEARCH completed");
        }
    }

    /** RFC 5032 WITHIN: OLDER and YOUNGER count seconds back from now on INTERNALDATE. */
    @Test
    void olderAndYoungerSplitTheMailboxByInternalDate() throws Exception {
        try (LineClient c = selectedInbox()) {
            String old = "Subject: from 2000\r\n\r\nx\r\n";
            c.send("a APPEND INBOX \"01-Jan-2000 00:00:00 +0000\" {" + old.length() + "}").expect("\\+ Ready for literal data");
            c.sendRaw(old + "\r\n").expectEventually("a OK \\[APPENDUID \\d+ 4\\] APPEND completed");
            String fresh = "Subject: now\r\n\r\ny\r\n";
            c.send("b APPEND INBOX {" + fresh.length() + "}").expect("\\+ Ready for literal data");
            c.sendRaw(fresh + "\r\n").expectEventually("b OK \\[APPENDUID \\d+ 5\\] APPEND completed");
            c.send("n NOOP").expectEventually("n OK .*");
            c.send("c SEARCH YOUNGER 3600").expect("\\* SEARCH 5");
            c.expect("c OK SEARCH completed");
            c.send("d SEARCH OLDER 3600").expect("\\* SEARCH 1 2 3 4");
            c.expect("d OK SEARCH completed");
            // the fixture's messages are days old, the appended one 2000's: 20 years splits them
            c.send("e UID SEARCH OLDER 3600 YOUNGER 630720000").expect("\\* SEARCH 1 2 3");
            c.expect("e OK UID SEARCH completed");
            c.send("f SEARCH OLDER 0").expect("f BAD .*RFC 5032.*");
            c.send("h SEARCH YOUNGER 100000000000000000").expect("h BAD .*RFC 5032.*"); // past any date: a BAD, not a crash
            c.send("i SEARCH YOUNGER 4294967295").expect("\\* SEARCH 1 2 3 4 5");
            c.expect("i OK SEARCH completed");
            c.send("g CAPABILITY").expect("\\* CAPABILITY .* WITHIN .*");
            c.expect("g OK .*");
        }
    }

    /**
     * SEARCH compares decoded text (RFC 3501 §6.4.4), whatever charset and encoding the message
     * came in: a UTF-8 search string finds 预算 in an 8-bit GBK body, a quoted-printable body split by
     * a soft line break inside the word, a base64 GB2312 body, and a subject of RFC 2047 words.
     */
    @Test
    void searchFindsChineseInAppendedGbkQuotedPrintableBase64BodiesAndAnEncodedSubject() throws Exception {
        java.nio.charset.Charset gbk = java.nio.charset.Charset.forName("GBK");
        byte[] gbkBody = concat(("Subject: minutes\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=GBK\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                "会议纪要：季度预算已批准\r\n".getBytes(gbk));
        String quotedPrintable = "Subject: next week\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                + "=E4=B8=8B=E5=91=A8=E8=AE=A8=E8=AE=BA=E9=A2=84=E7=\r\n=AE=97=E7=BB=86=E8=8A=82\r\n"; // 下周讨论预|算细节
        String base64 = "Subject: approved\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=GB2312\r\n"
                + "Content-Transfer-Encoding: base64\r\n\r\nu+HS6bzN0qqjury+tsjUpMvj0tHF+te8\r\n"; // 会议纪要：季度预算已批准
        String encodedSubject = "Subject: =?UTF-8?Q?=E5=AD=A3=E5=BA=A6?=\r\n =?UTF-8?B?6aKE566X?=\r\n\r\nplain ascii body\r\n"; // 季度 预算
        try (LineClient c = selectedInbox()) {
            append(c, "a4", gbkBody, 4);
            append(c, "a5", quotedPrintable.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 5);
            append(c, "a6", base64.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 6);
            append(c, "a7", encodedSubject.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 7);
            c.send("n NOOP").expectEventually("n OK NOOP completed");
            c.send("b SEARCH CHARSET UTF-8 BODY {6}").expect("\\+ Ready for literal data");
            c.send("预算").expect("\\* SEARCH 4 5 6");
            c.expect("b OK SEARCH completed");
            c.send("s SEARCH CHARSET UTF-8 SUBJECT \"预算\"").expect("\\* SEARCH 7");
            c.expect("s OK SEARCH completed");
            c.send("t SEARCH CHARSET UTF-8 TEXT \"预算\"").expect("\\* SEARCH 4 5 6 7");
            c.expect("t OK SEARCH completed");
            // the words around the soft line break, and a word found in both GBK and GB2312 bodies
            c.send("u UID SEARCH CHARSET UTF-8 BODY \"讨论预算细节\"").expect("\\* SEARCH 5");
            c.expect("u OK UID SEARCH completed");
            c.send("v SEARCH CHARSET UTF-8 BODY \"已批准\" NOT SUBJECT minutes").expect("\\* SEARCH 6");
            c.expect("v OK SEARCH completed");
            c.send("w SEARCH CHARSET UTF-8 TEXT \"季度预算\"").expect("\\* SEARCH 4 6 7");
            c.expect("w OK SEARCH completed");
        }
    }

    private static void append(LineClient c, String tag, byte[] message, long uid) throws IOException {
        c.send(tag + " APPEND INBOX {" + message.length + "}").expect("\\+ Ready for literal data");
        c.sendBytes(message);
        c.sendRaw("\r\n").expectEventually(tag + " OK \\[APPENDUID \\d+ " + uid + "\\] APPEND completed");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String rawLine(java.io.InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("closed");
            }
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    @Test
    void compressDeflateAgainstARealInflater() throws Exception {
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), imap.port())) {
            socket.setSoTimeout(10_000);
            var rawIn = socket.getInputStream();
            var rawOut = socket.getOutputStream();
            // read the plain part byte by byte: the compressed stream starts right after the OK line
            rawLine(rawIn);
            rawOut.write("a LOGIN alice@example.org secret\r\nb COMPRESS DEFLATE\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            rawOut.flush();
            assertTrue(rawLine(rawIn).startsWith("a OK"));
            assertEquals("b OK DEFLATE active", rawLine(rawIn));
            var deflate = new java.util.zip.DeflaterOutputStream(rawOut, new java.util.zip.Deflater(6, true), true);
            // byte by byte: an InputStreamReader would block on InflaterInputStream.available(), which is always 1
            var inflater = new java.util.zip.InflaterInputStream(rawIn, new java.util.zip.Inflater(true));
            deflate.write("c SELECT INBOX\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            deflate.flush();
            String line;
            while (!(line = rawLine(inflater)).startsWith("c ")) {
                assertTrue(line.startsWith("* "), line);
            }
            assertEquals("c OK [READ-WRITE] SELECT completed", line);
            deflate.write("d FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\ne COMPRESS DEFLATE\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            deflate.flush();
            assertEquals("* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}", rawLine(inflater));
            assertEquals("Subject: hello", rawLine(inflater));
            assertEquals("", rawLine(inflater));
            assertEquals(")", rawLine(inflater));
            assertEquals("d OK FETCH completed", rawLine(inflater));
            assertEquals("e NO [COMPRESSIONACTIVE] Compression is already on", rawLine(inflater));
        }
    }

    /** A rated server's session after LOGIN and COMPRESS DEFLATE, spoken through a real Deflater and Inflater. */
    private record Compressed(java.net.Socket socket, java.io.OutputStream deflate, java.io.InputStream inflate,
                              java.util.concurrent.atomic.AtomicLong wireBytes) implements AutoCloseable {
        static Compressed open(ImapFixture server) throws IOException {
            java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), server.port());
            socket.setSoTimeout(10_000);
            var rawIn = socket.getInputStream();
            rawLine(rawIn);
            socket.getOutputStream().write("a LOGIN alice@example.org secret\r\nb COMPRESS DEFLATE\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertTrue(rawLine(rawIn).startsWith("a OK"));
            assertEquals("b OK DEFLATE active", rawLine(rawIn));
            var wireBytes = new java.util.concurrent.atomic.AtomicLong();
            var counted = new java.io.FilterOutputStream(socket.getOutputStream()) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    wireBytes.addAndGet(len);
                    out.write(b, off, len);
                }
            };
            var deflate = new java.util.zip.DeflaterOutputStream(counted, new java.util.zip.Deflater(9, true), true);
            return new Compressed(socket, deflate, new java.util.zip.InflaterInputStream(rawIn, new java.util.zip.Inflater(true)),
                    wireBytes);
        }

        /** Sends text as one sync-flushed deflate block. */
        void send(String text) throws IOException {
            deflate.write(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            deflate.flush();
        }

        String line() throws IOException {
            return rawLine(inflate);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * Under COMPRESS=DEFLATE (RFC 4978) a literal earns net.min_data_rate's credit by the bytes that
     * come over the wire, not by what they inflate to: here each block of 8,000 octets is some 30
     * bytes on the wire, sent every 700 ms, far under 100 bytes/s, so the APPEND is cut with BYE as an
     * uncompressed one would be. Counted after inflation, each block would earn the whole idle
     * timeout back and the literal could be stretched without end.
     */
    @Test
    void aCompressedLiteralTrickledUnderTheMinimumDataRateOnTheWireEndsWithBye() throws Exception {
        String block = ("x".repeat(78) + "\r\n").repeat(100);
        try (ImapFixture slow = rated(); Compressed c = Compressed.open(slow)) {
            c.send("c APPEND INBOX {" + (1000 * block.length()) + "}\r\n");
            assertEquals("+ Ready for literal data", c.line());
            long start = System.nanoTime();
            long sentBefore = c.wireBytes().get();
            dev.mailstack.net.Trickle trickle = dev.mailstack.net.Trickle.start(c::send, block, Duration.ofMillis(700));
            String reply;
            try {
                reply = c.line();
            } finally {
                trickle.close();
            }
            long took = System.nanoTime() - start;
            assertTrue(reply.startsWith("* BYE "), reply);
            assertTrue(took < Duration.ofSeconds(5).toNanos(), "cut off only after " + took / 1_000_000 + " ms");
            long wireRate = (c.wireBytes().get() - sentBefore) * 1_000_000_000L / took;
            assertTrue(wireRate < 100, "the client sent " + wireRate + " bytes/s on the wire");
            assertEquals(0, slow.store.session().status(MailboxName.INBOX).messages());
        }
    }

    /** An ordinary compressed APPEND, the message sent at once, is appended and reads back whole. */
    @Test
    void aCompressedAppendAtAFairPaceIsAppended() throws Exception {
        String message = "Subject: squeezed\r\n\r\n" + ("y".repeat(78) + "\r\n").repeat(2000);
        try (ImapFixture slow = rated(); Compressed c = Compressed.open(slow)) {
            c.send("c APPEND INBOX {" + message.length() + "}\r\n");
            assertEquals("+ Ready for literal data", c.line());
            c.send(message + "\r\n");
            assertTrue(c.line().matches("c OK \\[APPENDUID \\d+ 1\\] APPEND completed"));
            assertEquals(1, slow.store.session().status(MailboxName.INBOX).messages());
        }
    }

    @Test
    void compressedOutputNeverStartsWithAnEmptyBlock() throws Exception {
        // Thunderbird reads a chunk that inflates to nothing as the end of the stream.
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), imap.port())) {
            socket.setSoTimeout(10_000);
            var rawIn = socket.getInputStream();
            rawLine(rawIn);
            socket.getOutputStream().write("a LOGIN alice@example.org secret\r\nb COMPRESS DEFLATE\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            rawLine(rawIn);
            assertEquals("b OK DEFLATE active", rawLine(rawIn));
            var deflate = new java.util.zip.DeflaterOutputStream(socket.getOutputStream(), new java.util.zip.Deflater(6, true), true);
            deflate.write("c NOOP\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            deflate.flush();
            byte[] chunk = new byte[4096];
            int n = rawIn.read(chunk);
            var inflater = new java.util.zip.Inflater(true);
            inflater.setInput(chunk, 0, n);
            byte[] text = new byte[4096];
            int k = inflater.inflate(text);
            assertEquals("c OK NOOP completed\r\n", new String(text, 0, k, java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    /**
     * A 50 MB APPEND and its FETCH BODY[] go through the server as streams: the message is sent
     * from a generator and read back as a stream, byte for byte the same (length and SHA-256). The
     * server runs in this JVM, so its memory is this heap: measured after a full GC when 40 MB of
     * the literal are in and again halfway through reading the FETCH (the server blocked writing),
     * a server that held the message would show tens of MB more than before; one that streams,
     * its buffers only.
     */
    @Test
    void fiftyMegabyteAppendAndFetchKeepTheServersMemoryFlat() throws Exception {
        GeneratedMessage message = new GeneratedMessage(655_360); // 16 + 655,360 lines of 80 octets: 50 MiB and 16
        long size = message.size();
        long flatLimit = 16L * 1024 * 1024;
        java.security.MessageDigest sent = java.security.MessageDigest.getInstance("SHA-256");
        java.security.MessageDigest received = java.security.MessageDigest.getInstance("SHA-256");
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), imap.port())) {
            socket.setSoTimeout(60_000);
            var in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
            var out = socket.getOutputStream();
            rawLine(in);
            out.write("a LOGIN alice@example.org secret\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertTrue(rawLine(in).startsWith("a OK"));
            long baseline = heapUsedAfterGc();

            out.write(("b APPEND INBOX {" + size + "}\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertEquals("+ Ready for literal data", rawLine(in));
            byte[] chunk = new byte[64 * 1024];
            long duringAppend = 0;
            for (long done = 0; done < size; ) {
                int n = message.read(chunk);
                out.write(chunk, 0, n);
                sent.update(chunk, 0, n);
                if (done < 40_000_000 && done + n >= 40_000_000) {
                    out.flush();
                    duringAppend = heapUsedAfterGc();
                }
                done += n;
            }
            out.write("\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            assertEquals("b OK [APPENDUID", rawLine(in).replaceAll(" \\d+ 4\\] APPEND completed$", ""));

            out.write("c SELECT INBOX\r\nd UID FETCH 4 (RFC822.SIZE BODY.PEEK[])\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            while (!rawLine(in).startsWith("c OK")) {
                // the SELECT's untagged responses
            }
            assertEquals("* 4 FETCH (UID 4 RFC822.SIZE " + size + " BODY[] {" + size + "}", rawLine(in));
            long duringFetch = 0;
            long left = size;
            while (left > 0) {
                int n = in.read(chunk, 0, (int) Math.min(chunk.length, left));
                assertTrue(n > 0, "the literal ended " + left + " octets short");
                received.update(chunk, 0, n);
                left -= n;
                if (duringFetch == 0 && left <= size / 2) {
                    duringFetch = heapUsedAfterGc();
                }
            }
            assertEquals(")", rawLine(in));
            assertEquals("d OK UID FETCH completed", rawLine(in));
            long after = heapUsedAfterGc();

            assertTrue(java.security.MessageDigest.isEqual(sent.digest(), received.digest()), "BODY[] differs from the APPEND");
            String growth = "heap used after a full GC: " + mb(baseline) + " before, " + mb(duringAppend)
                    + " with 40 MB appended, " + mb(duringFetch) + " halfway through the FETCH, " + mb(after) + " after";
            assertTrue(duringAppend - baseline < flatLimit, growth);
            assertTrue(duringFetch - baseline < flatLimit, growth);
            assertTrue(after - baseline < flatLimit, growth);
        }
        assertEquals(4, imap.store.session().status(MailboxName.INBOX).messages());
    }

    private static long heapUsedAfterGc() {
        System.gc(); // a full collection with G1, unless the JVM was told otherwise
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static String mb(long bytes) {
        return (bytes / (1024 * 1024)) + " MB";
    }

    /**
     * A message made as it is read: "Subject: big", a blank line, then numbered lines of 80 octets,
     * so a test can send tens of megabytes without holding them.
     */
    private static final class GeneratedMessage {
        private static final byte[] HEADER = "Subject: big\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private final byte[] line = ("line 0000000000 of a message too big to hold, sent and fetched as a stream....\r\n")
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private final long lines;
        private long position;

        GeneratedMessage(long lines) {
            this.lines = lines;
            assertEquals(80, line.length);
        }

        long size() {
            return HEADER.length + lines * line.length;
        }

        /** Fills as much of {@code buf} as is left; 0 at the end. */
        int read(byte[] buf) {
            int n = 0;
            while (n < buf.length && position < size()) {
                long offset;
                byte[] source;
                if (position < HEADER.length) {
                    source = HEADER;
                    offset = position;
                } else {
                    long body = position - HEADER.length;
                    offset = body % line.length;
                    if (offset == 0) {
                        long number = body / line.length;
                        for (int d = 14; d >= 5; d--, number /= 10) {
                            line[d] = (byte) ('0' + number % 10);
                        }
                    }
                    source = line;
                }
                int k = (int) Math.min(buf.length - n, source.length - offset);
                System.arraycopy(source, (int) offset, buf, n, k);
                n += k;
                position += k;
            }
            return n;
        }
    }

    @Test
    void binaryFetchOfALargePartIsDecodedAndSlicedExactly() throws Exception {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 1_000_000; i++) {
            text.append("line ").append(i).append(" of the attachment\r\n");
        }
        String encoded = java.util.Base64.getMimeEncoder().encodeToString(text.toString().getBytes(
                java.nio.charset.StandardCharsets.US_ASCII));
        imap.deliver(MailboxName.INBOX, "Subject: attachment\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
                + "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + encoded + "\r\n--b--\r\n");
        try (LineClient c = imap.login()) {
            c.send("s SELECT INBOX");
            c.expectEventually("s OK .*");
            // larger than FetchResponder.BINARY_IN_MEMORY: decoded twice, streamed, never held whole
            c.send("f FETCH 4 (BINARY.PEEK[2])").expect("\\* 4 FETCH \\(BINARY\\[2\\] ~\\{" + text.length() + "\\}");
            assertEquals(text + ")", literalThenParen(c));
            c.expect("f OK FETCH completed");
            String slice = text.substring(500_000, 500_040);
            c.send("p FETCH 4 (BINARY.PEEK[2]<500000.40>)").expect("\\* 4 FETCH \\(BINARY\\[2\\]<500000> ~\\{40\\}");
            assertEquals(slice + ")", literalThenParen(c));
            c.expect("p OK FETCH completed");
            // RFC 3516 §4.2: BINARY.SIZE is what BINARY would return (part 1 without the CRLF that belongs to the boundary)
            c.send("z FETCH 4 (BINARY.SIZE[2] BINARY.SIZE[1] BINARY.SIZE[9])")
                    .expect("\\* 4 FETCH \\(BINARY.SIZE\\[2\\] " + text.length() + " BINARY.SIZE\\[1\\] 12 BINARY.SIZE\\[9\\] 0\\)");
            c.expect("z OK FETCH completed");
        }
    }

    @Test
    void anAppendWithLfLineEndsIsStoredWithCrlfButALiteral8AsSent() throws Exception {
        try (LineClient c = selectedInbox()) {
            c.send("a APPEND INBOX {23+}");
            c.sendRaw("Subject: lf\nX: y\n\nbody\n\r\n").expectEventually("a OK \\[APPENDUID \\d+ 4\\] APPEND completed");
            c.send("f UID FETCH 4 (RFC822.SIZE BODY.PEEK[])")
                    .expectEventually("\\* 4 FETCH \\(UID 4 RFC822.SIZE 27 BODY\\[\\] \\{27\\}"); // 23 octets, 4 bare LFs
            c.expect("Subject: lf");
            c.expect("X: y");
            c.expect("");
            c.expect("body");
            c.expect("\\)");
            c.expect("f OK UID FETCH completed");
            c.send("b APPEND INBOX ~{7+}");
            c.sendRaw("x\ny\rz\r\n\r\n").expectEventually("b OK \\[APPENDUID \\d+ 5\\] APPEND completed");
            c.send("g UID FETCH 5 (RFC822.SIZE)").expectEventually("\\* \\d+ FETCH \\(UID 5 RFC822.SIZE 7\\)"); // RFC 3516: as sent
        }
    }

    @Test
    void everyLiteralOfARefusedCommandIsSkippedAndAnOverlongLineAfterALiteralIsAnswered() throws Exception {
        try (LineClient c = selectedInbox()) {
            // RFC 7888 §4: the non-synchronizing literals of a refused command are skipped, every one of them
            c.sendRaw("a SEARCH TEXT {70000+}\r\n" + "x".repeat(70000) + " TEXT {9+}\r\nb NOOP x\r\n");
            c.expect("a BAD literal too long for a string .*");
            c.send("n NOOP").expectEventually("n OK NOOP completed"); // "b NOOP x" was literal data, not a command
            c.sendRaw("c APPEND INBOX {3+}\r\nabc " + "y".repeat(10_000) + "\r\n");
            c.expect("c BAD line too long");
            c.send("m NOOP").expectEventually("m OK NOOP completed");
        }
    }

    /**
     * A string literal refused for what it holds (a NUL, RFC 3501 §9 CHAR8) is refused once the rest
     * of its line is read: a non-synchronizing one is not "skipped" again, which ate the next
     * command, and after a synchronizing one the rest of the line is not read as a command of its
     * own; a literal the rest of the line announces is still skipped (RFC 7888 §4).
     */
    @Test
    void aNulInAStringLiteralIsBadAndTheNextCommandIsAnswered() throws Exception {
        try (LineClient c = imap.login()) {
            c.setTimeout(Duration.ofSeconds(5));
            c.sendBytes("a SELECT {3+}\r\nx\0y\r\nb NOOP\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.expect("a BAD NUL in a literal string");
            c.expect("b OK NOOP completed");
            c.send("c SELECT {3}").expect("\\+ Ready for literal data");
            c.sendBytes("x\0y (CONDSTORE)\r\nd NOOP\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.expect("c BAD NUL in a literal string");
            c.expect("d OK NOOP completed");
            c.sendBytes("e LOGIN {3+}\r\nx\0y {4+}\r\nf OK\r\ng NOOP\r\n".getBytes(StandardCharsets.ISO_8859_1));
            c.expect("e BAD NUL in a literal string");
            c.expect("g OK NOOP completed"); // "f OK" was the second literal
        }
    }

    @Test
    void anOverlongLineEndingInANonSynchronizingLiteralHasItsOctetsSkippedNotReadAsCommands() throws Exception {
        try (LineClient c = selectedInbox()) {
            // RFC 7888 §4: the 20 octets come whatever the answer; read as commands they would log out
            c.sendRaw("a NOOP " + "y".repeat(10_000) + " {20+}\r\nb LOGOUT\r\nc LOGOUT\r\n\r\n");
            c.expect("\\* BAD Line too long");
            c.send("n NOOP").expect("n OK NOOP completed");
            // one past what the session reads to stay in step: it says so and closes
            c.sendRaw("d NOOP " + "y".repeat(10_000) + " {99999999999999999999+}\r\n");
            c.expect("\\* BAD Line too long");
            c.expect("\\* BYE literal of 9223372036854775807 bytes after a line too long is over the limit of 67108864; closing the connection");
            c.expectClosed();
        }
    }

    @Test
    void aMessageThatCrlfLineEndsTakePastTheAppendLimitIsRefusedAndTheSessionGoesOn() throws Exception {
        ImapSettings d = ImapSettings.defaults("imap.example.org");
        try (ImapFixture small = new ImapFixture(dir.resolve("small"), new ImapSettings(d.hostname(), d.plaintextAuth(),
                100, d.preAuthLiteralLimit(), d.authenticatedIdle(), d.mimeLimits(), d.recent()));
             LineClient c = small.login()) {
            c.send("a APPEND INBOX {80+}");
            c.sendRaw("Subject: x\n\n" + "\n".repeat(68) + "\r\n"); // 80 octets, 150 with CRLF line ends
            c.expect("a NO \\[TOOBIG\\] message of 150 bytes with CRLF line ends is over the limit of 100");
            c.send("b APPEND INBOX {40+}");
            c.sendRaw("Subject: x\n\n" + "\n".repeat(28) + "\r\n"); // 70 with CRLF: stored
            c.expect("b OK \\[APPENDUID \\d+ 1\\] APPEND completed");
            c.send("s STATUS INBOX (MESSAGES SIZE)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 1 SIZE 70\\)");
        }
    }

    @Test
    void nulOctetsGoOutAs0x80InBodyFetchesAndAsTheyAreInBinary() throws Exception {
        byte[] message = "Subject: nul\r\n\r\na\0b\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        imap.deliver(MailboxName.INBOX, message);
        try (LineClient c = selectedInbox()) {
            c.send("n NOOP").expectEventually("n OK .*");
            // RFC 3501 §4.3: a literal holds no NUL; the octet count stays that of the stored message
            c.send("a FETCH 4 (BODY.PEEK[TEXT])").expect("\\* 4 FETCH \\(BODY\\[TEXT\\] \\{5\\}");
            c.expect("a\uFFFDb");
            c.expect("\\)");
            c.expect("a OK FETCH completed");
            c.send("b FETCH 4 (BINARY.PEEK[1])").expect("\\* 4 FETCH \\(BINARY\\[1\\] ~\\{5\\}");
            c.expect("a\u0000b");
            c.expect("\\)");
            c.expect("b OK FETCH completed");
        }
    }

    @Test
    void binaryOfTheWholeMessageDecodesTheBodyOfASinglePartAndLeavesAMultipartAsStored() throws Exception {
        try (LineClient c = selectedInbox()) {
            // message 2 is base64 text/plain: the header as stored, the body decoded (RFC 3516 §4.2)
            String header = ImapSessionTest.CHINESE.substring(0, ImapSessionTest.CHINESE.indexOf("\r\n\r\n") + 4);
            int decoded = "你好，世界".getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            c.send("a FETCH 2 (BINARY.SIZE[] BINARY.PEEK[]<0.5>)").expect("\\* 2 FETCH \\(BINARY.SIZE\\[\\] "
                    + (header.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + decoded) + " BINARY\\[\\]<0> ~\\{5\\}");
            c.expect("From:\\)");
            c.expect("a OK FETCH completed");
            // message 3 is multipart: nothing to undo at the top, so BINARY[] is BODY[]
            int size = MULTIPART.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            c.send("b FETCH 3 (BINARY.SIZE[] RFC822.SIZE)").expect("\\* 3 FETCH \\(BINARY.SIZE\\[\\] " + size
                    + " RFC822.SIZE " + size + "\\)");
            c.expect("b OK FETCH completed");
        }
    }

    @Test
    void binaryOfAPartInAnEncodingTheServerCannotUndoIsRefusedWithUnknownCte() throws Exception {
        imap.deliver(MailboxName.INBOX, "Subject: old\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                + "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n`\r\nend\r\n--b--\r\n");
        try (LineClient c = selectedInbox()) {
            c.send("n NOOP").expectEventually("n OK .*");
            c.send("a FETCH 4 (BINARY.PEEK[2])").expect("a NO \\[UNKNOWN-CTE\\] .*x-uuencode.*"); // RFC 3516 §4.3
            c.send("b FETCH 4 (BINARY.SIZE[2])").expect("b NO \\[UNKNOWN-CTE\\] .*");
            c.send("c FETCH 4 (BINARY.PEEK[1] BODY.PEEK[2])").expect("\\* 4 FETCH \\(BINARY\\[1\\] ~\\{2\\}");
            c.expectEventually("c OK FETCH completed"); // the other parts and BODY[] of it are served
        }
    }

    /**
     * RFC 9208: an account without a quota has its mailboxes under no root; with one, GETQUOTAROOT
     * and GETQUOTA report use (rounded up) and limit in KiB, STATUS DELETED-STORAGE what an EXPUNGE
     * gives back, an APPEND past the limit gets [OVERQUOTA], and SETQUOTA is the administrator's.
     */
    /** store.max_mailboxes: past it CREATE and SUBSCRIBE get NO [LIMIT] (RFC 5530 §3) and the session goes on. */
    @Test
    void anAccountPastItsMailboxLimitGetsLimit() throws Exception {
        imap.store.store().limitMailboxes(6); // the mailboxes every account starts with
        try (LineClient c = imap.login()) {
            c.send("a CREATE Projects").expect("a NO \\[LIMIT\\] the account has 6 mailboxes and may have 6 \\(store.max_mailboxes\\).*");
            c.send("b NOOP").expect("b OK NOOP completed");
            imap.store.store().limitMailboxes(7);
            c.send("c CREATE Projects").expect("c OK .*");
            imap.store.store().limitMailboxes(6); // as many as the account subscribes to
            c.send("d SUBSCRIBE Projects").expect("d NO \\[LIMIT\\] .*unsubscribe some first");
        }
    }

    @Test
    void quotaIsReportedOverImap() throws Exception {
        try (LineClient c = selectedInbox()) {
            c.send("a GETQUOTAROOT INBOX").expect("\\* QUOTAROOT \"INBOX\"");
            c.expect("a OK GETQUOTAROOT completed");
            c.send("b GETQUOTA \"User quota\"").expect("b NO \\[NONEXISTENT\\] .*this account has no quota");
            c.send("c GETQUOTAROOT Nowhere").expect("c NO \\[NONEXISTENT\\] .*");

            imap.store.store().accounts().setQuota("alice@example.org", 10_500L);
            long used = imap.store.session().quota().usedBytes();
            assertEquals(java.util.stream.Stream.of(PLAIN, CHINESE, MULTIPART)
                    .mapToLong(m -> m.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum(), used);
            String quota = "\\* QUOTA \"User quota\" \\(STORAGE " + (used + 1023) / 1024 + " 10\\)";
            c.send("d GETQUOTAROOT inbox").expect("\\* QUOTAROOT \"INBOX\" \"User quota\"");
            c.expect(quota);
            c.expect("d OK GETQUOTAROOT completed");
            c.send("e GETQUOTA \"User quota\"").expect(quota);
            c.expect("e OK GETQUOTA completed");
            c.send("f GETQUOTA \"\"").expect("f NO \\[NONEXISTENT\\] .*");
            // a root with a line end in it is not echoed: the reply stays one line, the session in step
            c.send("f2 GETQUOTA {10+}\r\nx\r\nf3 NOOP").expect("f2 NO \\[NONEXISTENT\\] No such quota root; .*");
            c.send("f4 NOOP").expect("f4 OK NOOP completed");
            c.send("g SETQUOTA \"User quota\" (STORAGE 100000)").expect("g NO \\[NOPERM\\] .*");
            c.send("h SETQUOTA \"User quota\"").expect("h BAD .*");

            c.send("i STATUS INBOX (DELETED DELETED-STORAGE)").expect("\\* STATUS \"INBOX\" \\(DELETED 0 DELETED-STORAGE 0\\)");
            c.expect("i OK STATUS completed");
            c.send("j STORE 3 +FLAGS.SILENT (\\Deleted)").expect("j OK .*");
            long third = MULTIPART.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            c.send("k STATUS INBOX (DELETED-STORAGE)").expect("\\* STATUS \"INBOX\" \\(DELETED-STORAGE " + (third + 1023) / 1024 + "\\)");
            c.expect("k OK STATUS completed");
            c.send("l STATUS INBOX (DELETED_STORAGE)").expect("l BAD .*");

            byte[] big = ("Subject: big\r\n\r\n" + "x".repeat(10_000) + "\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            // refused as announced (RFC 3502 §6.3.11 with RFC 9208 §5.1): the client need not send what cannot fit
            c.send("m APPEND INBOX {" + big.length + "}").expect("m NO \\[OVERQUOTA\\] .*");
            c.send("n EXPUNGE").expect("\\* 3 EXPUNGE");
            c.expect("n OK EXPUNGE completed");
            c.send("o GETQUOTA \"User quota\"").expect("\\* QUOTA \"User quota\" \\(STORAGE " + (used - third + 1023) / 1024 + " 10\\)");
            c.expect("o OK GETQUOTA completed");
        }
    }

    /** {@code b} expunges message 1 and the sweep removes its content (two looks), before any other session hears of it. */
    private void expungeFirstAndSweep(LineClient b) throws IOException {
        b.send("t STORE 1 +FLAGS.SILENT (\\Deleted)").expect("t OK STORE completed");
        b.send("x EXPUNGE").expect("\\* 1 EXPUNGE");
        b.expect("x OK EXPUNGE completed");
        assertEquals(0, imap.store.store().sweepContents(Duration.ofSeconds(5)), "first look: only noted");
        assertEquals(1, imap.store.store().sweepContents(Duration.ofSeconds(5)), "second look: removed");
    }

    /** A literal's text (no "(" in it) and the ")" closing the response, lines joined as sent. */
    private static String literalThenParen(LineClient c) throws IOException {
        StringBuilder joined = new StringBuilder();
        for (String line = c.readLine(); ; line = c.readLine()) {
            joined.append(line);
            if (line.endsWith(")")) {
                return joined.toString();
            }
            joined.append("\r\n");
        }
    }

    /** Delivers sort/tNN-*.eml (the threading messages DovecotSortTest also uses) into INBOX, in this order. */
    private void deliverThreadingMessages(String... names) throws IOException {
        for (String name : names) {
            try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(Path.of("src/test/resources/sort"))) {
                Path file = files.filter(p -> p.getFileName().toString().startsWith(name + "-")).findFirst().orElseThrow();
                imap.deliver(MailboxName.INBOX, java.nio.file.Files.readAllBytes(file));
            }
        }
    }

    private static void answer(LineClient c, String tag, String command, String response) throws IOException {
        c.send(tag + " " + command).expect(java.util.regex.Pattern.quote(response));
        c.expect(tag + " OK .*completed");
    }

    /**
     * RFC 5256 §3 SORT over 1 "hello" (Bob, 1 Dec 10:00Z), 2 GBK-encoded 中文测试 (张三, 2 Dec +0800),
     * 3 "parts" (carol, no Date), 4 项目计划 and 5 "Re: 项目计划" in UTF-8 words, 6 "Zebra notes"
     * (Zoë Ångström, no Date), 7 and 8 "equal" (same sender, date and size), 9 "Fwd: Re: Lunch?",
     * all with the same INTERNALDATE, 1 Dec 10:00Z: base subjects, sent dates with INTERNALDATE for
     * a missing Date:, the first address, display names; ties by sequence number, which REVERSE
     * leaves ascending.
     */
    @Test
    void sortOrdersByBaseSubjectSentDateAndAddressWithTiesBySequence() throws Exception {
        deliverThreadingMessages("t01", "t02", "t09", "t13", "t14", "t16");
        try (LineClient c = selectedInbox()) {
            answer(c, "a", "SORT (SUBJECT) UTF-8 ALL", "* SORT 7 8 1 9 3 6 2 4 5");
            answer(c, "b", "SORT (REVERSE SUBJECT) UTF-8 ALL", "* SORT 4 5 2 6 3 9 1 7 8");
            answer(c, "c", "SORT (DATE) UTF-8 ALL", "* SORT 1 3 6 2 4 5 7 8 9");
            answer(c, "d", "SORT (REVERSE DATE) US-ASCII ALL", "* SORT 9 7 8 5 4 2 1 3 6");
            answer(c, "e", "SORT (REVERSE ARRIVAL) UTF-8 ALL", "* SORT 1 2 3 4 5 6 7 8 9");
            answer(c, "f", "SORT (FROM) UTF-8 ALL", "* SORT 1 5 3 9 7 8 2 4 6");
            answer(c, "g", "SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 1 5 3 9 7 8 6 2 4");
            answer(c, "h", "SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "* SORT 7 8 1 9 3 6 2 5 4");
            answer(c, "i", "SORT (CC SIZE) UTF-8 UNDELETED NOT UID 1:3", "* SORT 6 7 8 9 4 5");
            c.send("u UID SORT (REVERSE DATE) UTF-8 SUBJECT {12}").expect("\\+ Ready for literal data");
            c.send("项目计划").expect("\\* SORT 5 4");
            c.expect("u OK UID SORT completed");
            // RFC 5267 §3 ESORT: MIN and MAX are the first and last in sort order, ALL keeps the order
            answer(c, "j", "SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 ALL",
                    "* ESEARCH (TAG \"j\") MIN 1 MAX 9 ALL 1,3,6,2,4:5,7:9 COUNT 9");
            answer(c, "k", "UID SORT RETURN () (REVERSE SUBJECT) UTF-8 UID 4:*", "* ESEARCH (TAG \"k\") UID ALL 4:6,9,7:8");
            answer(c, "l", "SORT RETURN (COUNT) (DATE) UTF-8 SUBJECT nowhere", "* ESEARCH (TAG \"l\") COUNT 0");
            answer(c, "m", "SORT (SUBJECT) UTF-8 SUBJECT nowhere", "* SORT");
            // a criterion named again decides nothing more: it is not kept a second time
            answer(c, "n", "SORT (DATE REVERSE DATE DATE SUBJECT) UTF-8 ALL", "* SORT 1 3 6 2 4 5 7 8 9");
        }
    }

    /**
     * RFC 5256 §3 THREAD over sort/t01..t16 (INBOX 4 to 19): a reply chain, a References chain
     * broken by a message never delivered (7), two replies to a missing parent (8, 9) and a later
     * message with their subject (10), a forward gathered by subject (11), a missing Date (12), a
     * duplicate Message-ID (13), a References loop (14, 15), equal subjects and dates (16, 17).
     */
    @Test
    void threadByReferencesAndByOrderedSubject() throws Exception {
        deliverThreadingMessages("t01", "t02", "t03", "t04", "t05", "t06", "t07", "t08", "t09", "t10", "t11", "t12", "t13",
                "t14", "t15", "t16");
        try (LineClient c = selectedInbox()) {
            answer(c, "a", "UID THREAD REFERENCES UTF-8 UID 4:*",
                    "* THREAD (12 18)(4 (5 6)(7)(11))((9)(8)(10))(13)(15 14)((16)(17))(19)");
            answer(c, "b", "UID THREAD ORDEREDSUBJECT UTF-8 UID 4:*",
                    "* THREAD (12 18)(4 (5)(6)(7)(11))(9 (8)(10))(13)(14 15)(16 17)(19)");
            // without the thread's first message its replies hang under a dummy, which the answer leaves out
            answer(c, "c", "THREAD REFERENCES UTF-8 UID 5:11", "* THREAD ((5 6)(7)(11))((9)(8)(10))");
            answer(c, "d", "THREAD REFERENCES US-ASCII SUBJECT nowhere", "* THREAD");
            answer(c, "e", "THREAD ORDEREDSUBJECT UTF-8 1:3", "* THREAD (1)(3)(2)");
        }
    }

    /**
     * References of a message whose header was too big to be kept with its summary (32 KiB) come
     * from the file, read up to the blank line only.
     */
    @Test
    void referencesBeyondTheKeptHeaderAreReadFromTheMessage() throws Exception {
        deliverThreadingMessages("t01");
        imap.deliver(MailboxName.INBOX, "From: bob@remote.test\r\nSubject: long header\r\n"
                + ("X-Padding: " + "x".repeat(70) + "\r\n").repeat(600)
                + "Message-ID: <long@thread.test>\r\nReferences: <plan@thread.test>\r\n\r\nbody\r\n");
        try (LineClient c = selectedInbox()) {
            answer(c, "a", "UID THREAD REFERENCES UTF-8 UID 4:*", "* THREAD (4 5)");
        }
    }

    /** RFC 5256 §3: the charset is mandatory, and NO [BADCHARSET] for one the server cannot search in; SORT needs a mailbox. */
    @Test
    void sortAndThreadRefuseBadArgumentsAndNeedASelectedMailbox() throws Exception {
        try (LineClient c = imap.connect()) {
            c.send("a SORT (DATE) UTF-8 ALL").expect("a NO Log in first.*");
        }
        try (LineClient c = imap.login()) {
            String caps = c.send("c CAPABILITY").expect("\\* CAPABILITY .*");
            c.expect("c OK CAPABILITY completed");
            for (String cap : List.of("SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES")) {
                assertTrue(List.of(caps.split(" ")).contains(cap), cap + " in " + caps);
            }
            c.send("n SORT (DATE) UTF-8 ALL").expect("n NO \\[?.*Select a mailbox first.*");
            c.send("t UID THREAD REFERENCES UTF-8 ALL").expect("t NO .*Select a mailbox first.*");
            c.send("s SELECT INBOX").expectEventually("s OK .*");
            c.send("b1 SORT (BOGUS) UTF-8 ALL").expect("b1 BAD unknown sort criterion BOGUS.*");
            c.send("b2 SORT (DATE) ALL").expect("b2 BAD missing charset or search keys.*");
            c.send("b3 SORT DATE UTF-8 ALL").expect("b3 BAD SORT needs a list of sort criteria.*");
            c.send("b4 SORT (REVERSE) UTF-8 ALL").expect("b4 BAD .*");
            c.send("b5 THREAD BOGUS UTF-8 ALL").expect("b5 BAD unknown threading algorithm BOGUS.*");
            c.send("b6 UID THREAD REFERENCES ALL").expect("b6 BAD missing charset or search keys.*");
            // RFC 4466 §2.6.1: an unknown return option is BAD, for SORT as for SEARCH
            c.send("b7 SORT RETURN (BOGUS) (DATE) UTF-8 ALL").expect("b7 BAD unknown return option BOGUS.*");
            c.send("b8 SEARCH RETURN (UPDATE) ALL").expect("b8 BAD unknown return option UPDATE.*");
            c.send("n1 SORT (DATE) KOI8-R ALL").expect("n1 NO \\[BADCHARSET \\(UTF-8 US-ASCII\\)\\] Cannot search in KOI8-R");
            c.send("n2 THREAD REFERENCES KOI8-R ALL").expect("n2 NO \\[BADCHARSET \\(UTF-8 US-ASCII\\)\\] .*");
            c.send("z NOOP").expect("z OK NOOP completed"); // the session goes on
        }
    }

    /**
     * Sort values and threading links come from what was stored at delivery: with every message's
     * octets gone (a small one's from the database, a large one's file), SORT and THREAD still
     * answer (FETCH BODY[] would not).
     */
    @Test
    void sortAndThreadReadNoMessageFile() throws Exception {
        deliverThreadingMessages("t01", "t02", "t03", "t04");
        imap.deliver(MailboxName.INBOX, "From: bob@remote.test\r\nSubject: large\r\nDate: Tue, 1 Jan 2030 10:00:00 +0000\r\nMessage-ID: <large@thread.test>\r\n\r\n"
                + ("x".repeat(76) + "\r\n").repeat(MessageSpool.IN_MEMORY_MAX / 78 + 1));
        // small messages' octets are kept in the database, a large one's in its file: both taken away
        imap.store.execute("DELETE FROM content_octets");
        int files = 0;
        try (java.util.stream.Stream<Path> walk = java.nio.file.Files.walk(dir.resolve("data/contents"))) {
            for (Path f : walk.filter(java.nio.file.Files::isRegularFile).toList()) {
                java.nio.file.Files.delete(f);
                files++;
            }
        }
        assertEquals(1, files, "the large message's file");
        try (LineClient c = selectedInbox()) {
            answer(c, "a", "UID THREAD REFERENCES UTF-8 ALL", "* THREAD (1)(3)(2)(4 (5 6)(7))(8)");
            answer(c, "b", "SORT (REVERSE SUBJECT) UTF-8 ALL", "* SORT 4 5 6 7 2 3 8 1");
        }
    }

    /** A header value of about {@code chars} characters: {@code unit} repeated, folded every 25 units. */
    private static String folded(String unit, int chars) {
        StringBuilder sb = new StringBuilder(chars + chars / 20);
        for (int i = 0; sb.length() < chars; i++) {
            sb.append(i > 0 && i % 25 == 0 ? "\r\n " : "").append(unit);
        }
        return sb.toString();
    }

    /**
     * A Subject: of a MiB of "[a]" blobs, References of '<' with nothing to close them, an
     * In-Reply-To whose id is followed by more of them (each folded, the header within
     * MimeLimits.maxHeaderBytes) took minutes of CPU per SORT or THREAD: they are read in part,
     * and linearly, so the answers come at once.
     */
    @Test
    void sortAndThreadAnswerPromptlyOverMebibyteHeaders() throws Exception {
        imap.deliver(MailboxName.INBOX, "From: x@remote.test\r\nSubject: " + folded("[a]", 1000 * 1024)
                + "\r\nMessage-ID: <blobs@remote.test>\r\n\r\nbody\r\n");
        imap.deliver(MailboxName.INBOX, "From: x@remote.test\r\nSubject: refs\r\nReferences: " + folded("<", 600 * 1024)
                + "\r\nIn-Reply-To: <m1@remote.test> " + folded("<", 300 * 1024) + "\r\n\r\nbody\r\n");
        try (LineClient c = selectedInbox()) {
            c.setTimeout(Duration.ofSeconds(5));
            // 4's base subject starts with a blob's '[', which sorts after H, P and R
            answer(c, "a", "SORT (SUBJECT) UTF-8 ALL", "* SORT 1 3 5 4 2");
            answer(c, "b", "THREAD REFERENCES UTF-8 ALL", "* THREAD (1 5)(3)(4)(2)");
            answer(c, "c", "THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (1)(3)(4)(5)(2)");
        }
    }

    /**
     * Messages another session expunged and the sweep removed (MailboxStore.sweepContents) before
     * this session heard of it: SORT and THREAD take each as one without headers (subject "",
     * INTERNALDATE for its date, no references) and answer OK with it, as FETCH sends its body as
     * NIL. 4's header is too big to have been kept with its summary (32 KiB): its References would
     * have been read from the file, which is gone while its summary is still cached.
     */
    @Test
    void sortAndThreadTakeAMessageSweptAwayBeforeTheSessionSawItsExpungeAsOneWithoutHeaders() throws Exception {
        imap.deliver(MailboxName.INBOX, "From: bob@remote.test\r\nSubject: big\r\n"
                + ("X-Padding: " + "x".repeat(70) + "\r\n").repeat(600)
                + "Message-ID: <big@remote.test>\r\nReferences: <m1@remote.test>\r\n\r\nbody\r\n");
        try (LineClient a = selectedInbox(); LineClient b = selectedInbox()) {
            answer(a, "t", "THREAD REFERENCES UTF-8 4", "* THREAD (4)"); // 4's summary is cached from here on
            b.send("s STORE 1,4 +FLAGS.SILENT (\\Deleted)").expect("s OK STORE completed");
            b.send("x EXPUNGE").expect("\\* 4 EXPUNGE");
            b.expect("\\* 1 EXPUNGE");
            b.expect("x OK EXPUNGE completed");
            assertEquals(0, imap.store.store().sweepContents(Duration.ofSeconds(5)), "first look: only noted");
            assertEquals(2, imap.store.store().sweepContents(Duration.ofSeconds(5)), "second look: removed");

            answer(a, "a", "SORT (SUBJECT) UTF-8 ALL", "* SORT 1 4 3 2"); // 4's subject is in the cached summary
            answer(a, "b", "SORT (DATE) UTF-8 ALL", "* SORT 1 3 4 2");
            answer(a, "c", "THREAD REFERENCES UTF-8 4", "* THREAD (4)");
            answer(a, "d", "THREAD REFERENCES UTF-8 ALL", "* THREAD (1)(3)(4)(2)");
            answer(a, "e", "THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (1)(3)(4)(2)");
            a.send("n NOOP").expect("\\* 4 EXPUNGE");
            a.expect("\\* 1 EXPUNGE");
            a.expect("n OK NOOP completed");
        }
    }

    /**
     * THREAD compares base subjects by a key of UnicodeCasemap.MAX_KEY_CHARS and a digest of the
     * whole: two subjects alike for their first 300 characters are two threads, and a reply to one
     * joins that one (RFC 5256 §3, REFERENCES step 5; ORDEREDSUBJECT).
     */
    @Test
    void longSubjectsAlikeBeyondTheKeyAreDifferentThreads() throws Exception {
        String common = "Quarterly planning notes ".repeat(12);
        imap.deliver(MailboxName.INBOX, "From: bob@remote.test\r\nSubject: " + common + "north\r\n\r\nbody\r\n");
        imap.deliver(MailboxName.INBOX, "From: bob@remote.test\r\nSubject: " + common + "south\r\n\r\nbody\r\n");
        imap.deliver(MailboxName.INBOX, "From: bob@remote.test\r\nSubject: Re: " + common.toUpperCase() + "NORTH\r\n\r\nbody\r\n");
        try (LineClient c = selectedInbox()) {
            answer(c, "a", "THREAD REFERENCES UTF-8 4:*", "* THREAD (4 6)(5)");
            answer(c, "b", "THREAD ORDEREDSUBJECT UTF-8 4:*", "* THREAD (4 6)(5)");
        }
    }
}

package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mailstack.net.LineClient;
import dev.mailstack.net.LineMutator;
import dev.mailstack.store.MailboxName;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of damaged commands, each followed by a NOOP on the same connection: every one must get
 * its tagged answer and leave the session in step (DEVELOPERS.md, non-negotiable 3). A session that
 * dies without a BYE, or an answer that never comes, fails with the input that caused it.
 */
class HostileCommandsTest {
    private static final List<String> COMMANDS = List.of(
            "CAPABILITY", "NOOP", "CHECK", "NAMESPACE", "ID (\"name\" \"fuzz\" \"version\" \"1\")",
            "ENABLE CONDSTORE UTF8=ACCEPT", "ENABLE QRESYNC",
            "SELECT INBOX (QRESYNC (1 1 1:3 (1:2 1,3)))", "EXAMINE INBOX (CONDSTORE QRESYNC (4294967295 0 (1 1)))",
            "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", "UID FETCH 2,4:* (UID) (VANISHED CHANGEDSINCE 0)",
            "FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)",
            "UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID"
                    + " Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])",
            "FETCH 1 (BODY.PEEK[HEADER.FIELDS (From Subject)] BODY[TEXT]<0.10>)",
            "FETCH 3 (BODYSTRUCTURE ENVELOPE BODY)",
            "FETCH 3 (BODY[1.MIME] BODY[2] BINARY[2] BINARY.SIZE[2] BODY.PEEK[HEADER.FIELDS.NOT (Subject)])",
            "FETCH 3 (BODY[1] BINARY.PEEK[1]<2.5> BODY[2.HEADER] BODY[2.TEXT])",
            "FETCH 2 (RFC822 RFC822.HEADER RFC822.TEXT)",
            "FETCH 1:2 (FLAGS) (CHANGEDSINCE 1)",
            "FETCH 1 ALL", "FETCH 2 FAST", "FETCH 3 FULL",
            "STORE 1 +FLAGS (\\Seen)",
            "STORE 1:* -FLAGS.SILENT (\\Flagged $Label1)",
            "STORE 2 FLAGS (\\Deleted \\Answered)",
            "UID STORE 1:3 (UNCHANGEDSINCE 5) +FLAGS (\\Draft)",
            "SEARCH CHARSET UTF-8 SUBJECT 中文",
            "SEARCH OR FROM bob NOT SEEN SINCE 1-Dec-2026 LARGER 10",
            "SEARCH HEADER Message-ID <m1@remote.test> BODY world TEXT hello UID 1:2 2,3:*",
            "UID SEARCH RETURN (MIN MAX COUNT ALL) BEFORE 2-Dec-2027 ON 1-Dec-2026 SENTBEFORE 3-Dec-2026"
                    + " SENTSINCE 1-Jan-2000 KEYWORD $Forwarded UNKEYWORD x NEW OLD RECENT ANSWERED DELETED DRAFT"
                    + " FLAGGED UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN SMALLER 99999 MODSEQ 1",
            "SEARCH (OR (SUBJECT a) (CC b)) (TO c) BCC d",
            "SEARCH CHARSET GBK BODY {4}",
            "SORT (REVERSE ARRIVAL CC DATE FROM SIZE SUBJECT TO DISPLAYFROM DISPLAYTO) UTF-8 ALL",
            "UID SORT RETURN (MIN MAX ALL COUNT) (REVERSE SUBJECT) US-ASCII OR FROM bob UID 1:*",
            "SORT (SUBJECT) UTF-8 SUBJECT {6}",
            "THREAD REFERENCES UTF-8 ALL", "UID THREAD ORDEREDSUBJECT UTF-8 NOT DELETED",
            "COPY 1:2 Archive", "UID COPY 1 &XeVPXA-", "MOVE 1 Trash", "UID MOVE 2 Archive",
            "EXPUNGE", "UID EXPUNGE 1:2",
            "LIST \"\" \"*\"",
            "LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE CHILDREN STATUS (MESSAGES UNSEEN SIZE))",
            "LSUB \"\" \"%\"",
            "STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)",
            "CREATE Projects/2026", "RENAME Projects Old", "DELETE Old", "SUBSCRIBE Archive", "UNSUBSCRIBE Archive",
            "APPEND INBOX (\\Seen) \"01-Dec-2026 10:00:00 +0000\" {12}",
            "APPEND Drafts {12+}",
            "EXAMINE INBOX", "SELECT INBOX (CONDSTORE)", "UNSELECT", "CLOSE");
    /** No STARTTLS, COMPRESS, IDLE or LOGOUT in either list: each changes the connection, not the command. */
    private static final List<String> BEFORE_LOGIN = List.of(
            "CAPABILITY", "NOOP", "ID NIL", "ENABLE UTF8=ACCEPT", "SELECT INBOX", "LOGIN alice@example.org wrong",
            "LOGIN \"alice@example.org\" {6}", "LOGIN {17+}", "AUTHENTICATE PLAIN", "AUTHENTICATE LOGIN",
            "AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHdyb25n", "AUTHENTICATE CRAM-MD5 =",
            "LOGIN alice@example.org secret");
    private static final List<String> TOKENS = List.of(
            "*", ":", ",", "(", ")", "[", "]", "<", ">", ".", "\"", "\\", " ", "%", "$", "~",
            "{3}", "{0}", "{3+}", "{70000+}", "{4294967296}", "{99999999999999999999}", "~{2}",
            "0", "-1", "4294967295", "4294967296", "18446744073709551616", "NIL", "中文", "&-", "&Jjo", "&AGE-",
            "BODY[", "HEADER.FIELDS (", "1.2.3.4.5.6.7.8.9.10", "<0.0>", "<4294967295.1>", "\\Seen",
            "((((((((((((((((((((((((((((((((((((((((", "\"\\\\\"", "MIME", "TEXT", "CHARSET", "OR OR OR", "NOT NOT",
            "UID", "RETURN (", "CHANGEDSINCE 0", "1:*", "*:1", "BINARY[", "ALL", "INBOX", "\"\"");
    private static final Pattern LITERAL_AT_END = Pattern.compile("\\{(\\d{1,18})(\\+?)}$");

    @TempDir
    Path dir;
    ImapFixture imap;

    /**
     * APPENDLIMIT for this test: a damaged APPEND announcing a non-synchronizing literal up to it is
     * sent its octets; one past it must end the session (a literal the server would otherwise wait for).
     */
    private static final int APPEND_LIMIT = 100_000;

    @BeforeEach
    void start() throws IOException {
        ImapSettings d = ImapSettings.defaults("imap.example.org");
        imap = new ImapFixture(dir, new ImapSettings(d.hostname(), d.plaintextAuth(), APPEND_LIMIT,
                d.preAuthLiteralLimit(), d.authenticatedIdle(), d.mimeLimits(), d.recent()));
        deliverAll();
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    private void deliverAll() throws IOException {
        imap.deliver(MailboxName.INBOX, ImapSessionTest.PLAIN);
        imap.deliver(MailboxName.INBOX, ImapSessionTest.CHINESE);
        imap.deliver(MailboxName.INBOX, ImapSessionTest.MULTIPART);
    }

    @Test
    void everyDamagedCommandIsAnsweredAndTheSessionGoesOn() throws Exception {
        LineMutator mutator = new LineMutator(Long.getLong("hostile.seed", 20261205L), TOKENS); // -Dhostile.seed=N explores another sequence
        LineClient user = null;
        LineClient stranger = null;
        int byes = 0;
        for (int i = 0; i < 4000; i++) {
            boolean beforeLogin = i % 4 == 0; // every fourth case on a connection that has not logged in
            if (i % 25 == 24) {
                deliverAll(); // mutated MOVE, EXPUNGE and DELETE empty the mailbox over time
            }
            if (beforeLogin && (stranger == null || i % 200 == 0)) {
                if (stranger != null) {
                    stranger.close(); // it may have logged in by now
                }
                stranger = imap.connect();
                stranger.setTimeout(Duration.ofSeconds(5));
            } else if (!beforeLogin && user == null) {
                user = selected();
            } else if (!beforeLogin && i % 10 == 1) {
                user.send("s" + i + " SELECT INBOX").expectEventually("s" + i + " OK .*"); // after CLOSE, UNSELECT, ...
            }
            LineClient c = beforeLogin ? stranger : user;
            String command = mutator.pick(beforeLogin ? BEFORE_LOGIN : COMMANDS);
            byte[] damaged = mutator.mutate(command, i % 5 == 0 ? 0 : commandName(command));
            String input = new String(damaged, StandardCharsets.ISO_8859_1);
            String outcome;
            try {
                outcome = exchange(c, "f" + i, damaged);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no answer within 5 s to: f" + i + " " + input, e);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + " after: f" + i + " " + input, e);
            }
            if (outcome.isEmpty()) {
                fail("connection dropped without BYE after: f" + i + " " + input);
            }
            if (outcome.startsWith("* BYE")) {
                byes++;
                c.close();
                if (beforeLogin) {
                    stranger = null;
                } else {
                    user = null;
                }
            }
        }
        for (LineClient c : new LineClient[] {user, stranger}) {
            if (c != null) {
                c.close();
            }
        }
        assertTrue(byes < 40, "sessions ended with BYE: " + byes);
        try (LineClient check = selected()) {
            check.send("z NOOP").expectEventually("z OK NOOP completed");
        }
    }

    /** The command's name ("UID FETCH" counts as one), which most cases leave whole. */
    private static int commandName(String command) {
        int space = command.indexOf(' ', command.startsWith("UID ") ? 4 : 0);
        return space < 0 ? command.length() : space;
    }

    private LineClient selected() throws IOException {
        LineClient c = imap.login();
        c.setTimeout(Duration.ofSeconds(5));
        c.send("s SELECT INBOX").expectEventually("s OK .*");
        return c;
    }

    /**
     * Sends one damaged command (with the literal it announces, if the server asks for it), waits for
     * its tagged answer (cancelling a SASL exchange with "*", RFC 3501 §6.2.2), then a NOOP's; returns
     * the NOOP's answer, a BYE line if the server ended the session, or "" if it vanished.
     */
    private static String exchange(LineClient c, String tag, byte[] damaged) throws IOException {
        ByteArrayOutputStream command = new ByteArrayOutputStream();
        command.writeBytes((tag + " ").getBytes(StandardCharsets.US_ASCII));
        command.writeBytes(damaged);
        command.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        c.sendBytes(command.toByteArray()); // one write: split writes meet Nagle and delayed ACKs, 40 ms each
        Matcher literal = LITERAL_AT_END.matcher(new String(damaged, StandardCharsets.ISO_8859_1));
        boolean pendingLiteral = literal.find();
        long size = pendingLiteral ? Long.parseLong(literal.group(1)) : 0;
        if (pendingLiteral && !literal.group(2).isEmpty()) {
            // The server skips an unwanted non-synchronizing literal up to APPENDLIMIT and ends the session past it.
            if (size <= APPEND_LIMIT) {
                c.sendRaw("x".repeat((int) size) + "\r\n");
            }
            pendingLiteral = false;
        }
        String bye = null;
        for (String line; ; ) {
            line = c.readLine();
            if (line == null) {
                return bye == null ? "" : bye;
            }
            if (line.startsWith("* BYE")) {
                bye = line;
            } else if (line.startsWith("+") && pendingLiteral) {
                assertTrue(size <= ImapSettings.defaults("x").appendLimit(), "server took a literal of " + size + " bytes");
                c.sendRaw("x".repeat((int) size) + "\r\n");
                pendingLiteral = false;
            } else if (line.startsWith("+")) {
                c.sendRaw("*\r\n");
            } else if (line.startsWith(tag + " ")) {
                break;
            }
        }
        c.sendRaw("n" + tag + " NOOP\r\n");
        for (String line; (line = c.readLine()) != null; ) {
            if (line.startsWith("* BYE")) {
                bye = line;
            }
            if (line.startsWith("n" + tag + " ")) {
                return line;
            }
        }
        return bye == null ? "" : bye;
    }
}

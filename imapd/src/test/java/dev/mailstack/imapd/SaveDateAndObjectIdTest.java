package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.Uid;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 8514 SAVEDATE and RFC 8474 OBJECTID over a real store and socket. */
class SaveDateAndObjectIdTest {
    private static final Pattern OBJECT_ID = Pattern.compile("[A-Za-z0-9_-]{1,255}");

    @TempDir
    Path dir;
    ImapFixture imap;
    Uid first;

    @BeforeEach
    void start() throws Exception {
        imap = new ImapFixture(dir);
        first = imap.deliver(MailboxName.INBOX, ImapSessionTest.PLAIN);
        imap.deliver(MailboxName.INBOX, ImapSessionTest.CHINESE);
        imap.store.savedAt(MailboxName.INBOX, first, Instant.parse("2020-01-02T03:04:05Z"));
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    @Test
    void capabilitiesNameTheThreeExtensions() throws IOException {
        try (LineClient c = imap.login()) {
            String caps = c.send("c CAPABILITY").expect("\\* CAPABILITY .*");
            c.expect("c OK CAPABILITY completed");
            for (String cap : new String[]{"MULTIAPPEND", "OBJECTID", "SAVEDATE"}) {
                assertTrue((caps + " ").contains(" " + cap + " "), caps);
            }
        }
    }

    /**
     * RFC 8514 §3, §4.2-4.3: SAVEDATE is the date the message came into this mailbox, not INTERNALDATE, and
     * SAVEDBEFORE/SAVEDON/SAVEDSINCE compare its day as BEFORE/ON/SINCE compare INTERNALDATE's, in
     * SEARCH, UID SEARCH, ESEARCH and SORT alike, and inside NOT and OR.
     */
    @Test
    void saveDatesAreFetchedAndSearchedApartFromInternalDates() throws IOException {
        try (LineClient c = imap.login()) {
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("f FETCH 1:2 (SAVEDATE INTERNALDATE)");
            c.expect("\\* 1 FETCH \\(SAVEDATE \"02-Jan-2020 03:04:05 \\+0000\" INTERNALDATE \"01-Dec-2026 10:00:00 \\+0000\"\\)");
            String second = c.expect("\\* 2 FETCH \\(SAVEDATE \"\\d\\d-\\w{3}-\\d{4} \\d\\d:\\d\\d:\\d\\d \\+0000\" INTERNALDATE .*\\)");
            c.expect("f OK FETCH completed");
            String savedDay = day(second);

            c.send("a SEARCH SAVEDON 2-Jan-2020").expect("\\* SEARCH 1");
            c.expect("a OK SEARCH completed");
            c.send("b SEARCH SAVEDBEFORE 3-Jan-2020").expect("\\* SEARCH 1");
            c.expect("b OK SEARCH completed");
            c.send("d SEARCH SAVEDSINCE 3-Jan-2020").expect("\\* SEARCH 2");
            c.expect("d OK SEARCH completed");
            c.send("e SEARCH SAVEDON " + savedDay).expect("\\* SEARCH 2");
            c.expect("e OK SEARCH completed");
            c.send("g SEARCH ON 1-Dec-2026 SAVEDBEFORE 3-Jan-2020").expect("\\* SEARCH 1");
            c.expect("g OK SEARCH completed");
            c.send("h UID SEARCH NOT SAVEDSINCE 3-Jan-2020").expect("\\* SEARCH " + first.value());
            c.expect("h OK UID SEARCH completed");
            c.send("i SEARCH OR SAVEDON 2-Jan-2020 SAVEDON \"" + savedDay + "\"").expect("\\* SEARCH 1 2");
            c.expect("i OK SEARCH completed");
            c.send("j SEARCH RETURN (MIN COUNT) SAVEDATESUPPORTED").expect("\\* ESEARCH \\(TAG \"j\"\\) MIN 1 COUNT 2");
            c.expect("j OK SEARCH completed");
            c.send("k SEARCH NOT SAVEDATESUPPORTED").expect("\\* SEARCH");
            c.expect("k OK SEARCH completed");
            c.send("l SORT (ARRIVAL) UTF-8 SAVEDSINCE 3-Jan-2020").expect("\\* SORT 2");
            c.expect("l OK SORT completed");
            c.send("m UID SORT RETURN (COUNT) (SUBJECT) UTF-8 SAVEDBEFORE 1-Jan-2020").expect("\\* ESEARCH \\(TAG \"m\"\\) UID COUNT 0");
            c.expect("m OK UID SORT completed");

            c.send("n SEARCH SAVEDON 32-Jan-2020").expect("n BAD bad date 32-Jan-2020.*");
            c.send("o SEARCH SAVEDSINCE").expect("o BAD .*");
            c.send("p FETCH 1 SAVEDATE.PEEK").expect("p BAD .*");

            // RFC 8514 §3: a copy is saved into its mailbox when it is copied there
            c.send("q COPY 1 Archive").expect("q OK \\[COPYUID .*");
            c.send("r EXAMINE Archive").expectEventually("r OK \\[READ-ONLY\\] EXAMINE completed");
            String copy = c.send("t FETCH 1 SAVEDATE").expect("\\* 1 FETCH \\(SAVEDATE \".*\"\\)");
            c.expect("t OK FETCH completed");
            assertNotEquals("2-Jan-2020", day(copy), copy);
        }
    }

    /**
     * RFC 8474 §4.1-4.3: MAILBOXID on CREATE, SELECT, EXAMINE and STATUS, the same through RENAME and
     * a restart; §5.1-5.3: EMAILID the same for a copy and a move of a message, THREADID NIL; §6: the
     * EMAILID and THREADID search keys.
     */
    @Test
    void objectIdsStayThroughRenameCopyMoveAndRestart() throws IOException {
        String mailboxId;
        String emailId;
        try (LineClient c = imap.login()) {
            mailboxId = group(c.send("a CREATE Projects").expect("a OK \\[MAILBOXID \\((.*)\\)\\] CREATE completed"),
                    "a OK \\[MAILBOXID \\((.*)\\)\\].*");
            assertTrue(OBJECT_ID.matcher(mailboxId).matches(), mailboxId);
            c.send("b STATUS Projects (MESSAGES MAILBOXID)").expect("\\* STATUS \"Projects\" \\(MESSAGES 0 MAILBOXID \\("
                    + Pattern.quote(mailboxId) + "\\)\\)");
            c.expect("b OK STATUS completed");
            c.send("d RENAME Projects Work/Projects").expect("d OK RENAME completed");
            c.send("e EXAMINE Work/Projects").expectEventually("\\* OK \\[MAILBOXID \\(" + Pattern.quote(mailboxId) + "\\)\\] .*");
            c.expect("e OK \\[READ-ONLY\\] EXAMINE completed");
            String inbox = group(c.send("g SELECT INBOX").expectEventually("\\* OK \\[MAILBOXID \\(.*\\)\\] .*"),
                    "\\* OK \\[MAILBOXID \\((.*)\\)\\] .*");
            c.expect("g OK \\[READ-WRITE\\] SELECT completed");
            assertNotEquals(mailboxId, inbox);

            String fetched = c.send("h FETCH 1:2 (EMAILID THREADID)").expect("\\* 1 FETCH \\(EMAILID \\(.*\\) THREADID NIL\\)");
            emailId = group(fetched, "\\* 1 FETCH \\(EMAILID \\((.*)\\) THREADID NIL\\)");
            assertTrue(OBJECT_ID.matcher(emailId).matches(), emailId);
            String other = group(c.expect("\\* 2 FETCH \\(EMAILID \\(.*\\) THREADID NIL\\)"), "\\* 2 FETCH \\(EMAILID \\((.*)\\) .*");
            assertNotEquals(emailId, other);
            c.expect("h OK FETCH completed");

            c.send("i COPY 1 Work/Projects").expect("i OK \\[COPYUID .*");
            c.send("j MOVE 1 Trash").expectEventually("j OK MOVE completed");
            c.send("k SELECT Trash").expectEventually("k OK \\[READ-WRITE\\] SELECT completed");
            c.send("l UID FETCH 1:* EMAILID").expect("\\* 1 FETCH \\(UID \\d+ EMAILID \\(" + Pattern.quote(emailId) + "\\)\\)");
            c.expect("l OK UID FETCH completed");
            c.send("m SEARCH EMAILID " + emailId).expect("\\* SEARCH 1");
            c.expect("m OK SEARCH completed");
            c.send("n SEARCH OR EMAILID " + other + " THREADID T1").expect("\\* SEARCH");
            c.expect("n OK SEARCH completed");
            c.send("o UID SEARCH RETURN (COUNT) NOT EMAILID " + emailId).expect("\\* ESEARCH \\(TAG \"o\"\\) UID COUNT 0");
            c.expect("o OK UID SEARCH completed");
            c.send("p SEARCH EMAILID M$bad").expect("p BAD bad object id .*");
            c.send("q SEARCH EMAILID \"" + emailId + "\"").expect("q BAD bad object id .*");
            c.send("r SEARCH THREADID " + "T".repeat(256)).expect("r BAD bad object id .*");
            c.send("s SEARCH EMAILID").expect("s BAD .*");
            c.send("t SELECT Work/Projects").expectEventually("t OK \\[READ-WRITE\\] SELECT completed");
            c.send("u FETCH 1 (EMAILID)").expect("\\* 1 FETCH \\(EMAILID \\(" + Pattern.quote(emailId) + "\\)\\)");
            c.expect("u OK FETCH completed");
        }
        imap.close();
        imap = ImapFixture.restart(dir);
        try (LineClient c = imap.login()) {
            c.send("a STATUS Work/Projects (MAILBOXID)").expect("\\* STATUS \"Work/Projects\" \\(MAILBOXID \\("
                    + Pattern.quote(mailboxId) + "\\)\\)");
            c.expect("a OK STATUS completed");
            c.send("b EXAMINE Trash").expectEventually("b OK \\[READ-ONLY\\] EXAMINE completed");
            c.send("d FETCH 1 EMAILID").expect("\\* 1 FETCH \\(EMAILID \\(" + Pattern.quote(emailId) + "\\)\\)");
            c.expect("d OK FETCH completed");
        }
    }

    /** The day of the first date-time in a FETCH line, as a SEARCH date ("7-Dec-2026"). */
    private static String day(String line) {
        Matcher m = Pattern.compile("\"(\\d\\d)-(\\w{3})-(\\d{4}) ").matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1)) + "-" + m.group(2) + "-" + m.group(3);
    }

    private static String group(String line, String regex) {
        Matcher m = Pattern.compile(regex).matcher(line);
        assertTrue(m.matches(), line);
        assertEquals(1, m.groupCount());
        return m.group(1);
    }
}

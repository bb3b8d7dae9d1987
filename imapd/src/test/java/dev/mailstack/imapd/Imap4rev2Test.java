package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 9051 IMAP4rev2 next to IMAP4rev1, over a real store and socket: a session that sent ENABLE
 * IMAP4rev2 gets the rev2 answers, and a rev1 session beside it (Thunderbird) the old ones.
 */
class Imap4rev2Test {
    /** 财务 and 发票 in modified UTF-7 (RFC 3501 §5.1.3), as a rev1 client sees them. */
    private static final String FINANCE_UTF7 = "&jSJSoQ-";
    private static final String INVOICES_UTF7 = "&U9F5aA-";

    @TempDir
    Path dir;
    ImapFixture imap;

    /** INBOX: 1 to 3, UIDs 1 to 3, all unseen; 2 is from Smith. */
    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        for (int i = 1; i <= 3; i++) {
            deliver(i, i == 2 ? "Smith <smith@remote.test>" : "Bob <bob@remote.test>");
        }
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    private void deliver(int i, String from) throws IOException {
        imap.deliver(MailboxName.INBOX, "From: " + from + "\r\nTo: alice@example.org\r\nSubject: message " + i
                + "\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nbody " + i + "\r\n");
    }

    private LineClient rev2() throws IOException {
        LineClient c = imap.login();
        c.send("e ENABLE IMAP4rev2").expect("\\* ENABLED IMAP4rev2");
        c.expect("e OK ENABLE completed");
        return c;
    }

    @Test
    void bothVersionsAreAnnouncedAndEnableSwitchesOnlyBeforeAMailboxIsSelected() throws IOException {
        try (LineClient c = imap.login()) {
            String caps = c.send("c CAPABILITY").expect("\\* CAPABILITY .*");
            c.expect("c OK CAPABILITY completed");
            assertTrue(caps.startsWith("* CAPABILITY IMAP4rev1 IMAP4rev2 "), caps);
            // RFC 9051 §6.3.1: ENABLE belongs to the authenticated state; a selected rev1 mailbox stays rev1
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("a ENABLE IMAP4rev2").expect("\\* ENABLED");
            c.expect("a OK ENABLE completed");
            c.send("b SEARCH ALL").expect("\\* SEARCH 1 2 3");
            c.expect("b OK SEARCH completed");
            c.send("u UNSELECT").expect("u OK UNSELECT completed");
            c.send("d ENABLE CONDSTORE imap4rev2").expect("\\* ENABLED CONDSTORE IMAP4rev2");
            c.expect("d OK ENABLE completed");
        }
    }

    /** RFC 9051 §6.4.4 and §7.3.4: no SEARCH response in rev2; without RETURN the answer is ALL. */
    @Test
    void searchAndUidSearchAreAnsweredWithEsearch() throws IOException {
        try (LineClient c = rev2(); LineClient rev1 = imap.login()) {
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("a SEARCH ALL").expect("\\* ESEARCH \\(TAG \"a\"\\) ALL 1:3");
            c.expect("a OK SEARCH completed");
            c.send("b UID SEARCH NOT FROM \"Smith\"").expect("\\* ESEARCH \\(TAG \"b\"\\) UID ALL 1,3");
            c.expect("b OK UID SEARCH completed");
            c.send("d SEARCH SUBJECT nowhere").expect("\\* ESEARCH \\(TAG \"d\"\\)");
            c.expect("d OK SEARCH completed");
            c.send("f SEARCH RETURN (MIN COUNT) ALL").expect("\\* ESEARCH \\(TAG \"f\"\\) MIN 1 COUNT 3");
            c.expect("f OK SEARCH completed");
            // SAVE alone still answers with nothing (RFC 9051 §6.4.4.1), and $ works as before
            c.send("g SEARCH RETURN (SAVE) FROM \"Smith\"").expect("g OK SEARCH completed");
            c.send("h UID SEARCH $").expect("\\* ESEARCH \\(TAG \"h\"\\) UID ALL 2");
            c.expect("h OK UID SEARCH completed");

            rev1.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            rev1.send("a SEARCH ALL").expect("\\* SEARCH 1 2 3");
            rev1.expect("a OK SEARCH completed");
            rev1.send("b UID SEARCH NOT FROM \"Smith\"").expect("\\* SEARCH 1 3");
            rev1.expect("b OK UID SEARCH completed");
        }
    }

    /** EXAMINE in a rev2 session: its LIST response right after EXISTS (RFC 9051 §6.3.2) with {@code attribute}. */
    private static void examineShowsList(LineClient c, String box, String attribute) throws IOException {
        c.send("w EXAMINE " + box).expect("\\* OK \\[CLOSED\\] .*");
        c.expect("\\* FLAGS \\(.*\\)");
        c.expect("\\* OK \\[PERMANENTFLAGS \\(.*\\)\\] .*");
        c.expect("\\* 0 EXISTS");
        c.expect("\\* LIST \\(\\\\" + attribute + "\\) \"/\" \"" + java.util.regex.Pattern.quote(box) + "\"");
        c.expectEventually("w OK \\[READ-ONLY\\] EXAMINE completed");
    }

    /**
     * RFC 9051 §6.3.2: SELECT tells no RECENT and no UNSEEN but LIST; no \Recent in FLAGS, no RECENT
     * after EXISTS. The rev2 session claims no message as recent, so a rev1 session still gets them.
     */
    @Test
    void selectTellsNoRecentOrUnseenButTheMailboxsList() throws IOException {
        try (LineClient c = rev2()) {
            c.send("s SELECT INBOX").expect("\\* FLAGS \\(.*\\)");
            c.expect("\\* OK \\[PERMANENTFLAGS \\(.*\\)\\] .*");
            c.expect("\\* 3 EXISTS");
            c.expect("\\* LIST \\(\\\\HasNoChildren\\) \"/\" \"INBOX\"");
            c.expect("\\* OK \\[UIDVALIDITY \\d+\\] .*");
            c.expect("\\* OK \\[UIDNEXT 4\\] .*");
            c.expect("\\* OK \\[HIGHESTMODSEQ \\d+\\] .*");
            c.expect("\\* OK \\[MAILBOXID \\(.*\\)\\] .*");
            c.expect("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("f FETCH 1:3 (FLAGS)").expect("\\* 1 FETCH \\(FLAGS \\(\\)\\)");
            c.expect("\\* 2 FETCH \\(FLAGS \\(\\)\\)");
            c.expect("\\* 3 FETCH \\(FLAGS \\(\\)\\)");
            c.expect("f OK FETCH completed");
            deliver(4, "Carol <carol@remote.test>");
            c.send("n NOOP").expect("\\* 4 EXISTS");
            c.expect("n OK NOOP completed");
            c.send("x EXAMINE INBOX").expect("\\* OK \\[CLOSED\\] .*");
            c.expect("\\* FLAGS \\(.*\\)");
            c.expect("\\* OK \\[PERMANENTFLAGS \\(.*\\)\\] .*");
            c.expect("\\* 4 EXISTS");
            c.expect("\\* LIST \\(\\\\HasNoChildren\\) \"/\" \"INBOX\"");
            c.expectEventually("x OK \\[READ-ONLY\\] EXAMINE completed");
            c.send("c CREATE Work_/2026").expect("c OK .*");
            c.send("c2 CREATE Workx/2026").expect("c2 OK .*"); // "_" is no LIKE wildcard to the store
            examineShowsList(c, "Work_/2026", "HasNoChildren");
            examineShowsList(c, "Work_", "HasChildren");
            c.send("c3 DELETE Work_/2026").expect("c3 OK .*");
            examineShowsList(c, "Work_", "HasNoChildren");
        }
        try (LineClient rev1 = imap.login()) {
            rev1.send("s SELECT INBOX").expect("\\* FLAGS \\(.*\\)");
            rev1.expect("\\* OK \\[PERMANENTFLAGS \\(.*\\)\\] .*");
            rev1.expect("\\* 4 EXISTS");
            rev1.expect("\\* 4 RECENT");
            rev1.expect("\\* OK \\[UNSEEN 1\\] .*");
            rev1.expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            rev1.send("f FETCH 1 (FLAGS)").expect("\\* 1 FETCH \\(FLAGS \\(\\\\Recent\\)\\)");
            rev1.expect("f OK FETCH completed");
        }
    }

    /** RFC 9051 §6.3.11: DELETED and SIZE are STATUS items; RECENT is none, so asking for it is BAD. */
    @Test
    void statusTellsDeletedAndRefusesRecent() throws IOException {
        try (LineClient c = rev2(); LineClient rev1 = imap.login()) {
            rev1.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            rev1.send("d STORE 2 +FLAGS.SILENT (\\Deleted)").expect("d OK STORE completed");
            c.send("a STATUS INBOX (MESSAGES DELETED SIZE)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 3 DELETED 1 SIZE \\d+\\)");
            c.expect("a OK STATUS completed");
            c.send("b STATUS INBOX (MESSAGES RECENT)").expect("b BAD .*RECENT.*");
            c.send("l LIST \"\" INBOX RETURN (STATUS (RECENT UNSEEN))").expect("l BAD .*RECENT.*");
            c.send("m LIST \"\" INBOX RETURN (STATUS (UNSEEN))").expect("\\* LIST \\(\\\\HasNoChildren\\) \"/\" \"INBOX\"");
            c.expect("\\* STATUS \"INBOX\" \\(UNSEEN 3\\)");
            c.expect("m OK LIST completed");

            rev1.send("b STATUS INBOX (MESSAGES RECENT)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 3 RECENT 0\\)");
            rev1.expect("b OK STATUS completed");
        }
    }

    /**
     * RFC 9051 §5.1: mailbox names are UTF-8 on the wire in rev2 (as with UTF8=ACCEPT), in CREATE,
     * LIST, SELECT, APPEND and STATUS; a rev1 session sees the same mailboxes in modified UTF-7.
     * Quoted: RFC 9051 §9 allows UTF-8 in quoted strings, while an atom stays 7-bit (ATOM-CHAR).
     */
    @Test
    void mailboxNamesAreUtf8ForRev2AndModifiedUtf7ForRev1() throws IOException {
        byte[] message = "From: bob@remote.test\r\nSubject: 发票\r\n\r\n金额\r\n".getBytes(StandardCharsets.UTF_8);
        try (LineClient c = rev2(); LineClient rev1 = imap.login()) {
            c.send("a CREATE \"财务/发票\"").expect("a OK \\[MAILBOXID \\(.*\\)\\] CREATE completed");
            c.send("b LIST \"\" \"财务*\"").expect("\\* LIST \\(\\\\HasChildren\\) \"/\" \"财务\"");
            c.expect("\\* LIST \\(\\\\HasNoChildren\\) \"/\" \"财务/发票\"");
            c.expect("b OK LIST completed");
            c.send("p APPEND \"财务/发票\" {" + message.length + "+}");
            c.sendBytes(message).send("").expect("p OK \\[APPENDUID \\d+ 1\\] APPEND completed");
            c.send("t STATUS \"财务/发票\" (MESSAGES)").expect("\\* STATUS \"财务/发票\" \\(MESSAGES 1\\)");
            c.expect("t OK STATUS completed");
            c.send("d DELETE \"财务\"").expect("d NO \\[HASCHILDREN\\] .*");
            c.send("s SELECT \"财务/发票\"").expect("\\* FLAGS \\(.*\\)");
            c.expect("\\* OK \\[PERMANENTFLAGS \\(.*\\)\\] .*");
            c.expect("\\* 1 EXISTS");
            c.expect("\\* LIST \\(\\\\HasNoChildren\\) \"/\" \"财务/发票\"");
            c.expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("f FETCH 1 (ENVELOPE)").expect("\\* 1 FETCH \\(ENVELOPE \\(NIL \"发票\" .*\\)\\)");
            c.expect("f OK FETCH completed");

            rev1.send("b LIST \"\" \"" + FINANCE_UTF7 + "*\"")
                    .expect("\\* LIST \\(\\\\HasChildren\\) \"/\" \"" + FINANCE_UTF7 + "\"");
            rev1.expect("\\* LIST \\(\\\\HasNoChildren\\) \"/\" \"" + FINANCE_UTF7 + "/" + INVOICES_UTF7 + "\"");
            rev1.expect("b OK LIST completed");
            rev1.send("t STATUS " + FINANCE_UTF7 + "/" + INVOICES_UTF7 + " (MESSAGES RECENT)")
                    .expect("\\* STATUS \"" + FINANCE_UTF7 + "/" + INVOICES_UTF7 + "\" \\(MESSAGES 1 RECENT 1\\)");
            rev1.expect("t OK STATUS completed");
            // RFC 3501 §7.1: a rev1 client ignores the code; the refusal is the same
            rev1.send("d DELETE " + FINANCE_UTF7).expect("d NO \\[HASCHILDREN\\] .*");
        }
    }

    /**
     * RFC 6855 §3: names are Net-Unicode, so "Café" sent decomposed is the mailbox made composed,
     * and a C1 control is refused; RFC 3501 §5.1.3: a name in modified UTF-7 has one spelling.
     */
    @Test
    void namesAreOneMailboxWhateverTheirUnicodeFormAndOneSpellingInModifiedUtf7() throws IOException {
        try (LineClient c = rev2(); LineClient rev1 = imap.login()) {
            c.send("a CREATE \"Caf\u00e9\"").expect("a OK .*CREATE completed");
            c.send("b CREATE \"Cafe\u0301\"").expect("b NO \\[ALREADYEXISTS\\] .*");
            c.send("s STATUS \"Cafe\u0301\" (MESSAGES)").expect("\\* STATUS \"Caf\u00e9\" \\(MESSAGES 0\\)");
            c.expect("s OK STATUS completed");
            c.send("l LIST \"\" \"Cafe\u0301*\"").expect("\\* LIST \\(.*\\) \"/\" \"Caf\u00e9\"");
            c.expect("l OK LIST completed");
            c.send("x CREATE \"a\u0085b\"").expect("x NO .*control characters.*");

            rev1.send("s STATUS Caf&AOk- (MESSAGES)").expect("\\* STATUS \"Caf&AOk-\" \\(MESSAGES 0\\)");
            rev1.expect("s OK STATUS completed");
            rev1.send("e STATUS &AEMAYQBmAOk- (MESSAGES)").expect("e NO .*printable ASCII.*");
            rev1.send("f CREATE a&AC8-b").expect("f NO .*");
            rev1.send("g LIST \"\" a*").expect("g OK LIST completed"); // nothing named a/b was made
            // RFC 3501 §9: a rev1 client's text is 7-bit, the missing name as it spelled it
            rev1.send("i APPEND T&AOk-st {1+}\r\nx").expect("i NO \\[TRYCREATE\\] No such mailbox: T&AOk-st");
            c.send("j APPEND \"T\u00e9st\" {1+}\r\nx").expect("j NO \\[TRYCREATE\\] No such mailbox: T\u00e9st");
        }
    }
}

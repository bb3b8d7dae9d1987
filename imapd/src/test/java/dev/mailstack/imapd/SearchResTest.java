package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 5182 SEARCHRES: SEARCH RETURN (SAVE) and "$", over a real store and socket. */
class SearchResTest {
    @TempDir
    Path dir;
    ImapFixture imap;

    /** INBOX: 1 to 6, UIDs 1 to 6; 2, 4 and 6 are from Smith, 3 and 5 from Carol. */
    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        for (int i = 1; i <= 6; i++) {
            String from = i % 2 == 0 ? "Smith <smith@remote.test>" : i == 1 ? "Bob <bob@remote.test>" : "Carol <carol@remote.test>";
            imap.deliver(MailboxName.INBOX, "From: " + from + "\r\nTo: alice@example.org\r\nSubject: message " + i
                    + "\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nbody " + i + "\r\n");
        }
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    private LineClient selected() throws IOException {
        LineClient c = imap.login();
        c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
        return c;
    }

    @Test
    void searchresIsAnnouncedAndDollarBeforeAnySaveIsTheEmptySet() throws IOException {
        try (LineClient c = selected()) {
            String caps = c.send("c CAPABILITY").expect("\\* CAPABILITY .*");
            c.expect("c OK CAPABILITY completed");
            assertTrue((caps + " ").contains(" SEARCHRES "), caps);
            c.send("a FETCH $ (UID)").expect("a OK FETCH completed");
            c.send("b UID FETCH $ (FLAGS)").expect("b OK UID FETCH completed");
            c.send("d SEARCH $").expect("\\* SEARCH");
            c.expect("d OK SEARCH completed");
            c.send("e UID SEARCH UID $").expect("\\* SEARCH");
            c.expect("e OK UID SEARCH completed");
            c.send("f COPY $ INBOX").expect("f OK COPY completed \\(nothing matched\\)");
            // "$" stands alone (RFC 5182 §3): not a member of a list
            c.send("g FETCH $,1 (UID)").expect("g BAD .*");
            c.send("h FETCH 1,$ (UID)").expect("h BAD .*");
        }
    }

    /**
     * RFC 5182 §4's first examples: a SAVE alone answers with no ESEARCH; the FETCH pipelined
     * behind it sees its result; UID STORE $ and searches combining "$" with other keys.
     */
    @Test
    void theSavedResultFeedsPipelinedFetchStoreAndSearch() throws IOException {
        try (LineClient c = selected()) {
            c.send("x STORE 2,4,5 +FLAGS.SILENT (\\Flagged)").expect("x OK STORE completed");
            c.sendRaw("A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Carol\"\r\n"
                    + "A283 FETCH $ (UID FLAGS)\r\n");
            c.expect("A282 OK SEARCH completed");
            c.expect("\\* 2 FETCH \\(UID 2 FLAGS \\(\\\\Flagged( \\\\Recent)?\\)\\)");
            c.expect("\\* 4 FETCH \\(UID 4 FLAGS \\(\\\\Flagged( \\\\Recent)?\\)\\)");
            c.expect("A283 OK FETCH completed");
            c.send("A284 UID STORE $ +FLAGS.SILENT (\\Seen)").expect("A284 OK UID STORE completed");
            c.send("A285 SEARCH SEEN").expect("\\* SEARCH 2 4");
            c.expect("A285 OK SEARCH completed");
            c.send("A286 SEARCH $ 3:6").expect("\\* SEARCH 4");
            c.expect("A286 OK SEARCH completed");
            c.send("A287 UID SEARCH OR UID $ 1").expect("\\* SEARCH 1 2 4");
            c.expect("A287 OK UID SEARCH completed");
            c.send("A288 SEARCH NOT $").expect("\\* SEARCH 1 3 5 6");
            c.expect("A288 OK SEARCH completed");
            // a SAVE whose own keys use "$" reads the old result, then replaces it
            c.send("A289 SEARCH RETURN (SAVE) $ FROM \"Smith\" 4:*").expect("A289 OK SEARCH completed");
            c.send("A290 FETCH $ (UID)").expect("\\* 4 FETCH \\(UID 4\\)");
            c.expect("A290 OK FETCH completed");
        }
    }

    /** RFC 5182 §2.1: with MIN and/or MAX alone only those are saved; with ALL or COUNT the whole result. */
    @Test
    void saveWithMinMaxKeepsThoseAndWithCountOrAllEverything() throws IOException {
        try (LineClient c = selected()) {
            c.send("a SEARCH RETURN (MIN SAVE) FROM \"Smith\"").expect("\\* ESEARCH \\(TAG \"a\"\\) MIN 2");
            c.expect("a OK SEARCH completed");
            c.send("b UID FETCH $ (UID)").expect("\\* 2 FETCH \\(UID 2\\)");
            c.expect("b OK UID FETCH completed");
            c.send("d SEARCH RETURN (SAVE MIN MAX) FROM \"Smith\"").expect("\\* ESEARCH \\(TAG \"d\"\\) MIN 2 MAX 6");
            c.expect("d OK SEARCH completed");
            c.send("e SEARCH $").expect("\\* SEARCH 2 6");
            c.expect("e OK SEARCH completed");
            c.send("f SEARCH RETURN (SAVE MAX COUNT) FROM \"Smith\"").expect("\\* ESEARCH \\(TAG \"f\"\\) MAX 6 COUNT 3");
            c.expect("f OK SEARCH completed");
            c.send("g SEARCH $").expect("\\* SEARCH 2 4 6");
            c.expect("g OK SEARCH completed");
            c.send("h UID SEARCH RETURN (SAVE ALL) FROM \"Carol\"").expect("\\* ESEARCH \\(TAG \"h\"\\) UID ALL 3,5");
            c.expect("h OK UID SEARCH completed");
            c.send("i SEARCH $").expect("\\* SEARCH 3 5");
            c.expect("i OK SEARCH completed");
            // ESORT (RFC 5267 §3): MIN is the first in sort order
            c.send("j SORT RETURN (SAVE MIN) (REVERSE SUBJECT) UTF-8 ALL").expect("\\* ESEARCH \\(TAG \"j\"\\) MIN 6");
            c.expect("j OK SORT completed");
            c.send("k SEARCH $").expect("\\* SEARCH 6");
            c.expect("k OK SEARCH completed");
        }
    }

    /** RFC 5182 §2.1: a SEARCH with SAVE answered NO empties "$" (the RFC's COPY example). */
    @Test
    void aFailedSaveEmptiesTheResult() throws IOException {
        try (LineClient c = imap.login()) {
            c.send("z CREATE Other").expect("z OK .*");
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("a SEARCH RETURN (SAVE) ALL").expect("a OK SEARCH completed");
            c.sendRaw("A300 SEARCH RETURN (SAVE) CHARSET KOI8-R FROM \"Smith\"\r\nA301 COPY $ Other\r\n");
            c.expect("A300 NO \\[BADCHARSET .*");
            c.expect("A301 OK COPY completed \\(nothing matched\\)");
        }
    }

    /** RFC 5182 §2.1: a SEARCH answered BAD does not change $, SAVE or not. */
    @Test
    void aSaveAnsweredBadLeavesTheResult() throws IOException {
        try (LineClient c = selected()) {
            c.send("b SEARCH RETURN (SAVE) FROM Smith").expect("b OK SEARCH completed");
            c.send("d SEARCH RETURN (SAVE) NOSUCHKEY").expect("d BAD .*");
            c.send("e SEARCH RETURN (SAVE UPDATE) ALL").expect("e BAD .*");
            // a search string over the limit is refused as BAD too (its octets read and dropped)
            c.sendRaw("k SEARCH RETURN (SAVE) TEXT {" + (ImapSession.MAX_STRING_LITERAL_OCTETS + 1) + "+}\r\n"
                    + "x".repeat(ImapSession.MAX_STRING_LITERAL_OCTETS + 1) + "\r\n");
            c.expect("k BAD .*");
            c.send("f UID FETCH $ (UID)").expect("\\* 2 FETCH \\(UID 2\\)");
            c.expect("\\* 4 FETCH \\(UID 4\\)");
            c.expect("\\* 6 FETCH \\(UID 6\\)");
            c.expect("f OK UID FETCH completed");
        }
    }

    /** RFC 5182 §2.2: "$" holds UIDs, so after an expunge it names the same messages, less the expunged. */
    @Test
    void afterAnExpungeDollarNamesTheSavedMessagesThatAreLeft() throws IOException {
        try (LineClient c = selected(); LineClient other = selected()) {
            c.send("a SEARCH RETURN (SAVE) 2:4").expect("a OK SEARCH completed");
            other.send("b STORE 3 +FLAGS.SILENT (\\Deleted)").expect("b OK STORE completed");
            other.send("d EXPUNGE").expect("\\* 3 EXPUNGE");
            other.expect("d OK EXPUNGE completed");
            c.send("e NOOP").expect("\\* 3 EXPUNGE");
            c.expectEventually("e OK NOOP completed");
            c.send("f FETCH $ (UID)").expect("\\* 2 FETCH \\(UID 2\\)");
            c.expect("\\* 3 FETCH \\(UID 4\\)");
            c.expect("f OK FETCH completed");
            c.send("g UID FETCH $ (FLAGS)").expect("\\* 2 FETCH \\(UID 2 FLAGS \\(.*\\)\\)");
            c.expect("\\* 3 FETCH \\(UID 4 FLAGS \\(.*\\)\\)");
            c.expect("g OK UID FETCH completed");
            // UID EXPUNGE $ (RFC 4315 with RFC 5182): only the saved ones among the deleted
            c.send("h STORE 1:* +FLAGS.SILENT (\\Deleted)").expect("h OK STORE completed");
            c.send("i UID EXPUNGE $").expect("\\* 3 EXPUNGE");
            c.expect("\\* 2 EXPUNGE");
            c.expect("i OK EXPUNGE completed");
            c.send("j UID SEARCH ALL").expect("\\* SEARCH 1 5 6");
            c.expect("j OK UID SEARCH completed");
        }
    }

    @Test
    void uidMoveOfDollarMovesTheSavedMessages() throws IOException {
        try (LineClient c = imap.login()) {
            c.send("z CREATE Stash").expect("z OK .*");
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("a UID SEARCH RETURN (SAVE) FROM \"Carol\"").expect("a OK UID SEARCH completed");
            c.send("b UID MOVE $ Stash").expect("\\* OK \\[COPYUID \\d+ 3,5 1[:,]2\\] Moved");
            c.expect("\\* 5 EXPUNGE");
            c.expect("\\* 3 EXPUNGE");
            c.expect("b OK UID MOVE completed");
            c.send("d FETCH $ (UID)").expect("d OK FETCH completed"); // both gone from here
            c.send("e STATUS Stash (MESSAGES)").expect("\\* STATUS \"?Stash\"? \\(MESSAGES 2\\)");
            c.expect("e OK STATUS completed");
        }
    }

    /**
     * RFC 5182 §2.1: SELECT and EXAMINE, even of the same mailbox, forget the result; after CLOSE
     * and UNSELECT there is no mailbox to use it in.
     */
    @Test
    void selectingAgainForgetsTheResult() throws IOException {
        try (LineClient c = selected()) {
            c.send("a SEARCH RETURN (SAVE) ALL").expect("a OK SEARCH completed");
            c.send("b SEARCH $").expect("\\* SEARCH 1 2 3 4 5 6");
            c.expect("b OK SEARCH completed");
            c.send("d SELECT INBOX").expectEventually("d OK \\[READ-WRITE\\] SELECT completed");
            c.send("e FETCH $ (UID)").expect("e OK FETCH completed");
            c.send("f SEARCH RETURN (SAVE) ALL").expect("f OK SEARCH completed");
            c.send("g EXAMINE INBOX").expectEventually("g OK \\[READ-ONLY\\] EXAMINE completed");
            c.send("h SEARCH $").expect("\\* SEARCH");
            c.expect("h OK SEARCH completed");
            for (String leave : new String[]{"UNSELECT", "CLOSE"}) {
                c.send("i SELECT INBOX").expectEventually("i OK \\[READ-WRITE\\] SELECT completed");
                c.send("j SEARCH RETURN (SAVE) ALL").expect("j OK SEARCH completed");
                c.send("k " + leave).expect("k OK " + leave + " completed");
                c.send("l FETCH $ (UID)").expect("l NO .*");
            }
        }
    }

    /** The SELECT that would use "$" empties it first: a QRESYNC about nothing is refused, not answered. */
    @Test
    void dollarInAQresyncSelectIsBad() throws IOException {
        try (LineClient c = imap.login()) {
            c.send("a ENABLE QRESYNC").expect("\\* ENABLED QRESYNC");
            c.expect("a OK .*");
            String validity = c.send("b SELECT INBOX").expectEventually("\\* OK \\[UIDVALIDITY \\d+\\].*")
                    .replaceAll("\\D*(\\d+).*", "$1");
            c.expectEventually("b OK \\[READ-WRITE\\] SELECT completed");
            c.send("c SEARCH RETURN (SAVE) ALL").expect("c OK SEARCH completed");
            c.send("d SELECT INBOX (QRESYNC (" + validity + " 1 $))").expect("d BAD .*\\$.*");
            c.send("e SELECT INBOX (QRESYNC (" + validity + " 1 1:6 ($ 1:6)))").expect("e BAD .*\\$.*");
            c.send("f SELECT INBOX (QRESYNC (" + validity + " 1 1:6))").expectEventually("f OK \\[READ-WRITE\\] SELECT completed");
        }
    }
}

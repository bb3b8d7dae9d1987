package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.store.MailboxName;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Searcher} over a real store, for what the IMAP transcripts cannot see: the work a search does. */
class SearcherTest {
    private static final String BODY = "abc def ghi jkl\r\n".repeat(1000);

    @TempDir
    Path dir;
    ImapFixture imap;

    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        imap.deliver(MailboxName.INBOX, ImapSessionTest.PLAIN);
        imap.deliver(MailboxName.INBOX, "From: x@remote.test\r\nSubject: Big\r\n\r\n" + BODY);
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    private List<Integer> search(Searcher searcher, String keys) throws Exception {
        ImapParser parser = new ImapParser("s SEARCH " + keys, null);
        parser.tag();
        return searcher.search(((ImapCommand.Search) parser.command()).key());
    }

    private Searcher searcher() {
        StoreSession s = imap.store.session();
        SelectedMailbox m = new SelectedMailbox(s, s.select(MailboxName.INBOX), true, false, true);
        return new Searcher(new SummaryCache(imap.store.store()), s, m);
    }

    /**
     * BODY and TEXT compare without case (RFC 3501 §6.4.4): a message's text is case-mapped once
     * however many keys look at it, and each key's string once per search. It was once per key and
     * message: a thousand keys over a 4 MiB body were a thousand copies of it, CPU no limit bounded
     * (MAX_SEARCH_KEYS bounds the keys, not their cost).
     */
    @Test
    void aBodyIsCaseMappedOnceHoweverManyKeysSearchIt() throws Exception {
        Searcher searcher = searcher();
        assertEquals(List.of(2), search(searcher, "BODY ABC" + " BODY a".repeat(200) + " TEXT bIG TEXT JKL"));
        long texts = 2 * BODY.length(); // both messages' headers and texts are far shorter than BODY
        assertTrue(searcher.foldedChars() < texts, searcher.foldedChars() + " characters case-mapped");
    }

    /** The same for header keys: a field is decoded and case-mapped once per message, not once per key naming it. */
    @Test
    void aHeaderFieldIsCaseMappedOnceHoweverManyKeysNameIt() throws Exception {
        String note = "Lorem ipsum dolor sit amet\r\n ".repeat(400);
        imap.deliver(MailboxName.INBOX, "From: x@remote.test\r\nSubject: Noted\r\nX-Note: " + note + "end\r\n\r\nx\r\n");
        Searcher searcher = searcher();
        assertEquals(List.of(3), search(searcher, "HEADER X-Note END" + " HEADER x-note IPSUM".repeat(200)
                + " SUBJECT noted SUBJECT NOTED"));
        assertTrue(searcher.foldedChars() < 3 * note.length() / 2, searcher.foldedChars() + " characters case-mapped");
        assertEquals(List.of(), search(searcher(), "HEADER X-Note absent HEADER x-note IPSUM"));
        assertEquals(List.of(3), search(searcher(), "HEADER X-NOTE \"\""), "an empty string: every message with the field");
    }

    /**
     * The envelope fields SEARCH compares are decoded and case-folded once per message and kept
     * with its cached structure: a later search, in this session or another, does not decode them again.
     */
    @Test
    void envelopeFieldsAreDecodedOnceAndKeptForLaterSearches() throws Exception {
        imap.deliver(MailboxName.INBOX, "From: x@remote.test\r\nSubject: =?UTF-8?B?5Lit5paH?= Report\r\n\r\nx\r\n");
        SummaryCache cache = new SummaryCache(imap.store.store());
        StoreSession s = imap.store.session();
        SelectedMailbox m = new SelectedMailbox(s, s.select(MailboxName.INBOX), true, false, true);
        assertEquals(List.of(3), search(new Searcher(cache, s, m), "SUBJECT REPORT"));
        StoredStructure kept = cache.structure(m.at(3));
        List<String> subject = kept.searchedField("SUBJECT").orElseThrow();
        assertEquals(List.of("\u4e2d\u6587 report"), subject, "RFC 2047 words decoded, lower-cased");
        assertEquals(List.of(3), search(new Searcher(cache, s, m), "SUBJECT rEpOrT"));
        assertSame(subject, kept.searchedField("SUBJECT").orElseThrow(), "not decoded again");
        assertEquals(Optional.empty(), kept.searchedField("X-NOTE"), "other fields are read from the header");
    }
}

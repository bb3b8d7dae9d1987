package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineReader;
import dev.mailstack.store.Flag;
import dev.mailstack.store.MessageSpool;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImapParserTest {
    /** An input stream that hands out one byte per read, as a slow network might. */
    static final class OneByteAtATime extends InputStream {
        private final ByteArrayInputStream in;

        OneByteAtATime(String text) {
            in = new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) {
            return len == 0 ? 0 : in.read(b, off, 1);
        }
    }

    /** Parses one command from raw input, fed byte by byte, literals included. */
    static ImapCommand parse(String raw) throws Exception {
        LineReader reader = new LineReader(new OneByteAtATime(raw), 8192);
        List<String> continuations = new java.util.ArrayList<>();
        ImapParser.Source source = new ImapParser.Source() {
            @Override
            public String nextLine() throws IOException {
                return reader.readLine();
            }

            @Override
            public byte[] literal(long size, boolean synchronizing) throws IOException {
                continuations.add(synchronizing ? "+" : "");
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                reader.readExactly(size, out);
                return out.toByteArray();
            }

            @Override
            public MessageSpool.Spooled messageLiteral(long size, boolean synchronizing, boolean literal8) {
                throw new UnsupportedOperationException("not in these tests");
            }
        };
        ImapParser p = new ImapParser(reader.readLine(), source);
        assertEquals("a1", p.tag());
        return p.command();
    }

    @Test
    void loginWithSynchronisingAndNonSynchronisingLiterals() throws Exception {
        var login = assertInstanceOf(ImapCommand.Login.class, parse("a1 LOGIN {17}\r\nalice@example.org {6+}\r\nsecret\r\n"));
        assertEquals("alice@example.org", login.user());
        assertEquals("secret", login.password());
        var quoted = assertInstanceOf(ImapCommand.Login.class, parse("a1 login \"al\\\"ice\" \"p\\\\w\"\r\n"));
        assertEquals("al\"ice", quoted.user());
        assertEquals("p\\w", quoted.password());
    }

    @Test
    void thunderbirdsHeaderSyncFetch() throws Exception {
        var f = assertInstanceOf(ImapCommand.Fetch.class, parse("a1 UID fetch 132:* (UID RFC822.SIZE FLAGS "
                + "BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References "
                + "Newsgroups In-Reply-To Content-Type Reply-To)])\r\n"));
        assertTrue(f.uid());
        assertEquals(List.of(new SequenceSet.Range(132, SequenceSet.STAR)), f.set().ranges());
        var section = assertInstanceOf(FetchItem.Section.class, f.items().get(3));
        assertTrue(section.peek());
        assertEquals(FetchItem.Text.HEADER_FIELDS, section.text());
        assertEquals(14, section.fields().size());
        assertEquals("BODY[HEADER.FIELDS (FROM TO CC BCC SUBJECT DATE MESSAGE-ID PRIORITY X-PRIORITY REFERENCES "
                + "NEWSGROUPS IN-REPLY-TO CONTENT-TYPE REPLY-TO)]", section.responseName());
        var partial = assertInstanceOf(FetchItem.Section.class,
                assertInstanceOf(ImapCommand.Fetch.class, parse("a1 UID fetch 5 (UID RFC822.SIZE BODY.PEEK[]<0.65536>)\r\n"))
                        .items().get(2));
        assertEquals(0, partial.offset());
        assertEquals(65536, partial.length());
        assertEquals("BODY[]<0>", partial.responseName());
        var mime = assertInstanceOf(FetchItem.Section.class,
                assertInstanceOf(ImapCommand.Fetch.class, parse("a1 FETCH 1 BODY[1.2.MIME]\r\n")).items().get(0));
        assertEquals(List.of(1, 2), mime.part());
        assertEquals(FetchItem.Text.MIME, mime.text());
    }

    /** RFC 3501 §9 header-fld-name is an astring: a name that is no atom goes back quoted, not as two names or none. */
    @Test
    void headerFieldNamesGoBackInTheFormTheRequestNeeded() throws Exception {
        var f = assertInstanceOf(ImapCommand.Fetch.class,
                parse("a1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (\"X Y\" \"\" Subject {3}\r\na\"b)])\r\n"));
        var section = assertInstanceOf(FetchItem.Section.class, f.items().get(0));
        assertEquals(List.of("X Y", "", "SUBJECT", "A\"B"), section.fields());
        assertEquals("BODY[HEADER.FIELDS (\"X Y\" \"\" SUBJECT \"A\\\"B\")]", section.responseName());
    }

    @Test
    void storeSearchListAndStatusForms() throws Exception {
        var store = assertInstanceOf(ImapCommand.Store.class, parse("a1 uid store 1:3,7 +FLAGS.SILENT (\\Deleted \\Seen $Label1)\r\n"));
        assertEquals(ImapCommand.StoreMode.ADD, store.mode());
        assertTrue(store.silent());
        assertTrue(store.flags().has(Flag.DELETED) && store.flags().has(Flag.SEEN));
        assertEquals(java.util.Set.of("$Label1"), store.flags().keywords());
        var search = assertInstanceOf(ImapCommand.Search.class,
                parse("a1 SEARCH CHARSET UTF-8 OR FROM {6}\r\n张三 NOT (SEEN LARGER 100) UNDELETED\r\n"));
        var and = assertInstanceOf(SearchKey.And.class, search.key());
        var or = assertInstanceOf(SearchKey.Or.class, and.keys().get(0));
        assertEquals(new SearchKey.Header("FROM", "张三"), or.left());
        var list = assertInstanceOf(ImapCommand.ListMailboxes.class,
                parse("a1 LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN))\r\n"));
        assertTrue(list.subscribedOnly() && list.returnSpecialUse() && !list.specialUseOnly() && !list.recursiveMatch());
        var specialUse = assertInstanceOf(ImapCommand.ListMailboxes.class,
                parse("a1 LIST (SPECIAL-USE) \"\" \"*\"\r\n"));
        assertTrue(specialUse.specialUseOnly() && !specialUse.subscribedOnly());
        var recursive = assertInstanceOf(ImapCommand.ListMailboxes.class,
                parse("a1 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"%\"\r\n"));
        assertTrue(recursive.recursiveMatch() && recursive.subscribedOnly());
        assertEquals(List.of(StatusItem.MESSAGES, StatusItem.UNSEEN), list.statusItems());
        var status = assertInstanceOf(ImapCommand.Status.class, parse("a1 STATUS \"Drafts\" (UIDNEXT MESSAGES UNSEEN RECENT)\r\n"));
        assertEquals(List.of(StatusItem.UIDNEXT, StatusItem.MESSAGES, StatusItem.UNSEEN, StatusItem.RECENT), status.items());
    }

    @Test
    void syntaxErrorsAreReportedNotThrownAsBugs() {
        assertThrows(ImapSyntaxException.class, () -> parse("a1 FETCH 0 FLAGS\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 FETCH 1 (FLAGS\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 LOGIN \"unterminated\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 BOGUS\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 LIST (RECURSIVEMATCH) \"\" \"*\"\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 SELECT\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 SEARCH " + "NOT ".repeat(40) + "ALL\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 ID " + "(".repeat(40) + ")".repeat(40) + "\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 STATUS INBOX (MESSAGES BOGUS)\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 STATUS INBOX ()\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 LIST \"\" \"*\" RETURN (STATUS (BOGUS))\r\n"));
    }

    /**
     * RFC 3501 §9 note 3: a date's month is case-insensitive, like every letter of the grammar; a day
     * the month does not have is a syntax error, not the month's last day (31-Feb became 28-Feb).
     */
    @Test
    void datesTakeTheMonthInAnyCaseAndRefuseDaysThatDoNotExist() throws Exception {
        for (String date : List.of("1-Jan-2020", "1-JAN-2020", "01-jan-2020", "\"1-jAN-2020\"")) {
            var search = assertInstanceOf(ImapCommand.Search.class, parse("a1 SEARCH SINCE " + date + "\r\n"));
            assertEquals(new SearchKey.Date(SearchKey.DateOp.SINCE, java.time.LocalDate.of(2020, 1, 1),
                    SearchKey.DateField.INTERNAL), search.key(), date);
        }
        assertInstanceOf(ImapCommand.Search.class, parse("a1 SEARCH SENTON 29-Feb-2024\r\n"));
        for (String bad : List.of("SEARCH SINCE 31-Feb-2026", "SEARCH BEFORE 29-Feb-2026", "SEARCH ON 31-Apr-2026",
                "SEARCH ON 0-Jan-2026", "APPEND INBOX \"31-FEB-2026 10:00:00 +0000\" {1}",
                "APPEND INBOX \"1-Jan-2026 24:00:00 +0000\" {1}")) {
            assertThrows(ImapSyntaxException.class, () -> parse("a1 " + bad + "\r\nx\r\n"), bad);
        }
    }

    /** Found by fuzzing: a keyword over the store's limit threw IllegalArgumentException out of the parser. */
    @Test
    void keywordTooLongForTheStoreIsASyntaxError() throws Exception {
        String longest = "k".repeat(dev.mailstack.store.Flags.MAX_KEYWORD);
        assertEquals(Set.of(longest), assertInstanceOf(ImapCommand.Store.class,
                parse("a1 STORE 1 +FLAGS (" + longest + ")\r\n")).flags().keywords());
        assertThrows(ImapSyntaxException.class, () -> parse("a1 STORE 1 +FLAGS (" + longest + "k)\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 UID STORE 1 FLAGS " + longest + "k\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 APPEND INBOX (\\Seen " + longest + "k) {1}\r\nx\r\n"));
    }

    /** RFC 3501 §6.4.4: an unknown charset is well-formed; the session refuses it with NO [BADCHARSET], not BAD. */
    @Test
    void anUnknownSearchCharsetParsesAndIsMarkedUnsupported() throws Exception {
        var koi8 = assertInstanceOf(ImapCommand.Search.class, parse("a1 SEARCH CHARSET KOI8-R ALL\r\n"));
        assertEquals(java.util.Optional.of("KOI8-R"), koi8.charset());
        assertFalse(koi8.charsetSupported());
        assertTrue(assertInstanceOf(ImapCommand.Search.class, parse("a1 SEARCH CHARSET utf-8 ALL\r\n")).charsetSupported());
        assertTrue(assertInstanceOf(ImapCommand.Search.class, parse("a1 SEARCH ALL\r\n")).charsetSupported());
    }

    @Test
    void modifiedUtf7RoundTripsChineseAndAmpersand() {
        assertEquals("&XeVPXA-", ModifiedUtf7.encode("工作"));
        assertEquals("工作", ModifiedUtf7.decode("&XeVPXA-"));
        assertEquals("Tom &- Jerry", ModifiedUtf7.encode("Tom & Jerry"));
        assertEquals("Tom & Jerry", ModifiedUtf7.decode("Tom &- Jerry"));
        assertEquals("~peter/mail/&U,BTFw-/&ZeVnLIqe-", ModifiedUtf7.encode("~peter/mail/台北/日本語"));
    }

    /** RFC 3501 §5.1.3: one spelling per name; the others are refused, not read. */
    @Test
    void modifiedUtf7RefusesEverySpellingButTheShortestOne() {
        assertEquals("~peter/mail/台北/日本語", ModifiedUtf7.decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-"));
        assertEquals("éé", ModifiedUtf7.decode("&AOkA6Q-"));
        for (String wire : List.of("&AGE-", "a&AC8-b", "&AOk-&AOk-", "&AOk=-", "&AOl-", "&U/BTFw-", "&2AA-", "&XeVPXA",
                "&XeVP-", "&*-")) {
            assertThrows(IllegalArgumentException.class, () -> ModifiedUtf7.decode(wire), wire);
        }
        assertEquals("Caf&AOk- &- Bar", ModifiedUtf7.encode(ModifiedUtf7.decode("Caf&AOk- &- Bar")));
    }

    /** RFC 7162 §3.2.5 and §3.2.6: QRESYNC's SELECT parameter and FETCH's VANISHED modifier. */
    @Test
    void qresyncParametersParseAndMalformedOnesAreRefused() throws Exception {
        ImapCommand.Select s = assertInstanceOf(ImapCommand.Select.class,
                parse("a1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:5 1,3,7:9)))\r\n"));
        ImapCommand.Qresync q = s.qresync().orElseThrow();
        assertEquals(67890007L, q.uidValidity());
        assertEquals(20050715194045000L, q.modSeq());
        assertEquals(List.of(new SequenceSet.Range(41, 41), new SequenceSet.Range(43, 211), new SequenceSet.Range(214, 541)),
                q.knownUids().orElseThrow().ranges());
        ImapCommand.Select both = assertInstanceOf(ImapCommand.Select.class,
                parse("a1 EXAMINE INBOX (CONDSTORE QRESYNC (1 2))\r\n"));
        assertTrue(both.condstore() && both.qresync().orElseThrow().knownUids().isEmpty());
        ImapCommand.Fetch f = assertInstanceOf(ImapCommand.Fetch.class,
                parse("a1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"));
        assertTrue(f.vanished());
        assertEquals(12345L, f.changedSince().orElseThrow());

        assertTrue(assertInstanceOf(ImapCommand.Select.class, parse("a1 SELECT INBOX (QRESYNC (1 2 (1:5 1,3,7:9)))\r\n"))
                .qresync().orElseThrow().knownUids().isEmpty(), "seq-match-data without known-uids");
        assertThrows(ImapSyntaxException.class, () -> parse("a1 SELECT INBOX (QRESYNC (1))\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 SELECT INBOX ()\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 SELECT INBOX (SOMEDAY)\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 SELECT INBOX (QRESYNC (1 2 1:3 (1:2)))\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 SELECT INBOX (CONDSTORE(\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 UID FETCH 1 (FLAGS) (VANISHED)\r\n"));
        assertThrows(ImapSyntaxException.class, () -> parse("a1 UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 SOON)\r\n"));
    }

    /** RFC 5256 §5 sort and thread, RFC 5267 §3 sort-return-opts, RFC 5957 DISPLAYFROM/DISPLAYTO. */
    @Test
    void sortAndThreadTakeCriteriaACharsetAndSearchKeys() throws Exception {
        var sort = assertInstanceOf(ImapCommand.Sort.class,
                parse("a1 sort (reverse DATE subject DISPLAYFROM) UTF-8 UNSEEN SUBJECT {6}\r\n预算\r\n"));
        assertEquals(List.of(new SortCriterion(SortCriterion.Key.DATE, true),
                new SortCriterion(SortCriterion.Key.SUBJECT, false),
                new SortCriterion(SortCriterion.Key.DISPLAYFROM, false)), sort.criteria());
        assertEquals("UTF-8", sort.charset());
        assertFalse(sort.uid() || sort.esearch());
        assertEquals(new SearchKey.And(List.of(new SearchKey.Flag(Flag.SEEN, false), new SearchKey.Header("SUBJECT", "预算"))),
                sort.key());
        var esort = assertInstanceOf(ImapCommand.Sort.class,
                parse("a1 UID SORT RETURN (min MAX count) (ARRIVAL) \"us-ascii\" UID 1:*\r\n"));
        assertTrue(esort.uid() && esort.esearch());
        assertEquals(List.of("MIN", "MAX", "COUNT"), esort.returnOptions());
        assertEquals("us-ascii", esort.charset());
        assertInstanceOf(SearchKey.Uids.class, esort.key());
        var all = assertInstanceOf(ImapCommand.Sort.class, parse("a1 SORT RETURN () (SIZE) UTF-8 ALL\r\n"));
        assertTrue(all.esearch() && all.returnOptions().isEmpty());
        var thread = assertInstanceOf(ImapCommand.ThreadMessages.class, parse("a1 UID THREAD references utf-8 SINCE 1-Feb-2026\r\n"));
        assertTrue(thread.uid());
        assertEquals(ImapCommand.ThreadAlgorithm.REFERENCES, thread.algorithm());
        assertInstanceOf(SearchKey.Date.class, thread.key());
        assertEquals(ImapCommand.ThreadAlgorithm.ORDEREDSUBJECT,
                assertInstanceOf(ImapCommand.ThreadMessages.class, parse("a1 THREAD ORDEREDSUBJECT US-ASCII ALL\r\n")).algorithm());
    }

    /** RFC 5256 §3: NO for a charset the server cannot search in, BAD for the rest (decided in the session and here). */
    @Test
    void sortAndThreadSyntaxErrors() throws Exception {
        var koi8 = assertInstanceOf(ImapCommand.Sort.class, parse("a1 SORT (DATE) KOI8-R ALL\r\n"));
        assertFalse(ImapCommand.Search.supports(koi8.charset()));
        assertTrue(ImapCommand.Search.supports("utf-8") && ImapCommand.Search.supports("US-ASCII"));
        for (String bad : List.of("SORT (BOGUS) UTF-8 ALL", "SORT (DATE) ALL", "SORT (DATE) UTF-8", "SORT (DATE)",
                "SORT DATE UTF-8 ALL", "SORT () UTF-8 ALL", "SORT (REVERSE) UTF-8 ALL", "SORT (REVERSE REVERSE DATE) UTF-8 ALL",
                "SORT (DATE  SIZE) UTF-8 ALL", "SORT (DATE) UTF-8 BOGUS", "UID SORT RETURN (ALL (DATE) UTF-8 ALL",
                "THREAD BOGUS UTF-8 ALL", "THREAD REFERENCES UTF-8", "THREAD REFERENCES", "THREAD (REFERENCES) UTF-8 ALL",
                "UID THREAD REFERENCES ALL", "SORT (DATE) UTF-8 " + "NOT ".repeat(40) + "ALL")) {
            assertThrows(ImapSyntaxException.class, () -> parse("a1 " + bad + "\r\n"), bad);
        }
    }

    /**
     * RFC 4466 §2.6.1 (and RFC 4731 §3): a return option the server does not know is BAD, for SEARCH
     * and for SORT (RFC 5267 §3). MIN, MAX, ALL, COUNT and SAVE (RFC 5182) are all there are here: no
     * PARTIAL, no CONTEXT=SEARCH's UPDATE.
     */
    @Test
    void unknownReturnOptionsAreBad() throws Exception {
        for (String bad : List.of("SEARCH RETURN (UPDATE) ALL", "SEARCH RETURN (MIN BOGUS) ALL", "UID SEARCH RETURN (PARTIAL 1:10) ALL",
                "SORT RETURN (BOGUS) (DATE) UTF-8 ALL", "UID SORT RETURN (MIN COUNT X) (DATE) UTF-8 ALL")) {
            assertThrows(ImapSyntaxException.class, () -> parse("a1 " + bad + "\r\n"), bad);
        }
        assertEquals(List.of("MIN", "MAX", "ALL", "COUNT"), assertInstanceOf(ImapCommand.Search.class,
                parse("a1 SEARCH RETURN (min max all count) ALL\r\n")).returnOptions());
        assertTrue(assertInstanceOf(ImapCommand.Search.class, parse("a1 SEARCH RETURN (save min) $\r\n")).saves());
    }

    /** RFC 8514 §4.3 and RFC 8474 §6 search keys, and §7's objectid syntax: anything else is BAD. */
    @Test
    void saveDateAndObjectIdSearchKeys() throws Exception {
        var search = assertInstanceOf(ImapCommand.Search.class,
                parse("a1 SEARCH OR SAVEDON 2-Jan-2020 NOT SAVEDATESUPPORTED (EMAILID M_a-1 THREADID T9)\r\n"));
        assertEquals(new SearchKey.And(List.of(
                new SearchKey.Or(new SearchKey.Date(SearchKey.DateOp.ON, java.time.LocalDate.of(2020, 1, 2),
                        SearchKey.DateField.SAVED), new SearchKey.Not(new SearchKey.SaveDateSupported())),
                new SearchKey.And(List.of(new SearchKey.ObjectId("M_a-1", false), new SearchKey.ObjectId("T9", true))))),
                search.key());
        for (String bad : List.of("EMAILID M.1", "EMAILID \"M1\"", "THREADID ", "EMAILID " + "M".repeat(256), "SAVEDSINCE 1-Foo-2020")) {
            assertThrows(ImapSyntaxException.class, () -> parse("a1 SEARCH " + bad + "\r\n"), bad);
        }
        var max = assertInstanceOf(ImapCommand.Search.class, parse("a1 SEARCH EMAILID " + "M".repeat(255) + "\r\n"));
        assertEquals(new SearchKey.ObjectId("M".repeat(255), false), max.key());
    }
}

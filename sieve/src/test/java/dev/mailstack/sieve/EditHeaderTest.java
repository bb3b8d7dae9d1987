package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.Rfc2047;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RFC 5293: addheader and deleteheader, what later tests see, and the header the deliverer writes. */
class EditHeaderTest {
    private static final String HEADER = """
            Return-Path: <alice@example.com>
            Received: from mx.example.com by mx.example.org; Mon, 1 Aug 2005 23:05:09 -0700
            From: alice@example.com
            X-Hello: one
            Subject: Hello
            X-Hello: two
            Auto-Submitted: no
            X-Hello: three
            """;
    private static final String REQUIRE = "require [\"editheader\", \"fileinto\", \"variables\", \"relational\", \"index\"];\n";

    private static byte[] raw(String header) {
        return (header.replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    private static SieveOutcome run(String script, byte[] raw) {
        try {
            return SieveScript.parse(REQUIRE + script).run(SieveMessage.of(raw, raw.length + 100, "a@example.com",
                    "b@example.org"), name -> false);
        } catch (SieveException e) {
            throw new AssertionError("script should parse: " + e.getMessage(), e);
        }
    }

    /** The header section the deliverer writes after the run, without its empty line. */
    private static String edited(String script) {
        byte[] raw = raw(HEADER);
        SieveOutcome o = run(script, raw);
        assertFalse(o.failed(), () -> "script failed: " + o.errors());
        String written = new String(o.header().orElseThrow().write(raw), StandardCharsets.UTF_8);
        assertTrue(written.endsWith("\r\n\r\n"), written);
        return written.substring(0, written.length() - 2).replace("\r\n", "\n");
    }

    private static List<String> filed(String script) {
        SieveOutcome o = run(script, raw(HEADER));
        assertFalse(o.failed(), () -> "script failed: " + o.errors());
        return o.actions().stream().filter(a -> a instanceof SieveAction.FileInto).map(a -> ((SieveAction.FileInto) a).mailbox())
                .toList();
    }

    @Test
    void addheaderGoesFirstBelowTheReturnPathOrLastWithLast() {
        String h = edited("addheader \"X-Sieve\" \"first\"; addheader :last \"X-Sieve\" \"last\";");
        assertTrue(h.startsWith("Return-Path: <alice@example.com>\nX-Sieve: first\nReceived: "), h);
        assertTrue(h.endsWith("X-Hello: three\nX-Sieve: last\n"), h);
    }

    @Test
    void theFieldsKeptAreWrittenByteForByte() {
        byte[] raw = raw(HEADER.replace("Subject: Hello", "Subject: =?GBK?B?tPC4tA==?=\n\tfolded"));
        SieveOutcome o = run("deleteheader \"X-Hello\";", raw);
        String written = new String(o.header().orElseThrow().write(raw), StandardCharsets.UTF_8);
        assertTrue(written.contains("\r\nSubject: =?GBK?B?tPC4tA==?=\r\n\tfolded\r\n"), written);
        assertFalse(written.contains("X-Hello"), written);
        assertEquals(new String(raw, StandardCharsets.UTF_8).replaceAll("X-Hello: [a-z]+\r\n", ""), written);
    }

    @Test
    void nonAsciiValuesAreEncodedAndLongOnesFolded() {
        String h = edited("addheader \"Subject\" \"[报告] Zoë's weekly report\";\n"
                + "addheader :last \"X-Long\" \"" + "word ".repeat(40).strip() + "\";");
        String subject = h.lines().filter(l -> l.startsWith("Subject: ")).findFirst().orElseThrow();
        assertTrue(subject.startsWith("Subject: =?UTF-8?B?"), subject);
        assertTrue(subject.endsWith(" weekly report"), "ASCII words after the encoded stretch stay as they are: " + subject);
        assertEquals("[报告] Zoë's weekly report", Rfc2047.decode(subject.substring(9)));
        assertTrue(h.chars().noneMatch(c -> c > 0x7e), "the written header is ASCII: " + h);
        for (String line : h.split("\n")) {
            assertTrue(line.length() <= 78 || line.startsWith("Received:"), "folded: " + line);
        }
        assertTrue(h.contains("X-Long: word word"), h);
    }

    /**
     * Non-ASCII text after ASCII words that leave it no room on their line starts the next line:
     * one fold, no line of white space only, the text read back as it was given.
     */
    @Test
    void anEncodedStretchWithNoRoomLeftGoesToTheNextLine() {
        for (String value : List.of("a".repeat(60) + " déjà vu", "a".repeat(80) + " déjà vu")) {
            String encoded = EditableHeader.encode(value, "X-Note: ".length());
            for (String line : ("X-Note: " + encoded).split("\r\n")) {
                assertFalse(line.isBlank(), "a line of white space only: " + encoded);
                assertFalse(line.endsWith(" "), "white space before a fold doubles it: " + encoded);
            }
            assertEquals(value, Rfc2047.decode(encoded.replace("\r\n", "")));
        }
    }

    @Test
    void laterTestsSeeTheEditedHeader() {
        // RFC 5293 §7: tests examine the current state of the header
        assertEquals(List.of("added", "gone"), filed("""
                addheader "X-Tag" "sorted";
                if header :is "x-tag" "sorted" { fileinto "added"; }
                deleteheader "subject";
                if not exists "subject" { fileinto "gone"; }
                """));
        assertEquals(List.of("two"), filed("""
                deleteheader :index 1 "X-Hello";
                if header :index 1 :matches "X-Hello" "*" { fileinto "${1}"; }
                """));
    }

    @Test
    void deleteheaderIndexCountsTheCurrentFieldsFromTheStartOrWithLastFromTheEnd() {
        // RFC 5293 §7: the first and third of three, not the first and second
        String h = edited("deleteheader :index 1 \"X-Hello\"; deleteheader :index 2 \"X-Hello\";");
        assertEquals(List.of("X-Hello: two"), h.lines().filter(l -> l.startsWith("X-Hello")).toList());
        h = edited("deleteheader :index 1 :last \"X-Hello\";");
        assertEquals(List.of("X-Hello: one", "X-Hello: two"), h.lines().filter(l -> l.startsWith("X-Hello")).toList());
        // and an added field counts: this leaves the header as it was
        byte[] raw = raw(HEADER);
        SieveOutcome o = run("addheader \"X-Hello\" \"World\"; deleteheader :index 1 \"X-Hello\";", raw);
        assertEquals(new String(raw, StandardCharsets.UTF_8), new String(o.header().orElseThrow().write(raw), StandardCharsets.UTF_8));
    }

    @Test
    void deleteheaderWithPatternsDeletesOnlyTheMatchingValues() {
        String h = edited("deleteheader :matches \"X-Hello\" [\"t*\", \"nothing\"];");
        assertEquals(List.of("X-Hello: one"), h.lines().filter(l -> l.startsWith("X-Hello")).toList());
        h = edited("deleteheader :index 2 :contains \"X-Hello\" \"o\";");
        assertEquals(List.of("X-Hello: one", "X-Hello: three"), h.lines().filter(l -> l.startsWith("X-Hello")).toList());
        h = edited("deleteheader :index 2 :is \"X-Hello\" \"one\";");
        assertEquals(3, h.lines().filter(l -> l.startsWith("X-Hello")).count(), "the second is not \"one\"");
        // matching in an action sets no match variables
        assertEquals(List.of("kept"), filed("""
                if header :matches "from" "*@*" { deleteheader :matches "X-Hello" "*e*"; fileinto "${2}"; }
                """).stream().map(m -> m.equals("example.com") ? "kept" : m).toList());
    }

    @Test
    void protectedFieldsAreLeftAloneSilently() {
        // RFC 5293 §6: Received is never deleted, and an attempt is silently ignored; Subject always may be
        SieveOutcome o = run("""
                deleteheader "Received"; deleteheader "auto-submitted"; deleteheader "Return-Path";
                addheader "Received" "from forged.example"; addheader :last "return-path" "<x@example.net>";
                addheader "Authentication-Results" "mx.example.org; dmarc=pass header.from=bank.example";
                deleteheader "Subject"; addheader "Subject" "new";
                if header :is "subject" "new" { fileinto "subject changed"; }
                """, raw(HEADER));
        assertFalse(o.failed(), () -> o.errors().toString());
        byte[] raw = raw(HEADER);
        String h = new String(o.header().orElseThrow().write(raw), StandardCharsets.UTF_8);
        assertEquals(1, h.split("Received:", -1).length - 1, h);
        assertTrue(h.contains("\r\nAuto-Submitted: no\r\n"), h);
        assertTrue(h.startsWith("Return-Path: <alice@example.com>\r\nSubject: new\r\n"), h);
        assertFalse(h.contains("x@example.net"), h);
        assertFalse(h.contains("bank.example"), "a script cannot vouch for a sender: " + h);
    }

    @Test
    void theSitesForbiddenFieldsAreLeftAloneButSubjectStaysEditable() throws SieveException {
        EditHeaderRules rules = new EditHeaderRules(java.util.Set.of("X-Verified", "Subject"), java.util.Set.of("x-hello", "SUBJECT"));
        SieveEnvironment site = SieveEnvironment.local().withEditHeader(rules);
        byte[] raw = raw(HEADER);
        SieveOutcome o = SieveScript.parse(REQUIRE + """
                addheader "X-Verified" "yes"; addheader "x-other" "kept";
                deleteheader "X-Hello"; deleteheader "From";
                deleteheader "Subject"; addheader "Subject" "new";
                if header :is "x-verified" "yes" { fileinto "forged"; }
                if header :is "subject" "new" { fileinto "subject changed"; }
                """).run(SieveMessage.of(raw, raw.length + 100, "a@example.com", "b@example.org"), SieveAccount.of(name -> false), site);
        assertFalse(o.failed(), () -> o.errors().toString());
        assertEquals(List.of("subject changed"), o.actions().stream().filter(a -> a instanceof SieveAction.FileInto)
                .map(a -> ((SieveAction.FileInto) a).mailbox()).toList(), "a forbidden addheader adds nothing a test could see");
        String h = new String(o.header().orElseThrow().write(raw), StandardCharsets.UTF_8);
        assertFalse(h.contains("X-Verified"), h);
        assertTrue(h.contains("x-other: kept"), h);
        assertEquals(3, h.split("X-Hello:", -1).length - 1, "X-Hello may not be deleted here: " + h);
        assertFalse(h.contains("From:"), "other fields stay deletable: " + h);
        assertTrue(h.contains("Subject: new"), h);
        assertFalse(h.contains("Subject: Hello"), h);
        assertThrows(IllegalArgumentException.class, () -> new EditHeaderRules(java.util.Set.of("bad name:"), java.util.Set.of()));
    }

    @Test
    void badNamesAndValuesAreCheckErrorsOrRuntimeErrorsThatKeepTheOriginal() {
        assertThrows(SieveException.class, () -> SieveScript.parse(REQUIRE + "addheader \"X Bad\" \"v\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(REQUIRE + "deleteheader \"X:Bad\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(REQUIRE + "addheader \"X-Ok\" \"line\r\nX-Injected: 1\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(REQUIRE + "addheader \"X-Ok\" \"" + "x".repeat(2049) + "\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(REQUIRE + "deleteheader :count \"ge\" \"X-Hello\" \"1\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(REQUIRE + "deleteheader :last \"X-Hello\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(REQUIRE + "deleteheader [\"X-Hello\", \"Subject\"];"));
        assertThrows(SieveException.class, () -> SieveScript.parse("addheader \"X-Ok\" \"v\";"), "needs require");
        // RFC 5293 §7: after a runtime error the implicit keep stores the original header
        SieveOutcome o = run("addheader \"X-Ok\" \"v\"; set \"n\" \"X Bad\"; addheader \"${n}\" \"v\";", raw(HEADER));
        assertTrue(o.failed());
        assertTrue(o.errors().getFirst().contains("not a header field name"), o.errors().toString());
        assertEquals(Optional.empty(), o.header());
        assertTrue(o.implicitKeep());
    }

    @Test
    void aRunThatEditsNothingHasNoEdits() {
        assertEquals(Optional.empty(), run("if header :is \"subject\" \"x\" { discard; }", raw(HEADER)).header());
    }

    @Test
    void theUsersScriptSeesTheEditsOfTheAdministratorsBeforeScript() throws SieveException {
        // Pigeonhole's multiscript: one message context for all the scripts of a delivery
        AdminScripts admin = new AdminScripts(List.of(SieveScript.parse(
                "require \"editheader\"; addheader \"X-Spam-Verdict\" \"spam\";")), List.of());
        SieveScript user = SieveScript.parse(REQUIRE + "if header :is \"x-spam-verdict\" \"spam\" { fileinto \"Junk\"; }");
        byte[] raw = raw(HEADER);
        SieveOutcome o = admin.run(Optional.of(user), SieveMessage.of(raw, 500, "a@example.com", "b@example.org"),
                SieveAccount.of(n -> false), SieveEnvironment.local());
        assertEquals(List.of(new SieveAction.FileInto("Junk", List.of(), false)), o.actions());
        assertTrue(new String(o.header().orElseThrow().write(raw), StandardCharsets.UTF_8).contains("\r\nX-Spam-Verdict: spam\r\n"));
    }
}

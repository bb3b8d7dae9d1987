package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Lexing, parsing and parse-time checks: every error names its line and what to change. */
class SieveParserTest {

    private static SieveException error(String script) {
        return assertThrows(SieveException.class, () -> SieveScript.parse(script));
    }

    private static void assertError(int line, String fragment, String script) {
        SieveException e = error(script);
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), () -> "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
        assertTrue(e.getMessage().startsWith("line " + line + ": "), e.getMessage());
    }

    @Test
    void emptyScriptKeepsImplicitly() {
        SieveOutcome o = SampleMessage.run("");
        assertEquals(List.of(SampleMessage.keep()), o.actions());
        assertTrue(o.implicitKeep());
    }

    @Test
    void commentsOfBothKindsAndCrlfLinesAreSkipped() {
        String script = "# hash comment\r\nrequire \"fileinto\"; /* a\r\nblock\r\ncomment */\r\nfileinto \"a\"; # trailing\r\n";
        assertEquals(List.of(SampleMessage.fileinto("a")), SampleMessage.actions(script));
    }

    @Test
    void quotedStringEscapesTakeTheNextCharacter() throws Exception {
        // RFC 5228 §2.4.2: \" and \\ are the defined escapes; any other \x is just x
        List<SieveAction> a = SampleMessage.actions("require \"fileinto\"; fileinto \"a\\\"b\\\\c\\d\";");
        assertEquals(List.of(SampleMessage.fileinto("a\"b\\cd")), a);
    }

    @Test
    void multiLineStringIsDotUnstuffedAndEndsAtALoneDot() {
        String script = "require \"vacation\";\nvacation text: # comment allowed here\nline one\n..dotted\n.\n;\n";
        SieveAction.Vacation v = (SieveAction.Vacation) SampleMessage.actions(script).get(0);
        assertEquals("line one\r\n.dotted\r\n", v.reason());
    }

    @Test
    void multiLineStringWithCrlfLines() {
        String script = "require \"vacation\";\r\nvacation text:\r\nhi\r\n.\r\n;\r\n";
        SieveAction.Vacation v = (SieveAction.Vacation) SampleMessage.actions(script).get(0);
        assertEquals("hi\r\n", v.reason());
    }

    @ParameterizedTest
    @CsvSource({"1K, 1024", "2M, 2097152", "1G, 1073741824", "10k, 10240", "7, 7"})
    void numbersTakeQuantifiers(String written, long value) {
        SieveMessage m = SampleMessage.of("Subject: x\n", value, "", "u@example.org");
        assertTrue(SampleMessage.holds(m, "size :under " + (value + 1)));
        assertTrue(SampleMessage.holds(m, "not size :over " + written));
        assertTrue(SampleMessage.holds(m, "not size :under " + written));
    }

    @Test
    void identifiersAndTagsAreCaseInsensitive() {
        assertTrue(SampleMessage.holds("HEADER :CONTAINS \"SUBJECT\" \"hello\""));
    }

    @Test
    void thousandsOfCommandsParseQuickly() throws Exception {
        StringBuilder s = new StringBuilder("require [\"fileinto\", \"variables\"];\n");
        for (int i = 0; i < 20_000; i++) {
            s.append("if header :contains \"subject\" \"k").append(i).append("\" { set \"v\" \"x\"; } elsif true { stop; }\n");
        }
        long start = System.nanoTime();
        SieveScript.parse(s.toString());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "20000 commands took too long");
    }

    @Test
    void nestingUpToTheLimitParses() throws Exception {
        SieveScript.parse("if true {".repeat(SieveParser.MAX_NESTING - 1) + "}".repeat(SieveParser.MAX_NESTING - 1));
    }

    @Test
    void deepBlocksAreAnErrorNotAStackOverflow() {
        assertError(SieveParser.MAX_NESTING, "nest deeper", "if true {\n".repeat(100_000) + "}".repeat(100_000));
    }

    @Test
    void deepTestsAreAnErrorNotAStackOverflow() {
        SieveException e = error("if " + "not ".repeat(100_000) + "true {}");
        assertTrue(e.getMessage().contains("nest deeper"), e.getMessage());
    }

    @Test
    void longStringListIsRefused() {
        String list = "[" + "\"a\",".repeat(SieveParser.MAX_STRING_LIST) + "\"b\"]";
        assertError(1, "more than " + SieveParser.MAX_STRING_LIST, "if header :is \"x\" " + list + " { stop; }");
    }

    // --- errors, each with its line ---

    @Test
    void extensionUsedWithoutRequire() {
        assertError(4, "fileinto needs require \"fileinto\";", "# a\n# b\nif true {\n  fileinto \"x\";\n}");
    }

    @Test
    void tagFromAnExtensionWithoutRequire() {
        assertError(2, ":copy needs require \"copy\";", "require \"fileinto\";\nfileinto :copy \"x\";");
        assertError(1, ":value needs require \"relational\";", "if header :value \"gt\" \"x\" \"1\" {}");
        assertError(1, ":user needs require \"subaddress\";", "if address :user \"to\" \"x\" {}");
    }

    @Test
    void requireOfAnUnsupportedExtension() {
        assertError(2, "extension \"vnd.dovecot.pipe\" is not supported", "\nrequire [\"fileinto\", \"vnd.dovecot.pipe\"];");
        assertError(1, "not supported", "require \"vnd.dovecot.pipe\";");
        assertError(1, "not supported", "require \"vnd.dovecot.execute\";");
    }

    @Test
    void baseComparatorsMayBeRequired() throws Exception {
        SieveScript.parse("require [\"comparator-i;octet\", \"comparator-i;ascii-casemap\"];");
    }

    @Test
    void requireAfterAnotherCommand() {
        assertError(2, "require must come before", "keep;\nrequire \"fileinto\";");
        assertError(1, "require must come before", "if true { require \"fileinto\"; }");
    }

    @Test
    void unknownCommandAndTest() {
        assertError(3, "unknown command \"frobnicate\"", "\n\nfrobnicate;");
        assertError(2, "unknown test \"sizeof\"", "\nif sizeof :over 1 { keep; }");
        assertError(1, "is a test, not a command", "header \"a\" \"b\";");
        assertError(1, "is a command, not a test", "if keep { }");
    }

    @Test
    void unknownTag() {
        assertError(1, "has no tag \":bogus\"", "keep :bogus;");
        assertError(2, "has no tag \":over\"", "\nif header :over \"a\" \"b\" {}");
    }

    @Test
    void wrongArgumentCountAndType() {
        assertError(1, "redirect takes 1 argument", "redirect;");
        assertError(1, "redirect takes 1 argument", "redirect \"a@b.c\" \"d@e.f\";");
        assertError(1, "must be a string", "redirect [\"a@b.c\", \"d@e.f\"];");
        assertError(1, "must be a string list", "if header 1 \"x\" {}");
        assertError(1, "header takes 2 arguments", "if header \"x\" {}");
        assertError(1, "\":over\" must be followed by a number", "if size :over \"1\" {}");
        assertError(1, "size needs :over or :under", "if size {}");
        assertError(2, "cannot be used together", "if\nsize :over 1 :under 2 {}");
        assertError(1, "cannot be used together", "if header :is :contains \"a\" \"b\" {}");
        assertError(1, "given twice", "require [\"fileinto\", \"copy\"]; fileinto :copy :copy \"x\";");
        assertError(1, "must come before", "if header \"a\" :is \"b\" {}");
    }

    @Test
    void elsifAndElsePlacement() {
        assertError(2, "elsif must follow an if", "keep;\nelsif true { stop; }");
        assertError(1, "else must follow an if", "else { stop; }");
        assertError(3, "else must follow an if", "if true { stop; }\nkeep;\nelse { stop; }");
        assertError(1, "else must follow", "if true {} else {} else {}");
    }

    @Test
    void syntaxErrorsNameTheLine() {
        assertError(2, "expected \";\" after keep", "keep;\nkeep\n");
        assertError(1, "if needs a block", "if true keep;");
        assertError(1, "if needs a test", "if { keep; }");
        assertError(1, "never closed with \"}\"", "if true {\nkeep;\n");
        assertError(3, "unexpected \"}\"", "keep;\n\n}");
        assertError(2, "string is never closed", "keep;\nif header \"a\n\n");
        assertError(2, "comment \"/*\" is never closed", "keep;\n/* open\n\n");
        assertError(1, "multi-line string is never ended", "require \"vacation\"; vacation text:\nhello\n");
        assertError(1, "unexpected character", "keep; @");
        assertError(1, "must end with K, M or G", "if size :over 10X {}");
        assertError(1, "too large", "if size :over 99999999999999999999 {}");
        assertError(1, "expected \",\" or \"]\"", "if header [\"a\" \"b\"] \"c\" {}");
        assertError(1, "expected \",\" or \")\"", "if anyof (true false) {}");
        assertError(1, "needs a list of tests", "if anyof true {}");
    }

    @Test
    void valuesCheckedAtParseTime() {
        assertError(1, "unknown comparator \"i;klingon\"", "if header :comparator \"i;klingon\" \"a\" \"b\" {}");
        assertError(1, "needs require \"comparator-i;ascii-numeric\"",
                "if header :comparator \"i;ascii-numeric\" \"a\" \"b\" {}");
        assertError(1, "cannot do \":contains\"", "require \"comparator-i;ascii-numeric\";"
                + " if header :contains :comparator \"i;ascii-numeric\" \"a\" \"1\" {}");
        assertError(1, "\":value\" needs one of", "require \"relational\"; if header :value \"bigger\" \"a\" \"1\" {}");
        assertError(1, "envelope part \"auth\" is not supported", "require \"envelope\"; if envelope \"auth\" \"x\" {}");
        assertError(1, "is not a header field name", "if header \"sub ject\" \"x\" {}");
        assertError(1, "redirect needs one address", "redirect \"not an address\";");
        assertError(1, "not a variable name", "require \"variables\"; set \"1abc\" \"x\";");
        assertError(1, "a flag variable needs require \"variables\"", "require \"imap4flags\"; setflag \"v\" \"\\\\Seen\";");
        assertError(1, "is not a Unicode character", "require \"encoded-character\"; keep :flags \"${unicode:D800}\";");
        assertError(1, "not valid UTF-8", "require \"encoded-character\"; if header :is \"x\" \"${hex:ff}\" {}");
    }

    @Test
    void tooManyVariables() {
        StringBuilder s = new StringBuilder("require \"variables\";\n");
        for (int i = 0; i <= SieveParser.MAX_VARIABLES; i++) {
            s.append("set \"v").append(i).append("\" \"x\";\n");
        }
        assertError(SieveParser.MAX_VARIABLES + 2, "more than " + SieveParser.MAX_VARIABLES + " variables", s.toString());
    }

    @Test
    void encodedCharacterDecodesHexAndUnicode() {
        // RFC 5228 §2.4.2.4's own example: "$${hex:24 24}{unicode:24}" is "$$${unicode:24}"... left as is
        String script = "require [\"encoded-character\", \"fileinto\"];\n"
                + "fileinto \"${hex: 49 4E}${unicode:42 4f 58}\";\nfileinto \"${hex:}x\";\nfileinto \"${hex:123}\";";
        assertEquals(List.of(SampleMessage.keep(), SampleMessage.fileinto("${hex:}x"), SampleMessage.fileinto("${hex:123}")),
                SampleMessage.actions(script));
    }

    @Test
    void withoutEncodedCharacterTheSequenceIsLiteral() {
        assertEquals(List.of(SampleMessage.fileinto("${hex:41}")),
                SampleMessage.actions("require \"fileinto\"; fileinto \"${hex:41}\";"));
    }

    @Test
    void extensionsAreTheOfferedList() {
        assertEquals(List.of("fileinto", "envelope", "body", "encoded-character", "imap4flags", "copy", "subaddress",
                "vacation", "vacation-seconds", "mailbox", "relational", "comparator-i;ascii-numeric", "variables", "reject",
                "ereject", "date", "index", "environment", "ihave", "include", "duplicate", "special-use", "enotify",
                "spamtest", "spamtestplus", "virustest", "editheader"), SieveScript.EXTENSIONS);
    }
}

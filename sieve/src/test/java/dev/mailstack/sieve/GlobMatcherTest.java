package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The :matches glob: edge cases, escapes, captures (RFC 5229 match variables) and its cost. */
class GlobMatcherTest {

    private static boolean matches(String pattern, String subject) {
        return GlobMatcher.compile(pattern).match(subject, Comparator.OCTET).isPresent();
    }

    @ParameterizedTest(name = "{0} ~ \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', value = {
        "*|''|true",
        "''|''|true",
        "''|a|false",
        "a|a|true",
        "a|ab|false",
        "?|a|true",
        "?|''|false",
        "??|a|false",
        "a*|a|true",
        "*a|ba|true",
        "*a|ab|false",
        "a*b|ab|true",
        "a*b|axxb|true",
        "a*b|axxbx|false",
        "*b*|abc|true",
        "a*a|a|false",
        "a*a|aa|true",
        "*?*|''|false",
        "*?*|x|true",
        "**|anything|true",
        "a?c|abc|true",
        "a?c|ac|false",
        "\\*|*|true",
        "\\*|a|false",
        "\\?|?|true",
        "\\?|a|false",
        "a\\\\b|a\\b|true",
        "*\\**|a*b|true",
        "*\\**|ab|false",
        "*@*.example.com|x@mail.example.com|true",
        "*@*.example.com|x@example.com|false",
    })
    void globCases(String pattern, String subject, boolean expected) {
        assertEquals(expected, matches(pattern, subject));
    }

    @Test
    void trailingBackslashIsLiteral() {
        assertTrue(matches("a\\", "a\\"));
    }

    @Test
    void questionMarkIsOneCharacterNotOneUtf16Unit() {
        assertTrue(matches("?", "😀"));
        assertTrue(matches("发?", "发票"));
    }

    @Test
    void caseFoldingFollowsTheComparator() {
        assertTrue(GlobMatcher.compile("*HELLO*").match("say hello", Comparator.ASCII_CASEMAP).isPresent());
        assertTrue(GlobMatcher.compile("*HELLO*").match("say hello", Comparator.OCTET).isEmpty());
    }

    @Test
    void capturesFollowRfc5229Example() {
        // RFC 5229 §3.2: "[*] *" on "[acme-users] [fwd] version 1.0 is out"
        Optional<List<String>> m = GlobMatcher.compile("[*] *").match("[acme-users] [fwd] version 1.0 is out", Comparator.ASCII_CASEMAP);
        assertEquals(List.of("[acme-users] [fwd] version 1.0 is out", "acme-users", "[fwd] version 1.0 is out"), m.orElseThrow());
    }

    @Test
    void capturesIncludeQuestionMarksInOrder() {
        Optional<List<String>> m = GlobMatcher.compile("?*@*.?").match("xyz@host.a", Comparator.OCTET);
        assertEquals(List.of("xyz@host.a", "x", "yz", "host", "a"), m.orElseThrow());
    }

    @Test
    void manyStarsAgainstALongSubjectDoNotBlowUp() {
        // a backtracking matcher takes exponential time here; ours is one pass per segment
        String subject = "a".repeat(100_000);
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
            assertEquals(false, matches("*a*a*a*a*a*b", subject));
            assertEquals(true, matches("*a*a*a*a*a*a", subject));
        });
    }

    @Test
    void longHeaderThroughTheWholeStackIsFast() {
        String header = "Subject: " + "a".repeat(100_000) + "\n";
        SieveMessage m = SampleMessage.of(header, 1, "", "u@example.org");
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
            assertEquals(false, SampleMessage.holds(m, "header :matches \"subject\" \"*a*a*a*a*a*b\""));
        });
    }

    @Test
    void manyKeysAgainstALongHeaderStayFast() {
        // the worst a script can ask of one test: the longest key list, each key a near miss
        String header = "Subject: " + "ab".repeat(50_000) + "\n";
        SieveMessage m = SampleMessage.of(header, 1, "", "u@example.org");
        StringBuilder keys = new StringBuilder("[");
        for (int i = 0; i < SieveParser.MAX_STRING_LIST; i++) {
            keys.append(i == 0 ? "" : ", ").append("\"abababac").append(i).append('"');
        }
        keys.append(']');
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertEquals(false, SampleMessage.holds(m, "header :contains \"subject\" " + keys));
            assertEquals(false, SampleMessage.holds(m, "header :matches \"subject\" " + keys.toString().replace("\"a", "\"*a")));
        });
    }
}

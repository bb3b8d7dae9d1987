package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 5235: spamtest, spamtestplus and virustest over the verdicts the site's scanners leave in the header. */
class SpamTestTest {
    private static final String REQUIRE = "require [\"spamtestplus\", \"virustest\", \"relational\","
            + " \"comparator-i;ascii-numeric\", \"variables\", \"fileinto\"];\n";
    /** SpamAssassin: the score, and the threshold it calls "required" as the top of the scale. */
    static final ScannerVerdict SPAMASSASSIN = new ScannerVerdict(ScannerVerdict.Type.SCORE,
            Optional.of(ScannerVerdict.FieldPattern.parse("X-Spam-Status: score=(-?[0-9]+\\.?[0-9]*)")), OptionalDouble.empty(),
            Optional.of(ScannerVerdict.FieldPattern.parse("X-Spam-Status: required=([0-9]+\\.?[0-9]*)")), Map.of());
    /** rspamd: "default: False [3.40 / 15.00]". */
    static final ScannerVerdict RSPAMD = new ScannerVerdict(ScannerVerdict.Type.SCORE,
            Optional.of(ScannerVerdict.FieldPattern.parse("X-Spamd-Result: \\[(-?[0-9.]+) /")), OptionalDouble.empty(),
            Optional.of(ScannerVerdict.FieldPattern.parse("X-Spamd-Result: / ([0-9.]+)\\]")), Map.of());
    static final ScannerVerdict CLAMAV = new ScannerVerdict(ScannerVerdict.Type.TEXT,
            Optional.of(ScannerVerdict.FieldPattern.parse("X-Virus-Scan: Found to be (.+)\\.")), OptionalDouble.empty(),
            Optional.empty(), ScannerVerdict.textValues("1=clean, 5=infected", 5));

    private static SieveEnvironment env(ScannerVerdict spam, ScannerVerdict virus) {
        return DateTest.ENV.withScanners(spam, virus);
    }

    /** What the test yields, as :matches "*" captures it. */
    private static String value(String header, String test, SieveEnvironment env) {
        return DateTest.filed(REQUIRE + "if " + test + " :matches \"*\" { fileinto \"${0}\"; }",
                DateTest.message(header + "\nSubject: x"), env).getFirst();
    }

    @ParameterizedTest
    @CsvSource({
        "'No, score=-1.6 required=5.0 tests=BAYES_00', 1, 0",
        "'No, score=0.0 required=5.0', 1, 0",
        "'No, score=2.5 required=5.0', 5, 50",
        "'Yes, score=5.3 required=5.0 tests=URIBL_BLACK', 10, 100",
        "'Yes, score=42 required=5.0', 10, 100",
    })
    void spamAssassinScoresScaleAgainstTheRequiredScore(String status, String value, String percent) {
        SieveEnvironment env = env(SPAMASSASSIN, ScannerVerdict.NONE);
        assertEquals(value, value("X-Spam-Status: " + status, "spamtest", env));
        assertEquals(percent, value("X-Spam-Status: " + status, "spamtest :percent", env));
    }

    @Test
    void rspamdResultIsReadWithItsOwnMaximum() {
        SieveEnvironment env = env(RSPAMD, ScannerVerdict.NONE);
        String header = "X-Spamd-Result: default: True [12.00 / 15.00];\r\n\tBAYES_SPAM(5.10)[99.99%]";
        assertEquals("8", value(header, "spamtest", env));
        assertEquals("80", value(header, "spamtest :percent", env));
        List<String> filed = DateTest.filed(REQUIRE
                        + "if spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"8\" { fileinto \"Junk\"; }\n"
                        + "if spamtest :percent :value \"lt\" :comparator \"i;ascii-numeric\" \"50\" { fileinto \"Ham\"; }",
                DateTest.message(header), env);
        assertEquals(List.of("Junk"), filed);
    }

    @Test
    void untestedMessagesYieldZero() {
        // RFC 5235 §3.1: "0" when no test was run: no scanner configured, or its field missing or unreadable
        assertEquals("0", value("X-Spam-Status: Yes, score=9.0 required=5.0", "spamtest", DateTest.ENV));
        assertEquals("0", value("X-Spam-Status: Yes, score=9.0 required=5.0", "spamtest :percent", DateTest.ENV));
        assertEquals("0", value("X-Other: 1", "spamtest", env(SPAMASSASSIN, ScannerVerdict.NONE)));
        assertEquals("0", value("X-Spam-Status: broken", "spamtest", env(SPAMASSASSIN, ScannerVerdict.NONE)));
        assertEquals("0", value("X-Spam-Status: score=3.0", "spamtest", env(SPAMASSASSIN, ScannerVerdict.NONE)));
        assertEquals("0", value("X-Virus-Scan: Found to be clean.", "virustest", DateTest.ENV));
        List<String> filed = DateTest.filed(REQUIRE
                        + "if spamtest :value \"eq\" :comparator \"i;ascii-numeric\" \"0\" { fileinto \"untested\"; }",
                DateTest.message("Subject: x"), DateTest.ENV);
        assertEquals(List.of("untested"), filed);
    }

    @Test
    void theFirstFieldCountsAsTheScannersOwn() {
        // milters add their fields on top, above any the sender wrote
        String header = "X-Spam-Status: No, score=0.0 required=5.0\nX-Spam-Status: Yes, score=50 required=5.0";
        assertEquals("1", value(header, "spamtest", env(SPAMASSASSIN, ScannerVerdict.NONE)));
    }

    @Test
    void fixedMaximumAndStrlenScores() {
        ScannerVerdict stars = new ScannerVerdict(ScannerVerdict.Type.STRLEN,
                Optional.of(ScannerVerdict.FieldPattern.parse("X-Spam-Level")), OptionalDouble.of(10), Optional.empty(), Map.of());
        assertEquals("6", value("X-Spam-Level: ******", "spamtest", env(stars, ScannerVerdict.NONE)));
        assertEquals("1", value("X-Spam-Level: ", "spamtest", env(stars, ScannerVerdict.NONE)));
        assertEquals("0", value("X-Spam-Level: *+*", "spamtest", env(stars, ScannerVerdict.NONE)));
        ScannerVerdict score = new ScannerVerdict(ScannerVerdict.Type.SCORE,
                Optional.of(ScannerVerdict.FieldPattern.parse("X-Spam-Score")), OptionalDouble.of(1), Optional.empty(), Map.of());
        assertEquals("13", value("X-Spam-Score: .13", "spamtest :percent", env(score, ScannerVerdict.NONE)));
        assertEquals("100", value("X-Spam-Score: 1.01", "spamtest :percent", env(score, ScannerVerdict.NONE)));
    }

    @Test
    void textVerdicts() {
        ScannerVerdict flag = new ScannerVerdict(ScannerVerdict.Type.TEXT, Optional.of(ScannerVerdict.FieldPattern.parse("X-Spam-Flag")),
                OptionalDouble.empty(), Optional.empty(), ScannerVerdict.textValues("1=NO,10=YES", 10));
        assertEquals("10", value("X-Spam-Flag: YES", "spamtest", env(flag, ScannerVerdict.NONE)));
        assertEquals("100", value("X-Spam-Flag: YES", "spamtest :percent", env(flag, ScannerVerdict.NONE)));
        assertEquals("1", value("X-Spam-Flag: NO", "spamtest", env(flag, ScannerVerdict.NONE)));
        assertEquals("0", value("X-Spam-Flag: MAYBE", "spamtest", env(flag, ScannerVerdict.NONE)));
    }

    @Test
    void virustestReadsTheVirusScannersVerdict() {
        SieveEnvironment env = env(ScannerVerdict.NONE, CLAMAV);
        assertEquals("1", value("X-Virus-Scan: Found to be clean.", "virustest", env));
        assertEquals("5", value("X-Virus-Scan: Found to be infected.", "virustest", env));
        assertEquals("0", value("X-Virus-Scan: not scanned", "virustest", env));
        List<String> filed = DateTest.filed(REQUIRE
                        + "if virustest :value \"ge\" :comparator \"i;ascii-numeric\" \"4\" { fileinto \"Quarantine\"; }",
                DateTest.message("X-Virus-Scan: Found to be infected."), env);
        assertEquals(List.of("Quarantine"), filed);
    }

    @Test
    void percentNeedsSpamtestplusAndEachTestItsExtension() {
        SieveException e = assertThrows(SieveException.class,
                () -> SieveScript.parse("require \"spamtest\";\nif spamtest :percent \"50\" { discard; }"));
        assertTrue(e.getMessage().contains("spamtestplus"), e.getMessage());
        e = assertThrows(SieveException.class, () -> SieveScript.parse("if virustest \"5\" { discard; }"));
        assertTrue(e.getMessage().contains("require \"virustest\""), e.getMessage());
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"spamtest\";\nif spamtest [\"1\", \"2\"] { discard; }"));
    }

    @Test
    void scannerSettingsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> ScannerVerdict.FieldPattern.parse("X-Spam: score=[0-9]+"));
        assertThrows(IllegalArgumentException.class, () -> ScannerVerdict.FieldPattern.parse("X Spam: (.*)"));
        assertThrows(IllegalArgumentException.class, () -> ScannerVerdict.FieldPattern.parse("X-Spam: (unclosed"));
        assertThrows(IllegalArgumentException.class, () -> ScannerVerdict.textValues("11=YES", 10));
        assertThrows(IllegalArgumentException.class, () -> ScannerVerdict.textValues("6=infected", 5));
        assertThrows(IllegalArgumentException.class, () -> ScannerVerdict.textValues("YES", 10));
        assertEquals(Map.of(1, "No", 10, "Yes"), ScannerVerdict.textValues(" 1 = No , 10=Yes", 10));
        assertThrows(IllegalArgumentException.class, () -> ScannerVerdict.Type.named("stars"));
    }
}

package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random and truncated input: parse must throw SieveException or succeed, and a parsed script must
 * run without throwing. Seeds are fixed so a failure can be replayed.
 */
class SieveFuzzTest {
    private static final String VALID = """
            require ["fileinto", "envelope", "encoded-character", "imap4flags", "copy", "subaddress",
                     "vacation", "vacation-seconds", "mailbox", "relational", "comparator-i;ascii-numeric", "variables"];
            # comment
            /* block */
            if allof (header :matches "subject" "*a?b*", not exists "x-foo", size :under 10M) {
                set :upper "s" "${1}";
                fileinto :copy :flags ["\\\\Seen"] :create "a/${s}";
            } elsif anyof (address :user :is ["from", "to"] "bob", envelope :domain "to" "example.org") {
                addflag "flags" "$Work";
                redirect :copy "x@example.net";
            } elsif header :value "ge" :comparator "i;ascii-numeric" "x-spam-score" "5" {
                vacation :seconds 3600 :subject "re: ${hex:41}" :addresses ["a@b.c"] text:
            away
            ..
            .
            ;
            } else {
                if hasflag :count "gt" :comparator "i;ascii-numeric" "flags" "0" { stop; }
                if mailboxexists "Junk" { discard; }
                keep;
            }
            """;

    private static final String ALPHABET = "ifelsheadr:\"[](){};,#/*\\ \n\r\t0123456789KMGtx$.{}-_:";

    /** Whether the text parsed, and so ran; text that does not parse must say why. */
    private static boolean parseAndRun(String text) {
        SieveScript script;
        try {
            script = SieveScript.parse(text);
        } catch (SieveException expected) {
            assertNotNull(expected.getMessage());
            return false;
        }
        SieveOutcome o = script.run(SampleMessage.basic(), name -> name.length() % 2 == 0);
        assertNotNull(o.actions());
        return true;
    }

    @Test
    void theValidScriptParsesAndRuns() throws Exception {
        SieveOutcome o = SieveScript.parse(VALID).run(SampleMessage.basic(), name -> false);
        assertFalse(o.failed(), () -> "script failed: " + o.errors());
        // the elsif: To: bob@example.org has the user "bob"; addflag sets the variable "flags", so the
        // implicit keep, which redirect :copy does not cancel, goes without it
        assertEquals(List.of(new SieveAction.Redirect("x@example.net", true), SampleMessage.keep()), o.actions());
        assertTrue(o.implicitKeep());
    }

    @Test
    void everyTruncationOfAValidScript() {
        int ran = 0;
        for (int i = 0; i <= VALID.length(); i++) {
            ran += parseAndRun(VALID.substring(0, i)) ? 1 : 0;
        }
        assertTrue(ran >= 10, ran + " truncations parsed"); // 23 now: cut at the end of a command or a comment
    }

    @Test
    void everySingleCharacterDeletion() {
        int ran = 0;
        for (int i = 0; i < VALID.length(); i++) {
            ran += parseAndRun(VALID.substring(0, i) + VALID.substring(i + 1)) ? 1 : 0;
        }
        assertTrue(ran >= 100, ran + " deletions parsed"); // 271 of them now
    }

    @Test
    void randomBytes() {
        Random random = new Random(5228);
        int ran = 0;
        for (int i = 0; i < 5000; i++) {
            byte[] b = new byte[random.nextInt(200)];
            random.nextBytes(b);
            ran += parseAndRun(new String(b, StandardCharsets.ISO_8859_1)) ? 1 : 0;
            ran += parseAndRun(new String(b, StandardCharsets.UTF_8)) ? 1 : 0;
        }
        assertTrue(ran > 0, "none parsed"); // empty ones and single-line comments
    }

    @Test
    void randomTokenSoup() {
        Random random = new Random(3028);
        int ran = 0;
        for (int i = 0; i < 5000; i++) {
            StringBuilder s = new StringBuilder();
            int n = random.nextInt(120);
            for (int k = 0; k < n; k++) {
                s.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            ran += parseAndRun(s.toString()) ? 1 : 0;
        }
        assertTrue(ran > 0, "none parsed");
    }

    @Test
    void randomMutationsOfTheValidScript() {
        Random random = new Random(5229);
        int ran = 0;
        for (int i = 0; i < 3000; i++) {
            StringBuilder s = new StringBuilder(VALID);
            for (int k = 0; k < 1 + random.nextInt(4); k++) {
                int at = random.nextInt(s.length());
                switch (random.nextInt(3)) {
                    case 0 -> s.deleteCharAt(at);
                    case 1 -> s.insert(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                    default -> s.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
                }
            }
            ran += parseAndRun(s.toString()) ? 1 : 0;
        }
        assertTrue(ran >= 100, ran + " mutations parsed"); // 266 of 3000 now
    }
}

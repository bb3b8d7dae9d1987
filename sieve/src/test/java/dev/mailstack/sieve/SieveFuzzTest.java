package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.charset.StandardCharsets;
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

    private static void parseAndRun(String text) {
        SieveScript script;
        try {
            script = SieveScript.parse(text);
        } catch (SieveException expected) {
            assertNotNull(expected.getMessage());
            return;
        }
        SieveOutcome o = script.run(SampleMessage.basic(), name -> name.length() % 2 == 0);
        assertNotNull(o.actions());
    }

    @Test
    void theValidScriptParsesAndRuns() throws Exception {
        SieveOutcome o = SieveScript.parse(VALID).run(SampleMessage.basic(), name -> false);
        assertNotNull(o);
    }

    @Test
    void everyTruncationOfAValidScript() {
        for (int i = 0; i <= VALID.length(); i++) {
            parseAndRun(VALID.substring(0, i));
        }
    }

    @Test
    void everySingleCharacterDeletion() {
        for (int i = 0; i < VALID.length(); i++) {
            parseAndRun(VALID.substring(0, i) + VALID.substring(i + 1));
        }
    }

    @Test
    void randomBytes() {
        Random random = new Random(5228);
        for (int i = 0; i < 5000; i++) {
            byte[] b = new byte[random.nextInt(200)];
            random.nextBytes(b);
            parseAndRun(new String(b, StandardCharsets.ISO_8859_1));
            parseAndRun(new String(b, StandardCharsets.UTF_8));
        }
    }

    @Test
    void randomTokenSoup() {
        Random random = new Random(3028);
        for (int i = 0; i < 5000; i++) {
            StringBuilder s = new StringBuilder();
            int n = random.nextInt(120);
            for (int k = 0; k < n; k++) {
                s.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            parseAndRun(s.toString());
        }
    }

    @Test
    void randomMutationsOfTheValidScript() {
        Random random = new Random(5229);
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
            parseAndRun(s.toString());
        }
    }
}

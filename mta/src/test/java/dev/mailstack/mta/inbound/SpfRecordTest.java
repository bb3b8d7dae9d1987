package dev.mailstack.mta.inbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SpfRecordTest {
    /** The expression endsAsDomain replaced (RFC 7208 §7.1 domain-end): it must accept the same specs. */
    private static final Pattern DOMAIN_END = Pattern.compile(
            ".*\\.([A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])\\.?|.*(%\\{[^}]*}|%%|%_|%-)",
            Pattern.DOTALL);
    private static final String[] PIECES = {".", "..", "a", "Z", "7", "-", "_", "%", "%{", "}", "{", "%{d}", "%%", "%_", "%-",
            "example", "com", "1", "x-y", "é"};

    @Test
    void domainEndAcceptsWhatTheGrammarDoes() {
        Random random = new Random(7208);
        for (int n = 0; n < 50_000; n++) {
            StringBuilder spec = new StringBuilder();
            for (int k = random.nextInt(8); k >= 0; k--) {
                spec.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String s = spec.toString();
            assertEquals(DOMAIN_END.matcher(s).matches(), SpfRecord.endsAsDomain(s), s);
        }
    }

    /** Found by fuzzing: a long label (or run of colons) in the sender's own record made parsing backtrack for seconds. */
    @Test
    void hostileRecordsAreRefusedInLinearTime() {
        String label = "v".repeat(60_000);
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertThrows(SpfError.class,
                () -> SpfRecord.parse("v=spf1 exp=mail.e22.t" + label + "! -all")));
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertThrows(SpfError.class,
                () -> SpfRecord.parse("v=spf1 include:a." + label + "- -all")));
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> assertThrows(SpfError.class,
                () -> SpfRecord.parse("v=spf1 ip6:" + ":".repeat(60_000) + "g -all")));
    }

    /** Found by fuzzing: cutting a long name to 253 characters copied the rest once per label dropped. */
    @Test
    void longNamesAreCutInLinearTime() throws Exception {
        SpfMacros values = new SpfMacros("a", "example.com", "example.com", java.net.InetAddress.getByName("192.0.2.3"),
                "mx.example.org", "mx.receiver.example", 1_700_000_000L, d -> d);
        String spec = "a.".repeat(500_000) + "example.com";
        String name = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> values.name(spec));
        assertEquals(("a.".repeat(121) + "example.com"), name);
    }
}

package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RFC 8461 §3.1 records and §3.2 policies, parsed; §4.1 MX matching. */
class StsPolicyTest {
    @Test
    void aPolicyWithCrlfOrLfLinesKeepsEveryMxAndIgnoresUnknownFields() {
        StsPolicy p = StsPolicy.parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n"
                + "max_age: 604800\r\nextension_field: ignored\r\n");
        assertEquals(StsPolicy.Mode.ENFORCE, p.mode());
        assertEquals(List.of("mail.example.com", "*.example.net"), p.mxPatterns());
        assertEquals(Duration.ofDays(7), p.maxAge());
        StsPolicy lf = StsPolicy.parse("version: STSv1\nmode: testing\nmx: MX.Example.COM.\nmax_age: 86400");
        assertEquals(StsPolicy.Mode.TESTING, lf.mode());
        assertEquals(List.of("mx.example.com"), lf.mxPatterns(), "lower case, no trailing dot");
        StsPolicy none = StsPolicy.parse("version: STSv1\nmode: none\nmax_age: 86400\n");
        assertEquals(StsPolicy.Mode.NONE, none.mode(), "mode none needs no mx");
    }

    @Test
    void aRepeatedFieldCountsOnceAndMaxAgeIsCappedAtAYear() {
        StsPolicy p = StsPolicy.parse("version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 9999999999\n");
        assertEquals(StsPolicy.Mode.TESTING, p.mode(), "the first mode counts");
        assertEquals(Duration.ofSeconds(31_557_600), p.maxAge());
    }

    @Test
    void theWildcardMatchesExactlyOneLeftmostLabel() {
        StsPolicy p = StsPolicy.parse("version: STSv1\nmode: enforce\nmx: *.example.net\nmx: mail.example.com\nmax_age: 60\n");
        assertTrue(p.matches("mx1.example.net"));
        assertTrue(p.matches("MX1.Example.Net."), "case and a trailing dot do not matter");
        assertFalse(p.matches("example.net"), "the wildcard needs a label");
        assertFalse(p.matches("a.b.example.net"), "only one label");
        assertFalse(p.matches("mx1.example.net.evil.test"));
        assertTrue(p.matches("mail.example.com"));
        assertFalse(p.matches("x.mail.example.com"), "no wildcard, no subdomain");
        assertFalse(p.matches("ail.example.com"));
    }

    @Test
    void invalidPoliciesAreRefused() {
        for (String body : List.of(
                "mode: enforce\nmx: a.example\nmax_age: 60\n",                              // no version
                "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 60\n",              // another version
                "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 60\n",               // unknown mode
                "version: STSv1\nmode: enforce\nmax_age: 60\n",                             // enforce without mx
                "version: STSv1\nmode: enforce\nmx: a.example\n",                           // no max_age
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -5\n",              // not digits
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",     // more than 10 digits
                "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 60\n",            // wildcard not leftmost
                "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 60\njust text\n",   // not key: value
                "<html><body>Not found</body></html>")) {
            assertThrows(IllegalArgumentException.class, () -> StsPolicy.parse(body), body);
        }
    }

    @Test
    void exactlyOneStsRecordWithAValidIdIsADiscoveredPolicy() {
        assertEquals(Optional.of("20260101T000000"), StsPolicy.recordId(List.of("v=spf1 -all", "v=STSv1; id=20260101T000000")));
        assertEquals(Optional.of("abc"), StsPolicy.recordId(List.of("v=STSv1;id=abc;ext=1")));
        assertEquals(Optional.empty(), StsPolicy.recordId(List.of()), "no record");
        assertEquals(Optional.empty(), StsPolicy.recordId(List.of("v=STSv1; id=a", "v=STSv1; id=b")), "two records");
        assertEquals(Optional.empty(), StsPolicy.recordId(List.of("v=STSv1; id=has-dash")), "id is letters and digits");
        assertEquals(Optional.empty(), StsPolicy.recordId(List.of("v=STSv1;")), "no id");
        assertEquals(Optional.empty(), StsPolicy.recordId(List.of("v=STSv10; id=a")), "another version");
        // RFC 8461 §3.1: sts-field-delim = *WSP ";" *WSP
        assertEquals(Optional.of("abc"), StsPolicy.recordId(List.of("v=STSv1 ;id=abc")));
        assertEquals(Optional.of("abc"), StsPolicy.recordId(List.of("v=STSv1\t; id=abc")));
        assertEquals(Optional.empty(), StsPolicy.recordId(List.of("v=STSv1x; id=abc")), "another version");
    }

    @Test
    void anExtensionFieldMayHoldDots() {
        // RFC 8461 §3.2: sts-policy-ext-name allows '.'; a valid enforce policy must not be lost to it
        StsPolicy p = StsPolicy.parse("version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\nx.vendor.hint: 1\n");
        assertEquals(StsPolicy.Mode.ENFORCE, p.mode());
    }
}

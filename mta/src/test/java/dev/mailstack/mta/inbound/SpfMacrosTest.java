package dev.mailstack.mta.inbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RFC 7208 §7: macro syntax and expansion, with the values of the RFC's own examples (§7.4). */
class SpfMacrosTest {
    private static final SpfMacros EXAMPLE = values("192.0.2.3");

    private static SpfMacros values(String ip) {
        try {
            return new SpfMacros("strong-bad", "email.example.com", "email.example.com", InetAddress.getByName(ip),
                    "mx.example.org", "mx.receiver.example", 1_700_000_000L, d -> "mx.example.org");
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theRfcExamplesExpandAsTheRfcSays() throws Exception {
        Map<String, String> examples = new LinkedHashMap<>();
        examples.put("%{s}", "strong-bad@email.example.com");
        examples.put("%{o}", "email.example.com");
        examples.put("%{d}", "email.example.com");
        examples.put("%{d4}", "email.example.com");
        examples.put("%{d3}", "email.example.com");
        examples.put("%{d2}", "example.com");
        examples.put("%{d1}", "com");
        examples.put("%{dr}", "com.example.email");
        examples.put("%{d2r}", "example.email");
        examples.put("%{l}", "strong-bad");
        examples.put("%{l-}", "strong.bad");
        examples.put("%{lr}", "strong-bad");
        examples.put("%{lr-}", "bad.strong");
        examples.put("%{l1r-}", "strong");
        examples.put("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com");
        examples.put("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com");
        examples.put("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
        examples.put("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com");
        examples.put("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net");
        for (Map.Entry<String, String> example : examples.entrySet()) {
            assertEquals(example.getValue(), EXAMPLE.expand(example.getKey(), false), example.getKey());
        }
        assertEquals("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com",
                values("2001:db8::cb01").expand("%{ir}.%{v}._spf.%{d2}", false));
    }

    @Test
    void theOtherLettersEscapesAndUpperCase() throws Exception {
        assertEquals("mx.example.org mx.example.org", EXAMPLE.expand("%{h} %{p}", true));
        assertEquals("% %20", EXAMPLE.expand("%%%_%-", false), "§7.1: %% %_ %-");
        assertEquals("strong-bad%40email.example.com", EXAMPLE.expand("%{S}", false), "§7.3: upper case is URL-escaped");
        assertEquals("192.0.2.3 mx.receiver.example 1700000000", EXAMPLE.expand("%{c} %{r} %{t}", true), "exp-only letters");
        assertEquals("2001:db8::cb01 / 2001:db8::1:0:0:1 / ::1 / 1::",
                values("2001:db8::cb01").expand("%{c}", true) + " / " + SpfMacros.readable(InetAddress.getByName("2001:db8:0:0:1:0:0:1"))
                        + " / " + SpfMacros.readable(InetAddress.getByName("::1")) + " / " + SpfMacros.readable(InetAddress.getByName("1::")),
                "RFC 5952: the first longest run of zero groups is shortened");
        SpfMacros plus = new SpfMacros("foo-bar+zip+quux", "example.com", "example.com", InetAddress.getByName("192.0.2.3"),
                "mx.example.org", "unknown", 0, d -> "unknown");
        assertEquals("bar.foo", plus.expand("%{l2r+-}", false), "several delimiters at once");
    }

    @Test
    void namesLoseATrailingDotAndLabelsFromTheLeftPast253() throws Exception {
        assertEquals("example.com", EXAMPLE.name("%{d2}."));
        String label = "a".repeat(60);
        String longName = String.join(".", label, label, label, label, label) + ".example";
        String name = EXAMPLE.forDomain(longName).name("%{d}");
        assertEquals(String.join(".", label, label, label, label) + ".example", name, "one label dropped: 312 → 251 characters");
    }

    @Test
    void badMacroStringsArePermanentErrors() {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("%", "'%' not followed by '{', '%', '_' or '-' in %");
        bad.put("foo%.example.com", "'%' not followed by '{', '%', '_' or '-' in foo%.example.com");
        bad.put("%(ir).sbl.example.com", "'%' not followed by '{', '%', '_' or '-' in %(ir).sbl.example.com");
        bad.put("%{d", "unterminated macro in %{d");
        bad.put("%{}", "empty macro in %{}");
        bad.put("%{a}.example.com", "macro letter 'a' not allowed in %{a}.example.com");
        bad.put("%{r}.example.com", "macro letter 'r' not allowed in %{r}.example.com");
        bad.put("%{d0}", "macro keeps zero parts in %{d0}");
        bad.put("%{d2x}", "macro delimiter 'x' not allowed in %{d2x}");
        bad.put("a b", "character 32 not allowed in a b");
        for (Map.Entry<String, String> b : bad.entrySet()) {
            SpfError e = assertThrows(SpfError.class, () -> SpfMacros.checkSyntax(b.getKey(), false), b.getKey());
            assertEquals(SpfResult.Kind.PERMERROR, e.kind());
            assertEquals(b.getValue(), e.getMessage());
        }
    }

    @Test
    void explanationTextMayHoldSpacesAndTheExpOnlyLetters() throws Exception {
        SpfMacros.checkSyntax("%{c} is not %{r}'s at %{t}", true);
        assertEquals("The email.example.com-files.", EXAMPLE.expand("The %{d}-files.", true));
    }
}

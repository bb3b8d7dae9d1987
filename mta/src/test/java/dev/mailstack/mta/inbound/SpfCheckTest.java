package dev.mailstack.mta.inbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.delivery.LocalDnsServer;
import dev.mailstack.mta.delivery.LocalDnsServer.A;
import dev.mailstack.mta.delivery.LocalDnsServer.Aaaa;
import dev.mailstack.mta.delivery.LocalDnsServer.Mx;
import dev.mailstack.mta.delivery.LocalDnsServer.Ptr;
import dev.mailstack.mta.delivery.LocalDnsServer.Record;
import dev.mailstack.mta.delivery.LocalDnsServer.ServFail;
import dev.mailstack.mta.delivery.LocalDnsServer.Silent;
import dev.mailstack.mta.delivery.LocalDnsServer.Txt;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.inbound.SpfResult.Kind;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RFC 7208 check_host() against a DNS responder on loopback, through the JDK's real resolver.
 * Many cases are hand-translated from the SPF council's RFC 7208 test suite (pyspf's
 * rfc7208-tests.yml), with its names in the comments.
 */
class SpfCheckTest {
    private static final String HELO = "mail.client.test";

    /** A zone built up name by name: each name's records. */
    private static final class Zone {
        final Map<String, List<Record>> names = new HashMap<>();

        Zone add(String name, Record... records) {
            names.computeIfAbsent(name, n -> new ArrayList<>()).addAll(List.of(records));
            return this;
        }

        Zone spf(String name, String record) {
            return add(name, new Txt(record));
        }
    }

    private static SpfResult check(Zone zone, String client, String mailFrom) throws Exception {
        return check(zone, client, HELO, mailFrom);
    }

    private static SpfResult check(Zone zone, String client, String helo, String mailFrom) throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(zone.names)) {
            return new SpfCheck(new DnsLookup(dns.url()), "mx.receiver.test", Duration.ofSeconds(20))
                    .check(InetAddress.getByName(client), helo, mailFrom);
        }
    }

    private static void assertResult(Kind kind, String explanation, SpfResult result) {
        assertEquals(kind, result.kind(), () -> result.toString());
        assertEquals(explanation, result.explanation());
    }

    @Test
    void ip4NetworksPassAndAllFails() throws Exception {
        Zone zone = new Zone().spf("example.test", "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 -all");
        assertEquals(new SpfResult(Kind.PASS, "example.test", "example.test designates 192.0.2.200 as permitted sender"),
                check(zone, "192.0.2.200", "alice@example.test"));
        assertResult(Kind.PASS, "example.test designates 198.51.100.7 as permitted sender", check(zone, "198.51.100.7", "alice@Example.TEST"));
        assertEquals(new SpfResult(Kind.FAIL, "example.test", "example.test does not designate 198.51.100.8 as permitted sender"),
                check(zone, "198.51.100.8", "alice@example.test"));
    }

    @Test
    void qualifiersGiveTheirResults() throws Exception {
        Zone zone = new Zone()
                .spf("soft.test", "v=spf1 ip4:192.0.2.1 ~all")
                .spf("neutral.test", "v=spf1 ?all")
                .spf("nothing.test", "v=spf1 ip4:192.0.2.1") // default-result: neutral
                .spf("plus.test", "v=spf1 -ip4:192.0.2.2 +all")
                .spf("double.test", "v=spf1 all -all"); // all-double: the first match counts
        assertResult(Kind.SOFTFAIL, "soft.test does not designate 192.0.2.2 as permitted sender, but does not forbid it",
                check(zone, "192.0.2.2", "a@soft.test"));
        assertResult(Kind.NEUTRAL, "neutral.test neither permits nor denies 192.0.2.2", check(zone, "192.0.2.2", "a@neutral.test"));
        assertResult(Kind.NEUTRAL, "nothing.test neither permits nor denies 192.0.2.2", check(zone, "192.0.2.2", "a@nothing.test"));
        assertEquals(Kind.FAIL, check(zone, "192.0.2.2", "a@plus.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.3", "a@plus.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.3", "a@double.test").kind());
    }

    @Test
    void ip6NetworksAndIpv4MappedClients() throws Exception {
        Zone zone = new Zone()
                .spf("six.test", "v=spf1 ip6:2001:db8::/32 -ip4:192.0.2.1 ip6:::ffff:192.0.2.2 ?all")
                .spf("cidr33.test", "v=spf1 ip6:Cafe:Babe:8000::/33");
        assertResult(Kind.PASS, "six.test designates 2001:db8:ffff::1 as permitted sender", check(zone, "2001:db8:ffff::1", "a@six.test"));
        assertEquals(Kind.NEUTRAL, check(zone, "2001:db9::1", "a@six.test").kind());
        // ip4-mapped-ip6: a mapped client is IPv4 (§5), so ip4 matches it and ip6 never does (cidr6-ip4)
        assertResult(Kind.FAIL, "six.test does not designate 192.0.2.1 as permitted sender", check(zone, "::ffff:192.0.2.1", "a@six.test"));
        assertEquals(Kind.NEUTRAL, check(zone, "::ffff:192.0.2.2", "a@six.test").kind());
        assertEquals(Kind.PASS, check(zone, "cafe:babe:8000::", "a@cidr33.test").kind(), "cidr6-33");
        assertEquals(Kind.NEUTRAL, check(zone, "cafe:babe:0::1", "a@cidr33.test").kind());
        assertEquals(Kind.NEUTRAL, check(zone, "192.0.2.1", "a@cidr33.test").kind(), "cidr6-33-ip4");
    }

    @Test
    void aMatchesTheAddressesOfTheClientsFamilyWithinTheDualCidr() throws Exception {
        Zone zone = new Zone()
                .spf("dual.test", "v=spf1 a/24//64 -all").add("dual.test", new A("192.0.2.5"), new Aaaa("2001:db8:1234::dead:beef"))
                .spf("v4only.test", "v=spf1 a/24 -all").add("v4only.test", new A("192.0.2.5"), new Aaaa("2001:db8:1234::dead:beef"))
                .spf("named.test", "v=spf1 a:host.named.test -all").add("host.named.test", new A("198.51.100.1"), new A("198.51.100.2"))
                .spf("nothing.test", "v=spf1 a/0 -all") // a-nxdomain: no address, no match even with /0
                .spf("ipv6.test", "v=spf1 a -all").add("ipv6.test", new A("198.51.100.9"), new Aaaa("2001:db8::9"));
        assertEquals(Kind.PASS, check(zone, "192.0.2.77", "a@dual.test").kind(), "a-dual-cidr-ip4-match");
        assertEquals(Kind.PASS, check(zone, "2001:db8:1234::cafe:babe", "a@dual.test").kind(), "a-dual-cidr-ip6-match");
        assertEquals(Kind.FAIL, check(zone, "192.0.3.5", "a@dual.test").kind());
        assertEquals(Kind.FAIL, check(zone, "2001:db8:1234::cafe:babe", "a@v4only.test").kind(), "a-dual-cidr-ip6-default: /128");
        assertEquals(Kind.PASS, check(zone, "198.51.100.2", "a@named.test").kind(), "a-multi-ip2");
        assertEquals(Kind.FAIL, check(zone, "198.51.100.3", "a@named.test").kind());
        assertEquals(Kind.FAIL, check(zone, "192.0.2.1", "a@nothing.test").kind());
        assertEquals(Kind.PASS, check(zone, "2001:db8::9", "a@ipv6.test").kind(), "a-ip6-dualstack: AAAA for an IPv6 client");
        assertEquals(Kind.FAIL, check(zone, "::ffff:198.51.100.10", "a@ipv6.test").kind());
        assertEquals(Kind.PASS, check(zone, "::ffff:198.51.100.9", "a@ipv6.test").kind(), "a mapped client is asked about by A");
    }

    @Test
    void mxMatchesTheAddressesOfTheExchangesOnly() throws Exception {
        Zone zone = new Zone()
                .spf("mx.test", "v=spf1 mx -all")
                .add("mx.test", new Mx(10, "mx1.mx.test."), new Mx(20, "mx2.mx.test."))
                .add("mx1.mx.test", new A("192.0.2.11"))
                .add("mx2.mx.test", new A("192.0.2.12"), new Aaaa("2001:db8::12"))
                .spf("cidr.test", "v=spf1 mx:mx.test/30 -all")
                .spf("implicit.test", "v=spf1 mx").add("implicit.test", new A("192.0.2.14")) // mx-implicit
                .spf("nullmx.test", "v=spf1 mx").add("nullmx.test", new Mx(0, ".")); // mx-empty
        assertEquals(Kind.PASS, check(zone, "192.0.2.12", "a@mx.test").kind());
        assertEquals(Kind.PASS, check(zone, "2001:db8::12", "a@mx.test").kind());
        assertEquals(Kind.FAIL, check(zone, "192.0.2.13", "a@mx.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.13", "a@cidr.test").kind(), "192.0.2.12/30");
        assertEquals(Kind.FAIL, check(zone, "192.0.2.16", "a@cidr.test").kind());
        assertEquals(Kind.NEUTRAL, check(zone, "192.0.2.14", "a@implicit.test").kind(), "no MX: no falling back to A");
        assertEquals(Kind.NEUTRAL, check(zone, "192.0.2.14", "a@nullmx.test").kind());
    }

    /** The include tests of the RFC 7208 suite: only an inner pass matches (§5.2). */
    @Test
    void includeMatchesOnAnInnerPassOnly() throws Exception {
        Zone zone = new Zone()
                .spf("ip5.test", "v=spf1 ip4:192.0.2.5 -all")
                .spf("ip6.test", "v=spf1 ip4:192.0.2.6 ~all")
                .spf("ip7.test", "v=spf1 ip4:192.0.2.7 ?all")
                .add("ip8.test", new ServFail())
                .spf("erehwon.test", "v=spfl am not an SPF record")
                .spf("e1.test", "v=spf1 include:ip5.test ~all")
                .spf("e2.test", "v=spf1 include:ip6.test all")
                .spf("e3.test", "v=spf1 include:ip7.test -all")
                .spf("e4.test", "v=spf1 include:ip8.test -all")
                .spf("e5.test", "v=spf1 include:e6.test -all")
                .spf("e6.test", "v=spf1 include +all")
                .spf("e7.test", "v=spf1 include:erehwon.test -all")
                .spf("e8.test", "v=spf1 include:ip5.test -all");
        assertEquals(Kind.SOFTFAIL, check(zone, "192.0.2.4", "a@e1.test").kind(), "include-fail");
        assertEquals(Kind.PASS, check(zone, "192.0.2.4", "a@e2.test").kind(), "include-softfail");
        assertEquals(Kind.FAIL, check(zone, "192.0.2.4", "a@e3.test").kind(), "include-neutral");
        assertResult(Kind.TEMPERROR, "no answer from DNS for ip8.test TXT", check(zone, "192.0.2.4", "a@e4.test"));
        assertResult(Kind.PERMERROR, "e6.test: missing domain: include", check(zone, "192.0.2.4", "a@e5.test"));
        assertResult(Kind.PERMERROR, "include:erehwon.test has no SPF record", check(zone, "192.0.2.4", "a@e7.test"));
        assertEquals(new SpfResult(Kind.PASS, "e8.test", "e8.test designates 192.0.2.5 as permitted sender"),
                check(zone, "192.0.2.5", "a@e8.test"));
    }

    @Test
    void redirectIsFollowedOnlyWhenNothingMatchedAndThereIsNoAll() throws Exception {
        Zone zone = new Zone()
                .spf("t2.test", "v=spf1 ip4:192.0.2.4 -all")
                .spf("t5.test", "v=spf1 redirect=t5.test ~all") // redirect-after-mechanisms1: never followed
                .spf("t6.test", "v=spf1 ip4:192.0.2.9 redirect=t2.test")
                .spf("e10.test", "v=spf1 redirect=erehwon.test") // redirect-none
                .spf("e24.test", "v=spf1 redirect=testimplicit.test").add("e24.test", new A("192.0.2.1"))
                .spf("testimplicit.test", "v=spf1 a -all").add("testimplicit.test", new A("192.0.2.2"));
        assertEquals(Kind.SOFTFAIL, check(zone, "192.0.2.4", "a@t5.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.9", "a@t6.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.4", "a@t6.test").kind());
        assertEquals(new SpfResult(Kind.FAIL, "t6.test", "t6.test does not designate 192.0.2.5 as permitted sender"),
                check(zone, "192.0.2.5", "a@t6.test"));
        assertResult(Kind.PERMERROR, "redirect to erehwon.test, which has no SPF record", check(zone, "192.0.2.4", "a@e10.test"));
        // redirect-implicit: the target's "a" is the target's address
        assertEquals(new SpfResult(Kind.PASS, "e24.test", "e24.test designates 192.0.2.2 as permitted sender"),
                check(zone, "192.0.2.2", "bar@e24.test"));
        assertEquals(Kind.FAIL, check(zone, "192.0.2.1", "bar@e24.test").kind());
    }

    @Test
    void existsAsksForAnAddressWhateverTheClient() throws Exception {
        Zone zone = new Zone()
                .spf("e4.test", "v=spf1 exists:mail.e4.test -all").add("mail.e4.test", new A("192.0.2.1"))
                .spf("e5.test", "v=spf1 exists:mail6.e5.test -all").add("mail6.e5.test", new Aaaa("cafe:babe::4"))
                .spf("list.test", "v=spf1 -exists:%{ir}.bl.list.test +all").add("4.2.0.192.bl.list.test", new A("127.0.0.2"));
        assertEquals(Kind.PASS, check(zone, "192.0.2.200", "a@e4.test").kind(), "exists-ip4");
        assertEquals(Kind.PASS, check(zone, "cafe:babe::3", "a@e4.test").kind(), "exists-ip6");
        assertEquals(Kind.FAIL, check(zone, "cafe:babe::3", "a@e5.test").kind(), "exists-ip6only");
        assertEquals(Kind.FAIL, check(zone, "192.0.2.4", "a@list.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.5", "a@list.test").kind());
    }

    @Test
    void ptrMatchesValidatedNamesUnderTheTarget() throws Exception {
        Zone zone = new Zone()
                .add("40.2.0.192.in-addr.arpa", new Ptr("fake.ptr.test."), new Ptr("MX.Ptr.Test."))
                .add("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c.ip6.arpa", new Ptr("mx.ptr.test."))
                .add("mx.ptr.test", new A("192.0.2.40"), new Aaaa("cafe:babe::1"))
                .add("fake.ptr.test", new A("192.0.2.99"))
                .spf("ptr.test", "v=spf1 ptr -all")
                .spf("fake.test", "v=spf1 ptr:fake.ptr.test -all") // ptr-nomatch-invalid
                .spf("other.test", "v=spf1 ptr:Ptr.TEST -all"); // ptr-case-change
        assertEquals(Kind.PASS, check(zone, "192.0.2.40", "a@ptr.test").kind());
        assertEquals(Kind.PASS, check(zone, "cafe:babe::1", "a@ptr.test").kind(), "ptr-match-ip6");
        assertEquals(Kind.FAIL, check(zone, "192.0.2.41", "a@ptr.test").kind(), "no PTR at all");
        assertEquals(Kind.FAIL, check(zone, "192.0.2.40", "a@fake.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.40", "a@other.test").kind());
    }

    /** The "Selecting records" tests of the RFC 7208 suite (§4.5). */
    @Test
    void onlyOneRecordStartingWithTheVersionCounts() throws Exception {
        Zone zone = new Zone()
                .add("none.test", new Txt("google-site-verification=x"))
                .spf("two.test", "v=spf1 -all").spf("two.test", "V=sPf1 +all") // multitxt2
                .spf("version.test", "v=spf10 -all").spf("version.test", "v=SpF1 ~all") // case-insensitive
                .spf("empty.test", "v=spf1")
                .add("joined.test", new Txt("v=spf1", "mx")) // nospace1: the strings join with nothing between
                .add("split.test", new Txt("v=spf1 ip4:192.0.2.1", " -all"))
                .spf("twospaces.test", "v=spf1 ip4:192.0.2.1  -all");
        assertEquals(new SpfResult(Kind.NONE, "none.test", "no SPF record for none.test"), check(zone, "192.0.2.2", "a@none.test"));
        assertEquals(new SpfResult(Kind.NONE, "nxdomain.test", "no SPF record for nxdomain.test"), check(zone, "192.0.2.2", "a@nxdomain.test"));
        assertResult(Kind.PERMERROR, "more than one SPF record for two.test", check(zone, "192.0.2.2", "a@two.test"));
        assertEquals(Kind.SOFTFAIL, check(zone, "192.0.2.2", "a@version.test").kind());
        assertEquals(Kind.NEUTRAL, check(zone, "192.0.2.2", "a@empty.test").kind());
        assertEquals(Kind.NONE, check(zone, "192.0.2.2", "a@joined.test").kind());
        assertEquals(Kind.FAIL, check(zone, "192.0.2.2", "a@split.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.1", "a@split.test").kind());
        assertEquals(Kind.FAIL, check(zone, "192.0.2.2", "a@twospaces.test").kind());
    }

    /** §4.6 and §12: a record that does not parse is a permerror, even past a mechanism that matches. */
    @Test
    void syntaxErrorsAnywhereArePermanentErrors() throws Exception {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("v=spf1 ip4:192.0.2.1 -all moo", "unknown mechanism: moo"); // detect-errors-anywhere
        bad.put("v=spf1 -all.", "unknown mechanism: -all."); // all-dot
        bad.put("v=spf1 -all:foobar", "all takes no argument: -all:foobar");
        bad.put("v=spf1 -all/8", "all takes no argument: -all/8");
        bad.put("v=spf1 ip4:192.0.2.1/33 -all", "bad prefix length: ip4:192.0.2.1/33");
        bad.put("v=spf1 ip4:192.0.2.1/032 -all", "bad prefix length: ip4:192.0.2.1/032");
        bad.put("v=spf1 ip4:192.0.2", "not a network: ip4:192.0.2");
        bad.put("v=spf1 ip4:192.0.2.1:8080", "not a network: ip4:192.0.2.1:8080");
        bad.put("v=spf1 ip4:192.0.2.256", "not a network: ip4:192.0.2.256");
        bad.put("v=spf1 ip4:192.0.2.1//32", "not a network: ip4:192.0.2.1//32");
        bad.put("v=spf1 -all ip6", "not a network: ip6");
        bad.put("v=spf1 ip6:::1.1.1.1/129", "bad prefix length: ip6:::1.1.1.1/129");
        bad.put("v=spf1 ip6::CAFE::BABE", "not a network: ip6::CAFE::BABE");
        bad.put("v=spf1 a//129 -all", "bad prefix length: a//129");
        bad.put("v=spf1 a/24/64 -all", "bad a mechanism: a/24/64");
        bad.put("v=spf1 a:111.222.33.44", "not a domain: a:111.222.33.44"); // a-numeric
        bad.put("v=spf1 a:museum", "not a domain: a:museum"); // a-only-toplabel
        bad.put("v=spf1 a:museum.", "not a domain: a:museum.");
        bad.put("v=spf1 a:example.-com", "not a domain: a:example.-com");
        bad.put("v=spf1 mx:example.com:8080", "not a domain: mx:example.com:8080");
        bad.put("v=spf1 include -all", "missing domain: include");
        bad.put("v=spf1 include: -all", "not a domain: include:");
        bad.put("v=spf1 include:ip5.example.com/24 -all", "not a domain: include:ip5.example.com/24");
        bad.put("v=spf1 exists:mail.example.com/24", "not a domain: exists:mail.example.com/24");
        bad.put("v=spf1 ptr/0 -all", "missing domain: ptr/0");
        bad.put("v=spf1 ip4:192.0.2.1 redirect:other.test", "unknown mechanism: redirect:other.test");
        bad.put("v=spf1 moo.cow/far_out=man:dog/cat ip4:192.0.2.1 -all", "unknown mechanism: moo.cow/far_out=man:dog/cat");
        bad.put("v=spf1 1up=foo", "unknown mechanism: 1up=foo");
        bad.put("v=spf1 =all", "unknown mechanism: =all");
        bad.put("v=spf1 exp= -all", "not a domain: exp="); // exp-empty-domain
        bad.put("v=spf1 exp=-all", "not a domain: exp=-all");
        bad.put("v=spf1 ?all redirect=", "not a domain: redirect=");
        bad.put("v=spf1 exp=a.example.com -all exp=b.example.com", "exp= given twice");
        bad.put("v=spf1 redirect=a.example.com -all redirect=a.example.com", "redirect= given twice");
        bad.put("v=spf1 -all foo=%abc", "'%' not followed by '{', '%', '_' or '-' in %abc");
        bad.put("v=spf1 -exists:%(ir).sbl.example.com ?all", "'%' not followed by '{', '%', '_' or '-' in %(ir).sbl.example.com");
        bad.put("v=spf1 a:%{a}.example.com -all", "macro letter 'a' not allowed in %{a}.example.com");
        bad.put("v=spf1 -all exp=%{r}.example.com", "macro letter 'r' not allowed in %{r}.example.com"); // exp-only-macro-char
        bad.put("v=spf1 a:ctrl.example.com\rptr -all", "character 13 in the SPF record"); // control-char-policy
        Zone zone = new Zone();
        int i = 0;
        for (String record : bad.keySet()) {
            zone.spf("bad" + i++ + ".test", record);
        }
        i = 0;
        for (Map.Entry<String, String> b : bad.entrySet()) {
            String domain = "bad" + i++ + ".test";
            assertEquals(new SpfResult(Kind.PERMERROR, domain, domain + ": " + b.getValue()), check(zone, "192.0.2.1", "a@" + domain), b.getKey());
        }
    }

    @Test
    void unknownModifiersAreIgnored() throws Exception {
        Zone zone = new Zone()
                .spf("t2.test", "v=spf1 moo.cow-far_out=man:dog/cat ip4:192.0.2.1 -all") // modifier-charset-good
                .spf("e19.test", "v=spf1 default=pass"); // default-modifier-obsolete
        assertEquals(Kind.PASS, check(zone, "192.0.2.1", "a@t2.test").kind());
        assertEquals(Kind.FAIL, check(zone, "192.0.2.2", "a@t2.test").kind());
        assertEquals(Kind.NEUTRAL, check(zone, "192.0.2.1", "a@e19.test").kind());
    }

    /** a-colon-domain and mx-colon-domain: a domain-spec may hold any visible character but '%'. */
    @Test
    void aTargetNameMayHoldAnyVisibleCharacter() throws Exception {
        Zone zone = new Zone()
                .spf("e11.test", "v=spf1 a:foo:bar/baz.test -all")
                .spf("e12.test", "v=spf1 mx:foo:bar/baz.test -all")
                .add("foo:bar/baz.test", new A("192.0.2.4"), new Mx(0, "foo:bar/baz.test."));
        assertEquals(Kind.PASS, check(zone, "192.0.2.4", "a@e11.test").kind());
        assertEquals(Kind.PASS, check(zone, "::ffff:192.0.2.4", "a@e12.test").kind());
        assertEquals(Kind.FAIL, check(zone, "192.0.2.5", "a@e12.test").kind());
    }

    /** §4.6.4: ten DNS-querying terms per check, include and redirect counted in. */
    @Test
    void elevenDnsTermsArePermanentErrorsTenAreNot() throws Exception {
        Zone zone = new Zone().spf("inc11.test", "v=spf1 +all");
        for (int i = 0; i <= 10; i++) {
            zone.spf("inc" + i + ".test", "v=spf1 include:inc" + (i + 1) + ".test -all");
        }
        zone.spf("loop.test", "v=spf1 ip4:192.0.2.9 redirect=loop.test") // redirect-loop
                .spf("e6.test", "v=spf1 a mx a mx a mx a mx a ptr ip4:192.0.2.1 -all") // mech-at-limit
                .spf("e7.test", "v=spf1 a mx a mx a mx a mx a ptr a ip4:192.0.2.1 -all") // mech-over-limit
                .add("e6.test", new A("192.0.2.8"), new Mx(10, "e6.test."))
                .add("e7.test", new A("192.0.2.20"), new Mx(10, "e7.test."));
        assertEquals(Kind.PASS, check(zone, "192.0.2.1", "a@inc1.test").kind(), "ten includes");
        String tooMany = "more than 10 DNS lookups (include, a, mx, ptr, exists, redirect)";
        assertEquals(new SpfResult(Kind.PERMERROR, "inc0.test", tooMany), check(zone, "192.0.2.1", "a@inc0.test"));
        assertResult(Kind.PERMERROR, tooMany, check(zone, "192.0.2.1", "a@loop.test"));
        assertEquals(Kind.PASS, check(zone, "192.0.2.1", "a@e6.test").kind());
        assertResult(Kind.PERMERROR, tooMany, check(zone, "192.0.2.1", "a@e7.test"));
    }

    @Test
    void aThirdVoidLookupIsAPermanentError() throws Exception {
        Zone zone = new Zone()
                .spf("e12.test", "v=spf1 a:err.test a:err1.test ?all") // void-at-limit
                .spf("e11.test", "v=spf1 a:err.test a:err1.test a:err2.test ?all") // void-over-limit
                .spf("e13.test", "v=spf1 exists:err.test mx:mxless.test a:err2.test ?all")
                .add("mxless.test", new A("192.0.2.99")) // a name without MX records: void too
                .spf("e23.test", "v=spf1 a:err.test a:err3.test exp=err2.test -all"); // exp-void: exp is not counted
        assertEquals(Kind.NEUTRAL, check(zone, "192.0.2.1", "a@e12.test").kind());
        String tooMany = "more than 2 DNS lookups found nothing";
        assertResult(Kind.PERMERROR, tooMany, check(zone, "192.0.2.1", "a@e11.test"));
        assertResult(Kind.PERMERROR, tooMany, check(zone, "192.0.2.1", "a@e13.test"));
        assertResult(Kind.FAIL, "e23.test does not designate 192.0.2.1 as permitted sender", check(zone, "192.0.2.1", "a@e23.test"));
    }

    @Test
    void mxWithElevenNamesIsAPermanentError() throws Exception {
        Zone zone = new Zone().spf("eleven.test", "v=spf1 mx ?all").spf("ten.test", "v=spf1 mx -all");
        for (int i = 0; i <= 10; i++) {
            zone.add("eleven.test", new Mx(i, "m" + i + ".test."));
            if (i < 10) {
                zone.add("ten.test", new Mx(i, "m" + i + ".test."));
            }
        }
        zone.add("m9.test", new A("192.0.2.9"));
        assertResult(Kind.PERMERROR, "more than 10 MX records for eleven.test", check(zone, "192.0.2.9", "a@eleven.test"));
        assertEquals(Kind.PASS, check(zone, "192.0.2.9", "a@ten.test").kind());
    }

    /** ptr-limit: only the first ten PTR names are looked at; the eleventh does not validate. */
    @Test
    void ptrLooksAtTenNamesOnly() throws Exception {
        Zone zone = new Zone().spf("e5.test", "v=spf1 ptr -all").spf("e6.test", "v=spf1 ptr -all");
        for (int i = 1; i <= 11; i++) {
            zone.add("5.2.0.192.in-addr.arpa", new Ptr("n" + i + (i == 11 ? ".e5.test." : ".x.test.")));
            zone.add("6.2.0.192.in-addr.arpa", new Ptr("n" + i + (i == 10 ? ".e6.test." : ".x.test.")));
        }
        zone.add("n11.e5.test", new A("192.0.2.5")).add("n10.e6.test", new A("192.0.2.6"));
        assertEquals(Kind.FAIL, check(zone, "192.0.2.5", "a@e5.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.0.2.6", "a@e6.test").kind());
    }

    @Test
    void dnsFailuresAreTemporaryErrors() throws Exception {
        Zone zone = new Zone()
                .add("servfail.test", new ServFail())
                .add("broken.test", new ServFail())
                .spf("a.test", "v=spf1 ip4:192.0.2.1 a:broken.test -all")
                .spf("exists.test", "v=spf1 exists:broken.test -all")
                .spf("mx.test", "v=spf1 mx -all").add("mx.test", new Mx(10, "broken.test."));
        assertEquals(new SpfResult(Kind.TEMPERROR, "servfail.test", "no answer from DNS for servfail.test TXT"),
                check(zone, "192.0.2.1", "a@servfail.test"));
        assertEquals(Kind.PASS, check(zone, "192.0.2.1", "a@a.test").kind(), "matched before the failing lookup");
        assertResult(Kind.TEMPERROR, "no answer from DNS for broken.test A", check(zone, "192.0.2.2", "a@a.test"));
        assertResult(Kind.TEMPERROR, "no answer from DNS for broken.test AAAA", check(zone, "2001:db8::2", "a@a.test"));
        assertResult(Kind.TEMPERROR, "no answer from DNS for broken.test A", check(zone, "192.0.2.2", "a@exists.test"));
        assertResult(Kind.TEMPERROR, "no answer from DNS for broken.test A", check(zone, "192.0.2.2", "a@mx.test"));
    }

    @Test
    void aSilentServerIsATemporaryErrorWithinTheBudget() throws Exception {
        Zone zone = new Zone().spf("slow.test", "v=spf1 include:silent.test -all").add("silent.test", new Silent());
        try (LocalDnsServer dns = new LocalDnsServer(zone.names)) {
            SpfCheck spf = new SpfCheck(new DnsLookup(dns.url()), "unknown", Duration.ofMillis(300));
            long start = System.nanoTime();
            SpfResult result = spf.check(InetAddress.getByName("192.0.2.1"), HELO, "a@slow.test");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(new SpfResult(Kind.TEMPERROR, "slow.test", "no SPF result within 300 ms"), result);
            // JNDI gives up on a silent server after 1 + 2 s: well before that, on however busy a machine
            assertTrue(millis < 2500, "the budget holds although DNS waits a second before its first retry: " + millis + " ms");
        }
    }

    /** §2.4: a null sender's check is postmaster@HELO; a HELO that is no domain name has none (§4.3). */
    @Test
    void theNullSenderIsCheckedAsPostmasterAtTheHelo() throws Exception {
        Zone zone = new Zone()
                .spf("mail.helo.test", "v=spf1 a -all exp=why.helo.test").add("mail.helo.test", new A("192.0.2.9"))
                .add("why.helo.test", new Txt("%{s} may not send from %{i} (helo %{h})"));
        assertEquals(new SpfResult(Kind.PASS, "mail.helo.test", "mail.helo.test designates 192.0.2.9 as permitted sender"),
                check(zone, "192.0.2.9", "mail.helo.test", ""));
        assertEquals(new SpfResult(Kind.FAIL, "mail.helo.test", "postmaster@mail.helo.test may not send from 192.0.2.8 (helo Mail.Helo.Test)"),
                check(zone, "192.0.2.8", "Mail.Helo.Test.", null));
        assertEquals(new SpfResult(Kind.NONE, "[192.0.2.9]", "[192.0.2.9] is not a domain name: no SPF check"),
                check(zone, "192.0.2.9", "[192.0.2.9]", "")); // helo-domain-literal
        assertEquals(new SpfResult(Kind.NONE, "a2345678", "a2345678 is not a domain name: no SPF check"),
                check(zone, "192.0.2.9", "A2345678", "")); // helo-not-fqdn
        // nolocalpart: a sender without a local part is postmaster
        assertResult(Kind.FAIL, "postmaster@mail.helo.test may not send from 192.0.2.8 (helo other.test)",
                check(zone, "192.0.2.8", "other.test", "@mail.helo.test"));
    }

    /** §4.3: a malformed sender domain has no SPF result. */
    @Test
    void aSenderDomainThatIsNoDomainNameHasNone() throws Exception {
        Zone zone = new Zone().spf("a12345678901234567890123456789012345678901234567890123456789012.test", "v=spf1 -all");
        assertEquals(Kind.FAIL, check(zone, "192.0.2.1", "a@A12345678901234567890123456789012345678901234567890123456789012.test").kind(),
                "longlabel: 63 octets");
        assertEquals(Kind.NONE, check(zone, "192.0.2.1", "a@A123456789012345678901234567890123456789012345678901234567890123.test").kind(),
                "toolonglabel");
        assertEquals(Kind.NONE, check(zone, "192.0.2.1", "a@A...test").kind(), "emptylabel");
        assertEquals(Kind.NONE, check(zone, "192.0.2.1", "foo@[192.0.2.1]").kind(), "domain-literal");
    }

    /** §6.2 and the suite's exp tests: the explanation of the record that failed, else a default. */
    @Test
    void failExplainsWithTheFailingRecordsExp() throws Exception {
        Zone zone = new Zone()
                .spf("exp.test", "v=spf1 mx -all exp=explain._spf.%{d}")
                .add("explain._spf.exp.test", new Txt("%{i} is not one of %{d}'s designated mail servers."))
                .spf("e1.test", "v=spf1 exp=exp1.test redirect=e2.test").spf("e2.test", "v=spf1 -all") // redirect-cancels-exp
                .spf("e3.test", "v=spf1 exp=exp1.test redirect=e4.test").spf("e4.test", "v=spf1 -all exp=exp2.test")
                .add("exp1.test", new Txt("No-see-um")).add("exp2.test", new Txt("See me.")).add("exp3.test", new Txt("Correct!"))
                .spf("e7.test", "v=spf1 include:e3.test -all exp=exp3.test") // include-ignores-exp
                .spf("e11.test", "v=spf1 -all exp=two.test").add("two.test", new Txt("one"), new Txt("two")) // exp-multiple-txt
                .spf("e13.test", "v=spf1 exp=e13msg.test -all").add("e13msg.test", new Txt("The %{x}-files.")) // explanation-syntax-error
                .spf("e21.test", "v=spf1 exp=e21msg.test -all").add("e21msg.test", new ServFail()) // exp-dns-error
                .spf("e22.test", "v=spf1 exp=mail.e22.test -all") // exp-no-txt
                .spf("e4v.test", "v=spf1 -all exp=e4msg.test").add("e4msg.test", new Txt("%{c} is queried as %{ir}.%{v}.arpa by %{r}"))
                .spf("e8.test", "v=spf1 -all exp=msg8.%{D2}").add("msg8.e8.test", new Txt("http://example.com/why.html?l=%{L}"))
                .spf("trail.test", "v=spf1 exp=msg.trail.test. -all").add("msg.trail.test", new Txt("This is a test."))
                .spf("p.test", "v=spf1 -all exp=pmsg.test").add("pmsg.test", new Txt("connect from %{p}"))
                .add("41.2.0.192.in-addr.arpa", new Ptr("mx.p.test.")).add("40.2.0.192.in-addr.arpa", new Ptr("mx.p.test."))
                .add("mx.p.test", new A("192.0.2.41"), new A("192.0.2.42"))
                .spf("e7p.test", "v=spf1 -all exp=pmsg.test") // p-macro-multiple: a name under the domain first
                .add("42.2.0.192.in-addr.arpa", new Ptr("mx.p.test."), new Ptr("mx.e7p.test."))
                .add("mx.e7p.test", new A("192.0.2.42"));
        assertEquals(new SpfResult(Kind.FAIL, "exp.test", "192.0.2.3 is not one of exp.test's designated mail servers."),
                check(zone, "192.0.2.3", "a@exp.test"));
        assertResult(Kind.FAIL, "e1.test does not designate 192.0.2.3 as permitted sender", check(zone, "192.0.2.3", "a@e1.test"));
        assertResult(Kind.FAIL, "See me.", check(zone, "192.0.2.3", "a@e3.test"));
        assertResult(Kind.FAIL, "Correct!", check(zone, "192.0.2.3", "a@e7.test"));
        for (String fallsBack : List.of("e11.test", "e13.test", "e21.test", "e22.test")) {
            assertResult(Kind.FAIL, fallsBack + " does not designate 192.0.2.3 as permitted sender", check(zone, "192.0.2.3", "a@" + fallsBack));
        }
        assertResult(Kind.FAIL, "cafe:babe::1 is queried as 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c.ip6.arpa"
                + " by mx.receiver.test", check(zone, "cafe:babe::1", "a@e4v.test"));
        assertResult(Kind.FAIL, "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c",
                check(zone, "192.0.2.3", "~jack&jill=up-a_b3.c@e8.test")); // upper-macro
        assertResult(Kind.FAIL, "This is a test.", check(zone, "192.0.2.3", "a@trail.test")); // trailing-dot-exp
        assertResult(Kind.FAIL, "connect from mx.p.test", check(zone, "192.0.2.41", "a@p.test")); // p-macro-ip4-valid
        assertResult(Kind.FAIL, "connect from unknown", check(zone, "192.0.2.40", "a@p.test")); // p-macro-ip4-novalid
        assertResult(Kind.FAIL, "connect from mx.e7p.test", check(zone, "192.0.2.42", "a@e7p.test"));
        assertResult(Kind.FAIL, "connect from mx.p.test", check(zone, "192.0.2.42", "a@p.test"));
    }

    @Test
    void anExplanationIsCutAndMadePrintable() throws Exception {
        Zone zone = new Zone().spf("long.test", "v=spf1 -all exp=msg.long.test")
                .add("msg.long.test", new Txt("x".repeat(150), "%{l}".repeat(20)));
        SpfResult result = check(zone, "192.0.2.3", "a\tb@long.test");
        assertEquals(Kind.FAIL, result.kind());
        assertEquals("x".repeat(150) + "a?b".repeat(16) + "a?", result.explanation());
    }

    /** The suite's macro tests that go through DNS: split, reverse and keep parts; a trailing dot. */
    @Test
    void macrosBuildTheNamesAsked() throws Exception {
        Zone zone = new Zone()
                .spf("e11.macro.test", "v=spf1 exists:%{i}.%{l2r-}.user.%{d2}") // macro-reverse-split-on-dash
                .add("1.2.3.4.gladstone.philip.user.macro.test", new A("127.0.0.2"))
                .spf("e12.macro.test", "v=spf1 exists:%{l2r+-}.user.%{d2}") // macro-multiple-delimiters
                .add("bar.foo.user.macro.test", new A("127.0.0.2"))
                .spf("example.test", "v=spf1 redirect=%{d}.d.spf.test.") // trailing-dot-domain
                .spf("example.test.d.spf.test", "v=spf1 redirect=a.spf.test")
                .spf("a.spf.test", "v=spf1 include:o.spf.test. ~all")
                .spf("o.spf.test", "v=spf1 ip4:192.168.218.40")
                .spf("e9.test", "v=spf1 a:%{H} -all").add("msgbas2x.cos.test", new A("192.168.218.40")); // hello-macro
        assertEquals(Kind.PASS, check(zone, "1.2.3.4", "philip-gladstone-test@e11.macro.test").kind());
        assertEquals(Kind.NEUTRAL, check(zone, "1.2.3.5", "philip-gladstone-test@e11.macro.test").kind());
        assertEquals(Kind.PASS, check(zone, "1.2.3.4", "foo-bar+zip+quux@e12.macro.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.168.218.40", "test@example.test").kind());
        assertEquals(Kind.SOFTFAIL, check(zone, "192.168.218.41", "test@example.test").kind());
        assertEquals(Kind.PASS, check(zone, "192.168.218.40", "msgbas2x.cos.test", "test@e9.test").kind());
        assertEquals(Kind.FAIL, check(zone, "192.168.218.40", "JUMPIN' JUPITER", "test@e9.test").kind(), "invalid-hello-macro");
    }
}

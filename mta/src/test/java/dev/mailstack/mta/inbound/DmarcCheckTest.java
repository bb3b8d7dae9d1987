package dev.mailstack.mta.inbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.delivery.LocalDnsServer;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.inbound.DmarcResult.Kind;
import dev.mailstack.mta.inbound.DmarcResult.Policy;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** DMARC over a real DNS server on loopback: policy discovery and alignment by RFC 9989's tree walk. */
class DmarcCheckTest {
    private final Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
    private LocalDnsServer dns;

    @AfterEach
    void stop() throws Exception {
        if (dns != null) {
            dns.close();
        }
    }

    private void record(String domain, String text) {
        zone.put("_dmarc." + domain, List.of(new LocalDnsServer.Txt(text)));
    }

    private DmarcResult check(String from, String spfPass, String... dkimPass) throws IOException {
        if (dns == null) {
            dns = new LocalDnsServer(zone);
        }
        return new DmarcCheck(new DnsLookup(dns.url())).evaluate(from, Optional.ofNullable(spfPass), List.of(dkimPass));
    }

    @Test
    void anAlignedSpfOrDkimPassPasses() throws IOException {
        record("example.com", "v=DMARC1; p=reject; rua=mailto:d@example.com");
        assertEquals(Kind.PASS, check("example.com", "example.com").kind());
        assertEquals(Kind.PASS, check("example.com", null, "example.com").kind());
        // relaxed (the default): the same organizational domain is enough
        assertEquals(Kind.PASS, check("example.com", "bounces.example.com").kind());
        assertEquals(Kind.PASS, check("news.example.com", null, "mail.example.com").kind());
    }

    @Test
    void noAlignedPassFailsWithTheDomainsPolicy() throws IOException {
        record("example.com", "v=DMARC1; p=reject");
        DmarcResult r = check("example.com", "evil.example", "evil.example");
        assertEquals(Kind.FAIL, r.kind());
        assertEquals(Policy.REJECT, r.policy());
        assertEquals("no aligned SPF or DKIM pass for example.com, p=reject", r.reason());
        assertEquals(Policy.REJECT, check("example.com", null).policy());
    }

    @Test
    void strictAlignmentWantsTheSameName() throws IOException {
        record("example.com", "v=DMARC1; p=quarantine; adkim=s; aspf=s");
        assertEquals(Kind.FAIL, check("example.com", "bounces.example.com", "mail.example.com").kind());
        assertEquals(Kind.PASS, check("example.com", null, "example.com").kind());
    }

    @Test
    void aSubdomainWithoutARecordTakesTheParentsSubdomainPolicy() throws IOException {
        record("example.com", "v=DMARC1; p=reject; sp=quarantine");
        DmarcResult r = check("shop.example.com", null);
        assertEquals(Kind.FAIL, r.kind());
        assertEquals(Policy.QUARANTINE, r.policy());
        record("example.net", "v=DMARC1; p=reject");
        assertEquals(Policy.REJECT, check("a.b.example.net", null).policy(), "no sp=: p= applies to subdomains too");
    }

    @Test
    void aSubdomainThatDoesNotExistTakesTheNonExistentPolicy() throws IOException {
        record("example.com", "v=DMARC1; p=none; sp=none; np=reject");
        zone.put("shop.example.com", List.of(new LocalDnsServer.A("192.0.2.1")));
        zone.put("mail.example.com", List.of(new LocalDnsServer.Mx(10, "mx.example.com")));
        assertEquals(Policy.REJECT, check("invented.example.com", null).policy());
        assertEquals(Policy.NONE, check("shop.example.com", null).policy(), "it exists: sp=");
        assertEquals(Policy.NONE, check("mail.example.com", null).policy(), "an MX is existence too");
        assertEquals(Policy.NONE, check("example.com", null).policy(), "the domain's own record: p=");
    }

    @Test
    void testingMakesThePolicyMilder() throws IOException {
        record("example.com", "v=DMARC1; p=reject; t=y");
        record("example.org", "v=DMARC1; p=quarantine; pct=0");
        assertEquals(Policy.QUARANTINE, check("example.com", null).policy());
        assertEquals(Policy.NONE, check("example.org", null).policy());
    }

    @Test
    void noRecordTwoRecordsOrNoDmarcRecordIsNone() throws IOException {
        zone.put("_dmarc.two.example", List.of(new LocalDnsServer.Txt("v=DMARC1; p=reject"), new LocalDnsServer.Txt("v=DMARC1; p=none")));
        zone.put("_dmarc.spf.example", List.of(new LocalDnsServer.Txt("v=spf1 -all")));
        zone.put("_dmarc.late.example", List.of(new LocalDnsServer.Txt("p=reject; v=DMARC1")));
        // an empty entry first does not make the next tag the first: v=DMARC1 still must lead
        zone.put("_dmarc.headless.example", List.of(new LocalDnsServer.Txt("; p=reject")));
        zone.put("_dmarc.spaced.example", List.of(new LocalDnsServer.Txt(" ;v=spf1 -all"), new LocalDnsServer.Txt("v=DMARC1; p=reject")));
        for (String domain : List.of("nothing.example", "two.example", "spf.example", "late.example", "headless.example")) {
            DmarcResult r = check(domain, null);
            assertEquals(Kind.NONE, r.kind(), domain);
            assertEquals(Policy.NONE, r.policy());
        }
        assertEquals(Policy.REJECT, check("spaced.example", null).policy(), "the other TXT record is not a second DMARC record");
    }

    @Test
    void aDnsFailureIsATemporaryError() throws IOException {
        zone.put("_dmarc.example.com", List.of(new LocalDnsServer.ServFail()));
        DmarcResult r = check("example.com", null);
        assertEquals(Kind.TEMPERROR, r.kind());
        assertEquals(Policy.NONE, r.policy());
    }

    @Test
    void aPublicSuffixRecordEndsTheOrganizationOneLabelBelowIt() throws IOException {
        // a registry that publishes psd=y: bank.example and evil.example are different organizations
        record("example", "v=DMARC1; p=reject; psd=y");
        assertEquals(Kind.FAIL, check("bank.example", null, "evil.example").kind());
        assertEquals(Policy.REJECT, check("bank.example", null, "evil.example").policy());
        assertEquals(Kind.PASS, check("bank.example", null, "mail.bank.example").kind());
        // psd=n at the author domain: it is its own organizational domain, its parent another
        record("corp.example.org", "v=DMARC1; p=reject; psd=n");
        record("example.org", "v=DMARC1; p=none");
        assertEquals(Kind.FAIL, check("corp.example.org", "example.org").kind());
        assertEquals(Kind.PASS, check("corp.example.org", "mx.corp.example.org").kind());
    }

    @Test
    void theWalkAsksAtMostEightNames() throws IOException {
        record("example.com", "v=DMARC1; p=reject");
        DmarcResult r = check("a.b.c.d.e.f.g.h.example.com", null);
        assertEquals(Policy.REJECT, r.policy());
        List<String> asked = dns.queries.stream().filter(q -> q.startsWith("_dmarc.")).toList();
        assertEquals(8, asked.size(), asked.toString());
        assertTrue(asked.contains("_dmarc.a.b.c.d.e.f.g.h.example.com/16"), asked.toString());
        assertTrue(asked.contains("_dmarc.d.e.f.g.h.example.com/16"), "past eight labels, straight to the last seven: " + asked);
    }

    /** A From subdomain too long for _dmarc. in front (over 253 octets): that name has no record, the walk goes on. */
    @Test
    void aSubdomainTooLongToAskAboutStillGetsTheDomainsPolicy() throws IOException {
        record("bank.example", "v=DMARC1; p=reject");
        String label = "a".repeat(60);
        String from = String.join(".", label, label, label, "a".repeat(56)) + ".bank.example"; // 259 octets with _dmarc.
        assertTrue(("_dmarc." + from).length() > 253 && from.length() <= 253, from);
        DmarcResult r = check(from, null);
        assertEquals(Kind.FAIL, r.kind(), r.reason());
        assertEquals(Policy.REJECT, r.policy());
        // a From domain DNS cannot hold (256 octets) does not exist either: np= applies (RFC 9989
        // §4.7), and no lookup of it fails
        record("shop.example", "v=DMARC1; p=none; np=reject");
        String tooLong = String.join(".", label, label, label, label) + ".shop.example";
        assertTrue(tooLong.length() > 253, tooLong);
        DmarcResult np = check(tooLong, null);
        assertEquals(Kind.FAIL, np.kind(), np.reason());
        assertEquals(Policy.REJECT, np.policy());
    }
}

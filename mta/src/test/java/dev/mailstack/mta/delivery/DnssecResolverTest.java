package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stub resolver against the loopback test responder: UDP, TCP after truncation, AD and RCODE as sent. */
class DnssecResolverTest {
    static final Map<String, List<LocalDnsServer.Record>> ZONE = Map.of(
            "example.test", List.of(new LocalDnsServer.Mx(10, "mx.example.test.")),
            "unsigned.test", List.of(new LocalDnsServer.Mx(10, "mx.unsigned.test."), new LocalDnsServer.Unsigned()),
            "_25._tcp.mx.example.test", List.of(new LocalDnsServer.Tlsa(3, 1, 1, new byte[32])),
            "_25._tcp.broken.test", List.of(new LocalDnsServer.ServFail()));

    static DnssecResolver resolver(LocalDnsServer dns) throws Exception {
        return DnssecResolver.of(dns.url()).orElseThrow();
    }

    @Test
    void answersComeOverUdpWithTheAdBitTheResolverSet() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(ZONE, true)) {
            DnssecResolver resolver = resolver(dns);
            DnsMessage.Response mx = resolver.query("example.test", DnsMessage.MX);
            assertTrue(mx.authenticated());
            assertEquals(new DnsMessage.Mx(10, "mx.example.test"), DnsMessage.mx(mx.of(DnsMessage.MX).getFirst()));
            assertFalse(resolver.query("unsigned.test", DnsMessage.MX).authenticated());
            DnsMessage.Response tlsa = resolver.query("_25._tcp.mx.example.test", DnsMessage.TLSA);
            assertEquals(new TlsaRecord(3, 1, 1, new byte[32]), TlsaRecord.parse(tlsa.of(DnsMessage.TLSA).getFirst().data()));
            assertEquals(DnsMessage.SERVFAIL, resolver.query("_25._tcp.broken.test", DnsMessage.TLSA).rcode());
            assertEquals(DnsMessage.NXDOMAIN, resolver.query("nowhere.test", DnsMessage.A).rcode());
            assertEquals(0, dns.tcpQueries.get());
        }
    }

    @Test
    void aTruncatedUdpAnswerIsAskedForAgainOverTcp() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(ZONE, true)) {
            dns.truncateUdp = true;
            DnsMessage.Response mx = resolver(dns).query("example.test", DnsMessage.MX);
            assertFalse(mx.truncated());
            assertTrue(mx.authenticated());
            assertEquals(1, mx.of(DnsMessage.MX).size());
            assertEquals(1, dns.tcpQueries.get());
        }
    }

    @Test
    void theResolverIsTheConfiguredOneAndOnlyLoopbackCounts() throws Exception {
        DnssecResolver local = DnssecResolver.of("dns://127.0.0.1:5353").orElseThrow();
        assertEquals("127.0.0.1:5353", local.toString());
        assertTrue(local.onLoopback());
        assertTrue(DnssecResolver.of("dns://[::1]").orElseThrow().onLoopback());
        DnssecResolver remote = DnssecResolver.of("dns://192.0.2.1").orElseThrow();
        assertEquals(53, remote.server().getPort());
        assertFalse(remote.onLoopback());
    }
}

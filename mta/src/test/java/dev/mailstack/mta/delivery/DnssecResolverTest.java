package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
            assertEquals(new DnsMessage.Mx(10, "mx.example.test"),
                    DnsMessage.mx(mx.records("example.test", DnsMessage.MX).getFirst()));
            assertFalse(resolver.query("unsigned.test", DnsMessage.MX).authenticated());
            DnsMessage.Response tlsa = resolver.query("_25._tcp.mx.example.test", DnsMessage.TLSA);
            assertEquals(new TlsaRecord(3, 1, 1, new byte[32]),
                    TlsaRecord.parse(tlsa.records("_25._tcp.mx.example.test", DnsMessage.TLSA).getFirst().data()));
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
            assertEquals(1, mx.records("example.test", DnsMessage.MX).size());
            assertEquals(1, dns.tcpQueries.get());
        }
    }

    @Test
    void anAnswerToAnotherQuestionWithOurIdIsIgnoredAndTheRealOneAwaited() throws Exception {
        // RFC 5452 §9.1: another name, or the same name and another type, both under the right id
        Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>(ZONE);
        zone.put("evil.test", List.of(new LocalDnsServer.Mx(10, "mx.evil.test.")));
        for (LocalDnsServer.Question forged : List.of(new LocalDnsServer.Question("evil.test", DnsMessage.MX),
                new LocalDnsServer.Question("example.test", DnsMessage.A))) {
            try (LocalDnsServer dns = new LocalDnsServer(zone, true)) {
                dns.forgedFirst = forged;
                DnsMessage.Response mx = resolver(dns).query("example.test", DnsMessage.MX);
                assertTrue(mx.isAnswerTo(mx.id(), "example.test", DnsMessage.MX), forged.toString());
                assertEquals(List.of(new DnsMessage.Mx(10, "mx.example.test")),
                        List.of(DnsMessage.mx(mx.records("example.test", DnsMessage.MX).getFirst())), forged.toString());
            }
        }
    }

    @Test
    void anAnswerLargerThanTheAdvertisedSizeIsAskedForAgainOverTcp() throws Exception {
        // 40 SHA-512 records come to about 3 KiB, well over the 1232 octets we advertise, sent without TC
        List<LocalDnsServer.Record> many = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] digest = new byte[64];
            digest[0] = (byte) i;
            many.add(new LocalDnsServer.Tlsa(3, 1, 2, digest));
        }
        try (LocalDnsServer dns = new LocalDnsServer(Map.of("_25._tcp.big.test", many), true)) {
            DnsMessage.Response tlsa = resolver(dns).query("_25._tcp.big.test", DnsMessage.TLSA);
            assertEquals(40, tlsa.records("_25._tcp.big.test", DnsMessage.TLSA).size());
            assertFalse(tlsa.truncated());
            assertEquals(1, dns.tcpQueries.get(), "what fitted in the buffer was not taken for the answer");
        }
    }

    @Test
    void aTcpAnswerThatIsStillTruncatedIsAFailedLookup() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(ZONE, true)) {
            dns.truncateUdp = true;
            dns.truncateTcp = true;
            IOException e = assertThrows(IOException.class, () -> resolver(dns).query("example.test", DnsMessage.MX));
            assertTrue(e.getMessage().contains("truncated over TCP"), e.getMessage());
        }
    }

    @Test
    void aLookupEndsAtItsDeadlineAndOnePastItAsksNothing() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of("slow.test", List.of(new LocalDnsServer.Silent())), true)) {
            int port = Integer.parseInt(dns.url().substring(dns.url().lastIndexOf(':') + 1));
            DnssecResolver resolver = new DnssecResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    Duration.ofSeconds(2));
            long start = System.nanoTime();
            assertThrows(SocketTimeoutException.class,
                    () -> resolver.query("slow.test", DnsMessage.A, DnssecResolver.Deadline.after(Duration.ofMillis(300))));
            long tookMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertTrue(tookMillis < 1500, "two tries of 2 s would take 4 s; took " + tookMillis + " ms");
            int asked = dns.queries.size();
            assertThrows(SocketTimeoutException.class,
                    () -> resolver.query("slow.test", DnsMessage.A, DnssecResolver.Deadline.after(Duration.ZERO)));
            assertEquals(asked, dns.queries.size(), "nothing sent once the deadline has passed");
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

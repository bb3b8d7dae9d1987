package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RFC 7672 §2.2's decisions per MX host that the delivery tests do not reach: a lookup that times
 * out, unsigned addresses, records of other owners.
 */
class DaneLookupTest {
    static final Route MX = new Route("mx.dane.test", 25);
    static final byte[] DIGEST = new byte[32];

    static DaneLookup lookup(LocalDnsServer dns) {
        int port = Integer.parseInt(dns.url().substring(dns.url().lastIndexOf(':') + 1));
        return new DaneLookup(new DnssecResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                Duration.ofMillis(100)));
    }

    /** The one route {@code zone} gives dane.test's single MX host, mx.dane.test. */
    static Route only(Map<String, List<LocalDnsServer.Record>> zone) throws Exception {
        Map<String, List<LocalDnsServer.Record>> all = new HashMap<>(zone);
        all.put("dane.test", List.of(new LocalDnsServer.Mx(10, "mx.dane.test.")));
        all.put("mx.dane.test", List.of(new LocalDnsServer.A("127.0.0.1")));
        try (LocalDnsServer dns = new LocalDnsServer(all, true)) {
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class, lookup(dns).apply("dane.test", List.of(MX)));
            assertEquals(List.of(), secure.failed(), "the host was not left out");
            return secure.routes().getFirst();
        }
    }

    @Test
    void aTlsaLookupThatTimesOutLeavesTheHostOut() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "dane.test", List.of(new LocalDnsServer.Mx(10, "mx.dane.test.")),
                "mx.dane.test", List.of(new LocalDnsServer.A("127.0.0.1")),
                "_25._tcp.mx.dane.test", List.of(new LocalDnsServer.Silent())), true)) {
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class, lookup(dns).apply("dane.test", List.of(MX)));
            assertEquals(List.of(), secure.routes());
            assertEquals(List.of("mx.dane.test"), secure.failed());
        }
    }

    @Test
    void aHostWithUnsignedAddressesKeepsItsRouteAndIsNotAskedForTlsa() throws Exception {
        // RFC 7672 §2.2.2: a signed MX RRset pointing into an unsigned zone
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "dane.test", List.of(new LocalDnsServer.Mx(10, "mx.dane.test.")),
                "mx.dane.test", List.of(new LocalDnsServer.A("127.0.0.1"), new LocalDnsServer.Unsigned()),
                "_25._tcp.mx.dane.test", List.of(new LocalDnsServer.ServFail())), true)) {
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class, lookup(dns).apply("dane.test", List.of(MX)));
            assertEquals(List.of(MX), secure.routes());
            assertFalse(secure.authenticatesEvery());
            assertFalse(dns.queries.contains("_25._tcp.mx.dane.test/52"), dns.queries.toString());
        }
    }

    @Test
    void anMxLookupThatFailsIsATemporaryFailureNotAnUnsignedZone() throws Exception {
        // RFC 7672 §2.1.1: SERVFAIL (a bogus answer) or silence must not turn DANE off
        for (LocalDnsServer.Record broken : List.of(new LocalDnsServer.ServFail(), new LocalDnsServer.Silent())) {
            try (LocalDnsServer dns = new LocalDnsServer(Map.of("dane.test", List.of(broken)), true)) {
                assertInstanceOf(DaneLookup.Failed.class, lookup(dns).apply("dane.test", List.of(MX)), broken.toString());
            }
        }
    }

    @Test
    void aRouteTheValidatedMxRecordsDoNotNameIsLeftOut() throws Exception {
        // the routes come from the JDK's lookup, which may have asked another server and got a forgery
        Route forged = new Route("mx.attacker.test", 25);
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "dane.test", List.of(new LocalDnsServer.Mx(10, "mx.dane.test.")),
                "mx.dane.test", List.of(new LocalDnsServer.A("127.0.0.1")),
                "mx.attacker.test", List.of(new LocalDnsServer.A("127.0.0.1"))), true)) {
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class,
                    lookup(dns).apply("dane.test", List.of(forged, MX)));
            assertEquals(List.of(MX), secure.routes());
            assertEquals(List.of("mx.attacker.test"), secure.failed());
        }
    }

    @Test
    void aTlsaNameTooLongToAskLeavesTheHostOutInsteadOfFailingTheDelivery() throws Exception {
        String host = "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(55) + ".test";
        Route longRoute = new Route(host, 25);
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "dane.test", List.of(new LocalDnsServer.Mx(10, host + ".")),
                host, List.of(new LocalDnsServer.A("127.0.0.1"))), true)) {
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class,
                    lookup(dns).apply("dane.test", List.of(longRoute)));
            assertEquals(List.of(host), secure.failed());
        }
    }

    @Test
    void anMxRecordOfAnotherOwnerInTheAnswerNamesNoHost() throws Exception {
        // RFC 5452 §9.1: records under another name ride on the answer's AD bit only if we let them
        Route slipped = new Route("mx.attacker.test", 25);
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "dane.test", List.of(new LocalDnsServer.Mx(10, "mx.dane.test."),
                        new LocalDnsServer.Owned("attacker.test", new LocalDnsServer.Mx(5, "mx.attacker.test."))),
                "mx.dane.test", List.of(new LocalDnsServer.A("127.0.0.1")),
                "mx.attacker.test", List.of(new LocalDnsServer.A("127.0.0.1"))), true)) {
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class,
                    lookup(dns).apply("dane.test", List.of(slipped, MX)));
            assertEquals(List.of(MX), secure.routes());
            assertEquals(List.of("mx.attacker.test"), secure.failed());
        }
    }

    @Test
    void aTlsaRecordOfAnotherOwnerInTheAnswerCountsForNothing() throws Exception {
        Route route = only(Map.of("_25._tcp.mx.dane.test", List.of(
                new LocalDnsServer.Owned("_25._tcp.mx.other.test", new LocalDnsServer.Tlsa(3, 1, 1, DIGEST)))));
        assertEquals(MX, route, "no TLSA record of its own: the route as it was");
    }

    @Test
    void tlsaRecordsBehindACnameAreTheHostsAsBefore() throws Exception {
        // the resolver follows the CNAME (RFC 1034 §4.3.2) and answers with the target's records
        Route route = only(Map.of(
                "_25._tcp.mx.dane.test", List.of(new LocalDnsServer.Cname("tlsa.shared.test.")),
                "tlsa.shared.test", List.of(new LocalDnsServer.Tlsa(3, 1, 1, DIGEST))));
        assertEquals(TlsPolicy.DANE, route.tls());
        assertEquals(List.of(new TlsaRecord(3, 1, 1, DIGEST)), route.tlsa().orElseThrow().records());
    }
}

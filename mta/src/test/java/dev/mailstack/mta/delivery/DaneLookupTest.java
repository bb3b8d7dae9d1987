package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RFC 7672 §2.2's decisions per MX host that the delivery tests do not reach: a lookup that times
 * out or runs past the deadline, unsigned addresses, the hosts a delivery would not try, records
 * of other owners, malformed records and digest agility.
 */
class DaneLookupTest {
    static final Route MX = new Route("mx.dane.test", 25);

    static final byte[] DIGEST = new byte[32];

    static DaneLookup lookup(LocalDnsServer dns) {
        return lookup(dns, Duration.ofMillis(100), DaneLookup.DEADLINE);
    }

    /** With {@code wait} per try and {@code deadline} for the whole lookup. */
    static DaneLookup lookup(LocalDnsServer dns, Duration wait, Duration deadline) {
        int port = Integer.parseInt(dns.url().substring(dns.url().lastIndexOf(':') + 1));
        return new DaneLookup(new DnssecResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), wait),
                deadline);
    }

    /** dane.test's MX hosts mx1.dane.test … mxN.dane.test in order, each at 127.0.0.1 with a usable 3 1 1 record. */
    static Map<String, List<LocalDnsServer.Record>> hosts(int n) {
        Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
        List<LocalDnsServer.Record> mx = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            mx.add(new LocalDnsServer.Mx(10 * i, "mx" + i + ".dane.test."));
            zone.put("mx" + i + ".dane.test", List.of(new LocalDnsServer.A("127.0.0.1")));
            zone.put("_25._tcp.mx" + i + ".dane.test", List.of(new LocalDnsServer.Tlsa(3, 1, 1, DIGEST)));
        }
        zone.put("dane.test", mx);
        return zone;
    }

    static List<Route> routes(int n) {
        List<Route> routes = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            routes.add(new Route("mx" + i + ".dane.test", 25));
        }
        return routes;
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
    void onlyTheMxHostsADeliveryTriesAreLookedUp() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(hosts(8), true)) {
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class, lookup(dns).apply("dane.test", routes(8)));
            assertEquals(routes(RemoteDelivery.MAX_ADDRESSES).stream().map(Route::host).toList(),
                    secure.routes().stream().map(Route::host).toList());
            assertEquals(List.of(), secure.failed());
            assertEquals(RemoteDelivery.MAX_ADDRESSES, dns.queries.stream().filter(q -> q.endsWith("/52")).count(),
                    dns.queries.toString());
        }
    }

    @Test
    void hostsWhoseLookupsTheDeadlineCutsShortAreLeftOutAndTheRestAreNotAsked() throws Exception {
        Map<String, List<LocalDnsServer.Record>> zone = hosts(5);
        for (int i = 2; i <= 5; i++) {
            zone.put("mx" + i + ".dane.test", List.of(new LocalDnsServer.Silent()));
        }
        try (LocalDnsServer dns = new LocalDnsServer(zone, true)) {
            // each silent host would hold the lookup two tries of 300 ms: 2.4 s for the four
            long start = System.nanoTime();
            DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class,
                    lookup(dns, Duration.ofMillis(300), Duration.ofMillis(500)).apply("dane.test", routes(5)));
            long tookMillis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(List.of("mx1.dane.test"), secure.routes().stream().map(Route::host).toList());
            assertEquals(TlsPolicy.DANE, secure.routes().getFirst().tls());
            assertEquals(List.of("mx2.dane.test", "mx3.dane.test", "mx4.dane.test", "mx5.dane.test"), secure.failed());
            assertTrue(tookMillis < 1500, "took " + tookMillis + " ms");
            assertFalse(dns.queries.stream().anyMatch(q -> q.startsWith("mx5.")), dns.queries.toString());
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

    /**
     * RFC 7672 §2.2.2: an MX host that is an alias (a provider's host) has its TLSA records at the
     * expanded name looked for first, then at its own name; both names identify it (§3.2.2).
     */
    @Test
    void anMxHostThatIsAnAliasIsLookedUpAtItsExpandedNameFirst() throws Exception {
        for (boolean atTarget : new boolean[]{true, false}) {
            Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
            zone.put("dane.test", List.of(new LocalDnsServer.Mx(10, "mx.dane.test.")));
            zone.put("mx.dane.test", List.of(new LocalDnsServer.Cname("mx.provider.test.")));
            zone.put("mx.provider.test", List.of(new LocalDnsServer.A("127.0.0.1")));
            zone.put(atTarget ? "_25._tcp.mx.provider.test" : "_25._tcp.mx.dane.test",
                    List.of(new LocalDnsServer.Tlsa(3, 1, 1, DIGEST)));
            try (LocalDnsServer dns = new LocalDnsServer(zone, true)) {
                DaneLookup.Secure secure = assertInstanceOf(DaneLookup.Secure.class, lookup(dns).apply("dane.test", List.of(MX)));
                Route route = secure.routes().getFirst();
                assertEquals(TlsPolicy.DANE, route.tls(), "records at " + (atTarget ? "the expanded name" : "the MX host's own"));
                assertEquals(List.of(new TlsaRecord(3, 1, 1, DIGEST)), route.tlsa().orElseThrow().records());
                assertEquals(atTarget ? List.of("mx.provider.test", "mx.dane.test", "dane.test") : List.of("mx.dane.test", "dane.test"),
                        route.tlsa().get().names(), "the TLSA base domain, and the MX host's own name when it was expanded");
                List<String> tlsaAsked = dns.queries.stream().filter(q -> q.endsWith("/52")).toList();
                assertEquals(atTarget ? List.of("_25._tcp.mx.provider.test/52")
                        : List.of("_25._tcp.mx.provider.test/52", "_25._tcp.mx.dane.test/52"), tlsaAsked);
            }
        }
    }

    @Test
    void malformedTlsaRecordsAreUnusableAndDoNotLeaveTheHostOut() throws Exception {
        // RFC 7672 §2.2: too short to hold the three fields, or no data at all: unusable, not a failed lookup
        for (byte[] rdata : List.of(new byte[]{3, 1}, new byte[]{3, 1, 1}, new byte[]{3, 1, 0})) {
            Route alone = only(Map.of("_25._tcp.mx.dane.test", List.of(new LocalDnsServer.Rdata(DnsMessage.TLSA, rdata))));
            assertEquals(TlsPolicy.ENCRYPT, alone.tls(), "all unusable: TLS without authentication");
            Route beside = only(Map.of("_25._tcp.mx.dane.test", List.of(new LocalDnsServer.Rdata(DnsMessage.TLSA, rdata),
                    new LocalDnsServer.Tlsa(3, 1, 1, DIGEST))));
            assertEquals(List.of(new TlsaRecord(3, 1, 1, DIGEST)), beside.tlsa().orElseThrow().records());
        }
        // wrong lengths for SHA-256 and SHA-512, an unknown usage
        Route unusable = only(Map.of("_25._tcp.mx.dane.test", List.of(new LocalDnsServer.Tlsa(3, 1, 1, new byte[31]),
                new LocalDnsServer.Tlsa(3, 1, 2, new byte[32]), new LocalDnsServer.Tlsa(4, 1, 1, DIGEST))));
        assertEquals(TlsPolicy.ENCRYPT, unusable.tls());
    }

    @Test
    void ofTwoDigestsForTheSameUsageAndSelectorOnlyTheStrongerIsUsed() throws Exception {
        // RFC 7671 §9: a key matching only the 3 1 1 beside a 3 1 2 must not be accepted
        byte[] sha512 = new byte[64];
        Route route = only(Map.of("_25._tcp.mx.dane.test", List.of(new LocalDnsServer.Tlsa(3, 1, 1, DIGEST),
                new LocalDnsServer.Tlsa(3, 1, 2, sha512))));
        assertEquals(List.of(new TlsaRecord(3, 1, 2, sha512)), route.tlsa().orElseThrow().records());
    }
}

package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RFC 7672 §2.2's decisions per MX host that the delivery tests do not reach: a lookup that times out, unsigned addresses. */
class DaneLookupTest {
    static final Route MX = new Route("mx.dane.test", 25);

    static DaneLookup lookup(LocalDnsServer dns) {
        int port = Integer.parseInt(dns.url().substring(dns.url().lastIndexOf(':') + 1));
        return new DaneLookup(new DnssecResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                Duration.ofMillis(100)));
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
            assertFalse(secure.authenticates());
            assertFalse(dns.queries.contains("_25._tcp.mx.dane.test/52"), dns.queries.toString());
        }
    }
}

package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mailstack.mta.delivery.LocalDnsServer;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RFC 5782 lookups against a DNS responder on loopback, as a real resolver would answer them. */
class DnsBlocklistsTest {
    private static final InetAddress LISTED = address("192.0.2.99");

    @Test
    void namesAreReversedOctetsAndNibbles() throws Exception {
        assertEquals("99.2.0.192.", DnsBlocklists.reversed(LISTED));
        // RFC 5782 §2.4's example
        assertEquals("b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.",
                DnsBlocklists.reversed(InetAddress.getByName("2001:db8:1:2:3:4:567:89ab")));
    }

    @Test
    void aListedClientIsNamedWithTheZoneAndItsReason() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "99.2.0.192.second.test", List.of(new LocalDnsServer.A("127.0.0.4"),
                        new LocalDnsServer.Txt("Listed: see https://bl.example/\u0001query")),
                "98.2.0.192.first.test", List.of(new LocalDnsServer.A("127.255.255.254")),
                "97.2.0.192.first.test", List.of(new LocalDnsServer.A("192.0.2.1"))))) {
            DnsBlocklists lists = new DnsBlocklists(List.of("first.test", "second.test"), dns.url());
            assertEquals(Optional.of(new DnsBlocklists.Listing("second.test", "Listed: see https://bl.example/?query")),
                    lists.listing(LISTED), "not in the first zone (NXDOMAIN), in the second");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.1")), "in neither");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.98")), "Spamhaus's 'query refused' answer lists nothing");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.97")), "an answer outside 127/8 lists nothing");
        }
    }

    /** A list nobody answers for lets mail through, within its timeouts (1 s, then 2 s, per try). */
    @Test
    void aListThatCannotBeAskedListsNobody() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            DnsBlocklists lists = new DnsBlocklists(List.of("bl.test"), "dns://127.0.0.1:" + silent.getLocalPort());
            long start = System.nanoTime();
            assertEquals(Optional.empty(), lists.listing(LISTED));
            assertEquals(true, System.nanoTime() - start < 15_000_000_000L, "bounded");
        }
    }

    @Test
    void zonesAreHostNames() {
        assertEquals(List.of("zen.spamhaus.org", "bl.example"), DnsBlocklists.parseZones(" zen.spamhaus.org, BL.example "));
        assertEquals(List.of(), DnsBlocklists.parseZones(""));
        assertThrows(IllegalArgumentException.class, () -> DnsBlocklists.parseZones("bad_zone.org"));
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}

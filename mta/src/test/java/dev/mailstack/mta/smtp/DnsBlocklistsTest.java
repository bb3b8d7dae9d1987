package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
                "97.2.0.192.first.test", List.of(new LocalDnsServer.A("192.0.2.1")),
                "96.2.0.192.first.test", List.of(new LocalDnsServer.A("127.0.0.1"))))) {
            DnsBlocklists lists = new DnsBlocklists(List.of("first.test", "second.test"), dns.url());
            assertEquals(Optional.of(new DnsBlocklists.Listing("second.test", "Listed: see https://bl.example/?query")),
                    lists.listing(LISTED), "not in the first zone (NXDOMAIN), in the second");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.1")), "in neither");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.98")), "Spamhaus's 'query refused' answer lists nothing");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.97")), "an answer outside 127/8 lists nothing");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.96")), "nor 127.0.0.1 (RFC 5782 §5)");
        }
    }

    /** The A record decides, as Postfix's reject_rbl_client: a reason text that does not come lets no listed client in. */
    @Test
    void aListedClientWhoseReasonDoesNotComeIsStillRefused() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of("99.2.0.192.slow.test", List.of(new LocalDnsServer.A("127.0.0.2"),
                new LocalDnsServer.SilentFor(16))))) {
            DnsBlocklists lists = new DnsBlocklists(List.of("slow.test"), dns.url());
            assertEquals(Optional.of(new DnsBlocklists.Listing("slow.test", "")), org.junit.jupiter.api.Assertions
                    .assertTimeoutPreemptively(DnsBlocklists.BUDGET.plusSeconds(3), () -> lists.listing(LISTED)));
            assertEquals(Optional.of(new DnsBlocklists.Listing("slow.test", "")), lists.listing(LISTED),
                    "the zone was not left out as one that does not answer");
        }
    }

    /**
     * A list nobody answers for lets mail through once the check's budget is spent, and is left
     * out for a while after, so the next connection does not wait on it again.
     */
    @Test
    void aListThatCannotBeAskedListsNobodyAndRests() throws Exception {
        try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
            Thread reader = Thread.ofVirtual().start(() -> {
                byte[] buffer = new byte[512];
                while (!silent.isClosed()) {
                    try {
                        silent.receive(new java.net.DatagramPacket(buffer, buffer.length));
                        received.incrementAndGet();
                    } catch (java.io.IOException e) {
                        return; // closed
                    }
                }
            });
            DnsBlocklists lists = new DnsBlocklists(List.of("bl.test"), "dns://127.0.0.1:" + silent.getLocalPort());
            assertEquals(Optional.empty(), org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                    DnsBlocklists.BUDGET.plusSeconds(3), () -> lists.listing(LISTED)), "let through within the budget");
            int asked = received.get();
            assertEquals(true, asked >= 1, "the list was asked");
            assertEquals(Optional.empty(), lists.listing(address("192.0.2.5")));
            assertEquals(asked, received.get(), "resting: not asked again");
            silent.close();
            reader.join();
        }
    }

    @Test
    void zonesAreHostNamesWithOptionalAnswerFilters() {
        assertEquals(List.of("zen.spamhaus.org", "bl.example"), DnsBlocklists.parseZones(" zen.spamhaus.org, BL.example "));
        assertEquals(List.of("zen.spamhaus.org=127.0.0.[2..11]"), DnsBlocklists.parseZones("zen.spamhaus.org=127.0.0.[2..11]"));
        assertEquals(List.of(), DnsBlocklists.parseZones(""));
        for (String bad : List.of("bad_zone.org", "bl.example=127.0.0", "bl.example=127.0.0.256", "bl.example=127.0.0.[5..2]",
                "bl.example=127.0.0.2..4", "bl.example=127.0.0.[2;x]", "bl.example=127.0.0.2;3")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DnsBlocklists.parseZones(bad), bad);
            assertTrue(e.getMessage().startsWith("not a DNS zone") || e.getMessage().startsWith("answer filter"), e.getMessage());
        }
    }

    /** Postfix's zone=d.d.d.d: only the answers the filter matches list a client, 127.0.0.1 included if it says so. */
    @Test
    void anAnswerFilterDecidesWhichAnswersList() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "99.2.0.192.zen.test", List.of(new LocalDnsServer.A("127.0.0.4")),
                "98.2.0.192.zen.test", List.of(new LocalDnsServer.A("127.0.0.11")),
                "97.2.0.192.zen.test", List.of(new LocalDnsServer.A("127.0.0.3"), new LocalDnsServer.A("127.0.0.9"))))) {
            DnsBlocklists exploits = new DnsBlocklists(List.of("zen.test=127.0.0.[4..7;9]"), dns.url());
            assertEquals("zen.test", exploits.listing(LISTED).orElseThrow().zone());
            assertEquals(Optional.empty(), exploits.listing(address("192.0.2.98")), "11 is outside the filter");
            assertTrue(exploits.listing(address("192.0.2.97")).isPresent(), "one answer of two in the filter is enough");
            DnsBlocklists policy = new DnsBlocklists(List.of("zen.test=127.0.0.11"), dns.url());
            assertTrue(policy.listing(address("192.0.2.98")).isPresent());
            assertEquals(Optional.empty(), policy.listing(LISTED));
        }
    }

    private static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.net.InetAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GreylistTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final Greylist.Policy POLICY = Greylist.Policy.POSTGREY;

    @TempDir
    Path dir;
    MailboxStore store;

    @BeforeEach
    void open() {
        store = MailboxStore.open(dir, null);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static Greylist.Triplet triplet(String client, String sender) throws Exception {
        return Greylist.Triplet.of(InetAddress.getByName(client), sender, "Alice@Example.org");
    }

    private Greylist.Verdict check(Greylist.Triplet t, Instant at) {
        return store.greylist().check(t, POLICY, at);
    }

    private int rows(String table) throws Exception {
        try (Connection c = store.db().connect(); PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + table);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aTripletIsDeferredThenPassesAfterTheDelayUntilItsMaximumAge() throws Exception {
        Greylist.Triplet t = triplet("192.0.2.10", "bob@remote.test");
        assertEquals(new Greylist.Defer(Duration.ofSeconds(300), false), check(t, T0), "first sight");
        assertEquals(new Greylist.Defer(Duration.ofSeconds(180), true), check(t, T0.plusSeconds(120)), "too early");
        assertEquals(new Greylist.Pass(Duration.ofSeconds(400), false), check(t, T0.plusSeconds(400)),
                "a retry after the delay passes, and says how long it was held back");
        assertEquals(new Greylist.Pass(Duration.ZERO, false), check(t, T0.plusSeconds(500)), "known from now on");
        Instant lastPass = T0.plus(Duration.ofDays(10));
        assertEquals(new Greylist.Pass(Duration.ZERO, false), check(t, lastPass), "a pass renews its age");
        assertEquals(new Greylist.Pass(Duration.ZERO, false), check(t, lastPass.plus(Duration.ofDays(34))));
        Instant forgotten = lastPass.plus(Duration.ofDays(34)).plus(Duration.ofDays(35));
        assertEquals(new Greylist.Defer(Duration.ofSeconds(300), false), check(t, forgotten),
                "35 days without a pass: new again");
    }

    @Test
    void aRetryAfterTheRetryWindowStartsOver() throws Exception {
        Greylist.Triplet t = triplet("192.0.2.10", "bob@remote.test");
        check(t, T0);
        Instant late = T0.plus(Duration.ofDays(2)).plusSeconds(1);
        assertEquals(new Greylist.Defer(Duration.ofSeconds(300), false), check(t, late), "the first attempt is too long ago");
        assertEquals(new Greylist.Defer(Duration.ofSeconds(100), true), check(t, late.plusSeconds(200)));
        assertInstanceOf(Greylist.Pass.class, check(t, late.plusSeconds(300)));
    }

    @Test
    void aPassRenewsTheRowAtMostHourly() throws Exception {
        Greylist.Triplet t = triplet("192.0.2.10", "bob@remote.test");
        check(t, T0);
        check(t, T0.plusSeconds(300));
        check(t, T0.plusSeconds(600)); // within the hour: nothing written, so the age counts from 300 s
        Instant expiry = T0.plusSeconds(300).plus(Duration.ofDays(35));
        assertEquals(new Greylist.Defer(Duration.ofSeconds(300), false), check(t, expiry));
    }

    @Test
    void aNetworkIsWhitelistedAfterFivePassesCountedHourly() throws Exception {
        Instant at = T0;
        for (int i = 0; i < 5; i++) {
            char n = (char) ('a' + i); // not a digit: digits are one '#' in a sender
            List<Greylist.Triplet> two = List.of(triplet("192.0.2." + (10 + i), "a" + n + "@remote.test"),
                    triplet("192.0.2." + (20 + i), "b" + n + "@remote.test"));
            for (Greylist.Triplet t : two) {
                assertInstanceOf(Greylist.Defer.class, check(t, at));
            }
            for (Greylist.Triplet t : two) { // two triplets passing in the same hour count once
                assertInstanceOf(Greylist.Pass.class, check(t, at.plusSeconds(300)));
            }
            if (i < 4) {
                assertInstanceOf(Greylist.Defer.class, check(triplet("192.0.2.99", "new" + n + "@remote.test"),
                        at.plusSeconds(400)), "not yet whitelisted after " + (i + 1) + " passes");
            }
            at = at.plus(Duration.ofHours(2));
        }
        assertEquals(new Greylist.Pass(Duration.ZERO, true), check(triplet("192.0.2.200", "someone@else.test"), at),
                "the /24 passed in five different hours");
        assertInstanceOf(Greylist.Defer.class, check(triplet("192.0.3.200", "someone@else.test"), at), "another /24");
        assertEquals(1, rows("greylist_clients"));
        Instant lapsed = at.plus(Duration.ofDays(36));
        assertInstanceOf(Greylist.Defer.class, check(triplet("192.0.2.200", "someone@else.test"), lapsed),
                "35 days without mail: greylisted again");
    }

    @Test
    void pruningDeletesLapsedTripletsAndNetworks() throws Exception {
        Greylist.Triplet waiting = triplet("192.0.2.10", "bob@remote.test");
        Greylist.Triplet passed = triplet("198.51.100.7", "carol@remote.test");
        check(waiting, T0);
        check(passed, T0);
        check(passed, T0.plusSeconds(300));
        assertEquals(2, rows("greylist_triplets"));
        assertEquals(1, rows("greylist_clients"));
        assertEquals(0, store.pruneExpiredTracking(T0.plus(Duration.ofDays(1))));
        assertEquals(1, store.pruneExpiredTracking(T0.plus(Duration.ofDays(3))), "the retry window of one is over");
        assertEquals(2, store.pruneExpiredTracking(T0.plus(Duration.ofDays(36))), "the passed triplet and its network");
        assertEquals(0, rows("greylist_triplets") + rows("greylist_clients"));
    }

    @Test
    void twoSessionsSeeingANewTripletAtOnceMakeOneRow() throws Exception {
        Greylist.Triplet t = triplet("192.0.2.10", "bob@remote.test");
        int sessions = 4;
        CyclicBarrier start = new CyclicBarrier(sessions);
        List<Future<Greylist.Verdict>> verdicts = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(sessions)) {
            for (int i = 0; i < sessions; i++) {
                verdicts.add(pool.submit(() -> {
                    start.await();
                    return check(t, T0);
                }));
            }
            for (Future<Greylist.Verdict> v : verdicts) {
                // the first to insert sees it new, the others maybe an early retry: each waits the whole delay
                Greylist.Defer d = assertInstanceOf(Greylist.Defer.class, v.get(), "no unique-key failure");
                assertEquals(Duration.ofSeconds(300), d.retryIn());
            }
        }
        assertEquals(1, rows("greylist_triplets"));
    }

    @Test
    void sendersLoseTheirPerMessageParts() {
        assertEquals("bob@remote.test", Greylist.Triplet.sender("Bob@Remote.TEST"));
        assertEquals("", Greylist.Triplet.sender(""), "the null sender");
        assertEquals("bob@remote.test", Greylist.Triplet.sender("prvs=1234abcdef=bob@remote.test"), "BATV");
        assertEquals("bob@remote.test", Greylist.Triplet.sender("prvs=bob=1234abcdef@remote.test"), "BATV, the other order");
        assertEquals("bounce-#-#@list.test", Greylist.Triplet.sender("bounce-1234-56@list.test"), "VERP numbers");
        assertEquals("news#@list.test", Greylist.Triplet.sender("news2026@list.test"), "any run of digits");
        assertEquals("owner-list@list.test", Greylist.Triplet.sender("owner-list+bob=remote.test@list.test"), "extension");
        assertEquals("srs0=origin.test=bob@forwarder.test",
                Greylist.Triplet.sender("SRS0=HHH1=TT=origin.test=bob@forwarder.test"), "SRS0 hash and time");
        assertEquals(Greylist.Triplet.sender("SRS0=abcd=x2=origin.test=bob@forwarder.test"),
                Greylist.Triplet.sender("SRS0=wxyz=y7=origin.test=bob@forwarder.test"));
    }

    @Test
    void clientsAreTheirIpv4Slash24OrIpv6Slash64() throws Exception {
        assertEquals("192.0.2.0/24", Greylist.Triplet.network(InetAddress.getByName("192.0.2.201")));
        assertEquals("2001:db8:1:2:0:0:0:0/64", Greylist.Triplet.network(InetAddress.getByName("2001:db8:1:2:a:b:c:d")));
        assertEquals(triplet("192.0.2.1", "bob@remote.test").hash(), triplet("192.0.2.254", "BOB@remote.test").hash(),
                "one provider's neighbouring servers, one sender");
        assertNotEquals(triplet("192.0.2.1", "bob@remote.test").hash(), triplet("192.0.3.1", "bob@remote.test").hash());
        assertEquals(64, triplet("2001:db8::1", "bob@remote.test").hash().length());
    }
}

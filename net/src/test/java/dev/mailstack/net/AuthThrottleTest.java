package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AuthThrottleTest {
    MovableClock clock = new MovableClock();
    AuthThrottle t = new AuthThrottle(Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofMinutes(15), clock);

    private static InetAddress ip(String text) throws Exception {
        return InetAddress.getByName(text);
    }

    @Test
    void delaysGrowPerAddressAndAreForgottenAfterAQuietPeriod() throws Exception {
        InetAddress a = ip("192.0.2.1");
        InetAddress b = ip("192.0.2.2");
        assertEquals(Duration.ofSeconds(1), t.failed(a, "x"));
        assertEquals(Duration.ofSeconds(2), t.failed(a, "x"));
        assertEquals(Duration.ofSeconds(4), t.failed(a, "x"));
        assertEquals(Duration.ofSeconds(8), t.failed(a, "x"));
        assertEquals(Duration.ofSeconds(8), t.failed(a, "x"), "capped");
        assertEquals(Duration.ofSeconds(1), t.failed(b, "x"), "other addresses are not punished");
        clock.advance(Duration.ofMinutes(16));
        assertEquals(Duration.ZERO, t.admit(b));
        assertEquals(Duration.ofSeconds(1), t.failed(b, "x"), "forgotten after a quiet period");
    }

    @Test
    void attemptsFromAnAddressWithARecentFailureWaitUntilItsDelayIsOver() throws Exception {
        InetAddress a = ip("192.0.2.1");
        assertEquals(Duration.ZERO, t.admit(a), "no failures: no wait");
        t.failed(a, "victim");
        t.failed(a, "victim"); // 2 s now
        // whichever connection it comes on, a check waits until 2 s after the last failure; not
        // queued a delay apart (behind NAT, one stale password would hold back everyone's login)
        assertEquals(Duration.ofSeconds(2), t.admit(a));
        assertEquals(Duration.ofSeconds(2), t.admit(a));
        assertEquals(Duration.ZERO, t.admit(ip("192.0.2.9")), "another address does not wait");
        clock.advance(Duration.ofSeconds(1));
        assertEquals(Duration.ofSeconds(1), t.admit(a));
        clock.advance(Duration.ofSeconds(1));
        assertEquals(Duration.ZERO, t.admit(a), "the delay is over");
    }

    /** A stale saved password retried is not a guess: Dovecot's auth penalty does not grow on it either. */
    @Test
    void theSameNameAndPasswordFailingAgainDoesNotGrowThePenalty() throws Exception {
        InetAddress office = ip("192.0.2.1");
        assertEquals(Duration.ofSeconds(1), t.failed(office, "phone@example.org", "old password"));
        assertEquals(Duration.ofSeconds(1), t.failed(office, "phone@example.org", "old password"), "a repeat");
        assertEquals(Duration.ofSeconds(1), t.failed(office, "Phone@Example.org", "old password"), "names compare without case");
        assertEquals(Duration.ofSeconds(2), t.failed(office, "phone@example.org", "another guess"));
        assertEquals(Duration.ofSeconds(4), t.failed(office, "phone@example.org", "old password"), "not right after itself");
        assertEquals(Duration.ofSeconds(8), t.failed(office, "other@example.org", "another guess"), "another name");
        InetAddress other = ip("192.0.2.2");
        assertEquals(Duration.ofSeconds(1), t.failed(other, "x", null));
        assertEquals(Duration.ofSeconds(2), t.failed(other, "x", null), "no password known is never a repeat");
    }

    @Test
    void aConnectionThatFailsAloneWaitsOnlyItsAnswerDelay() throws Exception {
        InetAddress a = ip("192.0.2.1");
        assertEquals(Duration.ofSeconds(1), t.failed(a, "u"));
        clock.advance(Duration.ofSeconds(1)); // the answer's delay, then the client tries again
        assertEquals(Duration.ZERO, t.admit(a));
        assertEquals(Duration.ofSeconds(2), t.failed(a, "u"));
        clock.advance(Duration.ofSeconds(2));
        assertEquals(Duration.ZERO, t.admit(a));
    }

    @Test
    void aSuccessForgivesOnlyTheFailuresOfTheNameThatLoggedIn() throws Exception {
        InetAddress a = ip("192.0.2.1");
        t.failed(a, "victim@example.org");
        t.failed(a, "victim@example.org");
        t.failed(a, "mine@example.org");
        t.succeeded(a, "Mine@Example.org");
        assertEquals(Duration.ofSeconds(4), t.failed(a, "victim@example.org"),
                "an attacker's own account does not reset the guesses at another");

        InetAddress home = ip("198.51.100.7");
        t.failed(home, "alice@example.org");
        t.failed(home, "alice@example.org");
        t.succeeded(home, "alice@example.org");
        assertEquals(Duration.ZERO, t.admit(home), "a user who mistyped goes on at once");
        assertEquals(Duration.ofSeconds(1), t.failed(home, "alice@example.org"));
    }

    @Test
    void failuresForManyNamesAreCountedButOnlyAFewForgivable() throws Exception {
        // uncapped (a day), so each failure more or less shows in the delay
        AuthThrottle slow = new AuthThrottle(Duration.ofSeconds(1), Duration.ofDays(1), Duration.ofDays(2), clock);
        InetAddress a = ip("192.0.2.1");
        int names = AuthThrottle.MAX_NAMES_PER_NETWORK + 4;
        for (int i = 0; i < names; i++) {
            slow.failed(a, "name" + i);
        }
        slow.succeeded(a, "name" + (names - 1)); // one name too many to be told apart: nothing forgiven
        slow.succeeded(a, "name0"); // told apart: its one failure forgiven
        assertEquals(Duration.ofSeconds(1L << (names - 1)), slow.failed(a, "one more"));
    }

    @Test
    void anIpv6ClientIsCountedByItsSlash64() throws Exception {
        t.failed(ip("2001:db8:1:2::1"), "x");
        assertEquals(Duration.ofSeconds(2), t.failed(ip("2001:db8:1:2:ffff:1:2:3"), "x"),
                "another address in the same /64 is the same client");
        assertEquals(Duration.ofSeconds(1), t.failed(ip("2001:db8:1:3::1"), "x"), "the next /64 is another");
        assertEquals(Duration.ofSeconds(4), t.failed(ip("2001:db8:1:2::abcd"), "x"));
    }

    @Test
    void theRecordIsBoundedAndForgetsTheOldestFailuresFirst() throws Exception {
        AuthThrottle small = new AuthThrottle(Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofMinutes(15), clock, 3);
        small.failed(ip("192.0.2.1"), "x");
        small.failed(ip("192.0.2.2"), "x");
        small.failed(ip("192.0.2.3"), "x");
        small.failed(ip("192.0.2.1"), "x"); // .1 failed last now: .2 is the oldest
        small.failed(ip("192.0.2.4"), "x");
        assertEquals(3, small.tracked());
        assertEquals(Duration.ofSeconds(1), small.failed(ip("192.0.2.2"), "x"), ".2 was forgotten");
        assertEquals(Duration.ofSeconds(4), small.failed(ip("192.0.2.1"), "x"), ".1 was kept");
        clock.advance(Duration.ofMinutes(16));
        small.failed(ip("192.0.2.5"), "x");
        assertEquals(1, small.tracked(), "expired records go when the next failure comes");
    }
}

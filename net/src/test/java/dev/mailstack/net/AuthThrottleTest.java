package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AuthThrottleTest {
    @Test
    void delaysGrowPerAddressAndResetOnSuccessOrQuiet() throws Exception {
        MovableClock clock = new MovableClock();
        AuthThrottle t = new AuthThrottle(Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofMinutes(15), clock);
        InetAddress a = InetAddress.getByName("192.0.2.1");
        InetAddress b = InetAddress.getByName("192.0.2.2");
        assertEquals(Duration.ofSeconds(1), t.failed(a));
        assertEquals(Duration.ofSeconds(2), t.failed(a));
        assertEquals(Duration.ofSeconds(4), t.failed(a));
        assertEquals(Duration.ofSeconds(8), t.failed(a));
        assertEquals(Duration.ofSeconds(8), t.failed(a), "capped");
        assertEquals(Duration.ofSeconds(1), t.failed(b), "other addresses are not punished");
        assertEquals(Duration.ofSeconds(4), t.pending(a));
        t.succeeded(a);
        assertEquals(Duration.ZERO, t.pending(a));
        t.failed(b);
        clock.advance(Duration.ofMinutes(16));
        assertEquals(Duration.ofSeconds(1), t.failed(b), "forgotten after a quiet period");
    }
}

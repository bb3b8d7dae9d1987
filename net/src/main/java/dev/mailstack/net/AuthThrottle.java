package dev.mailstack.net;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Growing delays after failed logins, per client address and shared by SMTP AUTH, POP3 and IMAP
 * (so a guesser cannot switch protocols). The delay doubles with each failure from
 * {@code firstDelay} up to {@code maxDelay}; a success or {@code forgetAfter} of quiet resets it.
 * Sessions wait the delay before answering a failure, like Dovecot's auth_failure_delay.
 */
public final class AuthThrottle {
    private record Failures(int count, Instant last) {
    }

    private final Duration firstDelay;
    private final Duration maxDelay;
    private final Duration forgetAfter;
    private final Clock clock;
    private final Map<InetAddress, Failures> failures = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong failedTotal = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong succeededTotal = new java.util.concurrent.atomic.AtomicLong();
    /** Logins by endpoint name ("imap", "submission", ...), for metrics. */
    private final Map<String, java.util.concurrent.atomic.LongAdder> okByEndpoint = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.LongAdder> failedByEndpoint = new ConcurrentHashMap<>();

    public AuthThrottle(Duration firstDelay, Duration maxDelay, Duration forgetAfter, Clock clock) {
        this.firstDelay = firstDelay;
        this.maxDelay = maxDelay;
        this.forgetAfter = forgetAfter;
        this.clock = clock;
    }

    /** 1 s after the first failure, doubling to 30 s; forgotten after 15 quiet minutes. */
    public static AuthThrottle defaults() {
        return new AuthThrottle(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMinutes(15), Clock.systemUTC());
    }

    /** Records a failure and returns how long to wait before answering it. */
    public Duration failed(InetAddress client) {
        failedTotal.incrementAndGet();
        Instant now = clock.instant();
        Failures f = failures.compute(client, (k, old) -> old == null || old.last().plus(forgetAfter).isBefore(now)
                ? new Failures(1, now) : new Failures(old.count() + 1, now));
        if (failures.size() > 100_000) {
            failures.entrySet().removeIf(e -> e.getValue().last().plus(forgetAfter).isBefore(now));
        }
        return delayFor(f.count());
    }

    /** The delay owed before even trying, for an address that keeps failing (0 when none). */
    public Duration pending(InetAddress client) {
        Failures f = failures.get(client);
        if (f == null || f.last().plus(forgetAfter).isBefore(clock.instant())) {
            return Duration.ZERO;
        }
        return f.count() >= 3 ? delayFor(f.count() - 2) : Duration.ZERO;
    }

    public void succeeded(InetAddress client) {
        succeededTotal.incrementAndGet();
        failures.remove(client);
    }

    /** A successful login on {@code connection}: counted for its endpoint, and its address's failures forgotten. */
    public void succeededLogin(Connection connection) {
        okByEndpoint.computeIfAbsent(connection.endpoint().name(), k -> new java.util.concurrent.atomic.LongAdder()).increment();
        succeeded(connection.clientAddress());
    }

    /** Successful logins since start on one endpoint. */
    public long succeeded(String endpoint) {
        var n = okByEndpoint.get(endpoint);
        return n == null ? 0 : n.sum();
    }

    /** Failed logins since start on one endpoint. */
    public long failed(String endpoint) {
        var n = failedByEndpoint.get(endpoint);
        return n == null ? 0 : n.sum();
    }

    /** Failed logins since start, all protocols (for metrics). */
    public long failedTotal() {
        return failedTotal.get();
    }

    /** Successful logins since start, all protocols. */
    public long succeededTotal() {
        return succeededTotal.get();
    }

    private Duration delayFor(int count) {
        long millis = firstDelay.toMillis() << Math.min(20, count - 1);
        return Duration.ofMillis(Math.min(millis, maxDelay.toMillis()));
    }

    /**
     * A failed login on {@code connection}: counts it, logs it with the connection id, and waits
     * the delay on the session's own thread before the caller answers (other sessions go on).
     */
    public void failedLogin(Connection connection, String what) {
        failedByEndpoint.computeIfAbsent(connection.endpoint().name(), k -> new java.util.concurrent.atomic.LongAdder())
                .increment();
        Duration delay = failed(connection.clientAddress());
        System.getLogger(AuthThrottle.class.getName()).log(System.Logger.Level.INFO,
                "auth failed conn={0} client={1} {2} delay_ms={3,number,#}", connection.id(),
                connection.clientAddress().getHostAddress(), what, delay.toMillis());
        sleep(delay);
    }

    /** Waits out a delay on the session's own (virtual) thread. */
    public static void sleep(Duration delay) {
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.mailstack.mta.queue;

import java.time.Duration;

/**
 * Queue timing (Postfix: minimal_backoff_time 300 s, maximal_backoff_time 4000 s,
 * maximal_queue_lifetime 5 d, delay_warning_time 4 h).
 *
 * @param workers       messages delivered at once
 * @param lease         how long a claimed message is ours before another runner may take it
 */
public record QueueSettings(String hostname, Duration retryInitial, Duration retryMax, Duration maxLifetime,
                            Duration delayWarning, int workers, Duration lease) {
    public static QueueSettings defaults(String hostname) {
        return new QueueSettings(hostname, Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofDays(5),
                Duration.ofHours(4), 4, Duration.ofMinutes(15));
    }

    /** Delay before attempt {@code attempts + 1}: doubling from the initial delay up to the maximum. */
    public Duration backoff(int attempts) {
        long millis = retryInitial.toMillis() << Math.min(20, Math.max(0, attempts - 1));
        return Duration.ofMillis(Math.min(millis, retryMax.toMillis()));
    }
}

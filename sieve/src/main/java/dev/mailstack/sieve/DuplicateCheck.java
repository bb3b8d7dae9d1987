package dev.mailstack.sieve;

import java.time.Duration;
import java.util.Objects;

/**
 * An ID a run's {@code duplicate} test looked at (RFC 7352), for the deliverer to remember once the
 * message is delivered (§3: "only if the script completes successfully"), whether the test found
 * it or not: under {@code handle} ("" without :handle), for {@code period} (:seconds, else {@link
 * #DEFAULT_PERIOD}; the deliverer may cap it). {@code last} (§3.3 :last): the period counts from
 * this message even when the ID was seen before, instead of from when it was first seen.
 */
public record DuplicateCheck(String handle, String id, Duration period, boolean last) {
    /** The period without :seconds: a week, as a day is too short for a list's digest to come round. */
    public static final Duration DEFAULT_PERIOD = Duration.ofDays(7);

    public DuplicateCheck {
        Objects.requireNonNull(handle, "handle");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(period, "period");
    }
}

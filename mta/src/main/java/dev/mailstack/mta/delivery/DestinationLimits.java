package dev.mailstack.mta.delivery;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * At most so many deliveries to one destination at once (Postfix's
 * default_destination_concurrency_limit, 20), so a burst of mail to one domain does not open a
 * hundred connections to its servers, which many count against the sender.
 */
final class DestinationLimits {
    private final int limit;
    /** Destinations with a delivery under way or waiting; one leaves with its last delivery. */
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();

    private static final class Slot {
        final Semaphore permits;
        /** Deliveries holding or waiting for a permit; changed only inside the map's compute. */
        int users;

        Slot(int limit) {
            permits = new Semaphore(limit);
        }
    }

    DestinationLimits(int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("a destination needs at least one delivery at a time");
        }
        this.limit = limit;
    }

    /** Waits up to {@code wait} for a turn; false when none came (the caller defers the mail). */
    boolean acquire(String destination, Duration wait) {
        Slot slot = slots.compute(destination, (k, s) -> {
            Slot held = s == null ? new Slot(limit) : s;
            held.users++;
            return held;
        });
        boolean acquired = false;
        try {
            acquired = slot.permits.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!acquired) {
                leave(destination);
            }
        }
        return acquired;
    }

    void release(String destination) {
        try {
            slots.get(destination).permits.release();
        } finally {
            leave(destination);
        }
    }

    /** Destinations with a delivery under way or waiting (for tests: the map does not grow with the domains). */
    int busy() {
        return slots.size();
    }

    private void leave(String destination) {
        slots.computeIfPresent(destination, (k, s) -> --s.users == 0 ? null : s);
    }
}

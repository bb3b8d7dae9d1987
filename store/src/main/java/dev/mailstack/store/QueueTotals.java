package dev.mailstack.store;

import java.time.Instant;
import java.util.Optional;

/**
 * The queue in three numbers, for /metrics: counted by the database in one query, where listing
 * every entry (a join and two subqueries a message) cost a scrape time and memory in proportion to
 * the queue, on an endpoint anyone may ask.
 */
public record QueueTotals(long messages, long held, Optional<Instant> oldestReceivedAt) {
}

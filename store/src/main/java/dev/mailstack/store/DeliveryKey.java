package dev.mailstack.store;

import java.util.Optional;

/**
 * Names one delivery of a queued message to one recipient; the store refuses to append the same
 * key to a mailbox twice, so a retry after a crash cannot duplicate mail (STYLE.md R10).
 */
public record DeliveryKey(QueueId queueId, String recipient) {
    String text() {
        return queueId + ":" + recipient.toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The queue id a key's {@link #text} begins with; empty for text no key makes (the id has no
     * colon, the recipient may).
     */
    static Optional<QueueId> queueIdOf(String text) {
        int colon = text.indexOf(':');
        if (colon < 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(QueueId.parse(text.substring(0, colon)));
        } catch (IllegalArgumentException e) { // NumberFormatException too
            return Optional.empty();
        }
    }
}

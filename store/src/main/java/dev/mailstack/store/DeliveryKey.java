package dev.mailstack.store;

/**
 * Names one delivery of a queued message to one recipient; the store refuses to append the same
 * key to a mailbox twice, so a retry after a crash cannot duplicate mail (STYLE.md R10).
 */
public record DeliveryKey(QueueId queueId, String recipient) {
    String text() {
        return queueId + ":" + recipient.toLowerCase(java.util.Locale.ROOT);
    }
}

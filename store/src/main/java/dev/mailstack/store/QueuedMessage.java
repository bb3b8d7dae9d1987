package dev.mailstack.store;

import java.time.Instant;
import java.util.List;

/**
 * A queue entry claimed for delivery: the envelope, the recipients still pending, and the content.
 *
 * @param claimedAt when the claim was made (what {@link MailQueue#record(java.util.Map, Instant)} compares
 *                  an administrator's retry with)
 */
public record QueuedMessage(QueueId id, MailEnvelope envelope, List<PendingRecipient> pending, ContentId content,
                            String contentKey, long size, boolean delayWarned, Instant claimedAt) {
    public QueuedMessage {
        pending = List.copyOf(pending);
    }

    public record PendingRecipient(int position, MailEnvelope.Recipient recipient, int attempts, String lastReply) {
    }

    public Instant receivedAt() {
        return envelope.receivedAt();
    }
}

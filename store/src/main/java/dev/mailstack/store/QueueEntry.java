package dev.mailstack.store;

import java.time.Instant;

/** One line of {@code mailstack queue list}; a held entry waits for {@code mailstack queue release}. */
public record QueueEntry(QueueId id, String returnPath, Instant receivedAt, Instant nextAttempt, long size,
                         int pendingRecipients, String lastReply, boolean held) {
}

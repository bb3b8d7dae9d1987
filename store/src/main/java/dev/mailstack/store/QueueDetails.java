package dev.mailstack.store;

import java.util.List;
import java.util.Optional;

/**
 * One queued message as {@code mailstack queue show} prints it: its line of the list, the DSN
 * parameters it came with (RFC 3461 ENVID, RET), whether a worker is delivering it right now,
 * every recipient with its state, and the key of its content for printing the message itself.
 */
public record QueueDetails(QueueEntry entry, Optional<String> envId, Optional<String> ret, boolean beingDelivered,
                           List<Recipient> recipients, String contentKey) {
    /** State is pending, delivered or failed; lastReply the next hop's (or local delivery's) last answer. */
    public record Recipient(String address, String state, int attempts, String lastReply) {
    }
}

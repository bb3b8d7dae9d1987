package dev.mailstack.store;

import java.time.Instant;

/** What one delivery attempt did for one recipient (STYLE.md R5). */
public sealed interface RecipientOutcome {
    int position();

    record Delivered(int position, String reply) implements RecipientOutcome {
    }

    /**
     * {@code attempted}: false when no attempt began (our own per-destination limit gave the
     * delivery no turn), which then adds nothing to the recipient's attempts, so its backoff
     * does not grow.
     */
    record Deferred(int position, String reply, Instant nextAttempt, boolean attempted) implements RecipientOutcome {
        public Deferred(int position, String reply, Instant nextAttempt) {
            this(position, reply, nextAttempt, true);
        }
    }

    record Failed(int position, String reply) implements RecipientOutcome {
    }
}

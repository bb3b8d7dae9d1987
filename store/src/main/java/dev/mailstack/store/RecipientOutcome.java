package dev.mailstack.store;

import java.time.Instant;

/** What one delivery attempt did for one recipient (STYLE.md R5). */
public sealed interface RecipientOutcome {
    int position();

    record Delivered(int position, String reply) implements RecipientOutcome {
    }

    record Deferred(int position, String reply, Instant nextAttempt) implements RecipientOutcome {
    }

    record Failed(int position, String reply) implements RecipientOutcome {
    }
}

package dev.mailstack.sieve;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The result of running a script against one message: the actions to carry out, in the order
 * the script gave them, duplicates merged (RFC 5228 §2.10.3); whether the {@link SieveAction.Keep}
 * among them is the implicit keep (§2.10.2); and the runtime errors, each "line N: reason". After
 * a runtime error the actions are just the implicit keep (§2.10.6): nothing the script did before
 * the error is carried out. {@code duplicates}: the IDs the duplicate test looked at (RFC 7352),
 * for the deliverer to remember once the message is delivered; none after a runtime error (§3).
 * {@code header}: the header as the editheader actions left it (RFC 5293), for every copy the
 * deliverer stores or sends on; empty when no script edited it, and after a runtime error, whose
 * implicit keep stores the original header (§7).
 */
public record SieveOutcome(List<SieveAction> actions, boolean implicitKeep, List<String> errors,
        List<DuplicateCheck> duplicates, Optional<HeaderEdits> header) {
    public SieveOutcome {
        actions = List.copyOf(actions);
        errors = List.copyOf(errors);
        duplicates = List.copyOf(duplicates);
        Objects.requireNonNull(header, "header");
    }

    public SieveOutcome(List<SieveAction> actions, boolean implicitKeep, List<String> errors,
            List<DuplicateCheck> duplicates) {
        this(actions, implicitKeep, errors, duplicates, Optional.empty());
    }

    public SieveOutcome(List<SieveAction> actions, boolean implicitKeep, List<String> errors) {
        this(actions, implicitKeep, errors, List.of());
    }

    /** Whether the script failed at run time (the actions are then the implicit keep alone). */
    public boolean failed() {
        return !errors.isEmpty();
    }
}

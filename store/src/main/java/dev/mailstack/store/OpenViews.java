package dev.mailstack.store;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The mailbox views open in this process and how far each has caught up, so that a flag change
 * can prune the rows of the flag change log that no view will read again.
 */
final class OpenViews {
    private final Map<MailboxId, Set<MailboxView>> views = new ConcurrentHashMap<>();

    /** Called before the view reads the mailbox, so that nothing it will need is pruned meanwhile. */
    void add(MailboxView view) {
        views.computeIfAbsent(view.id(), k -> ConcurrentHashMap.newKeySet()).add(view);
    }

    void remove(MailboxView view) {
        views.computeIfPresent(view.id(), (k, set) -> {
            set.remove(view);
            return set.isEmpty() ? null : set;
        });
    }

    /**
     * The highest modseq whose log rows no open view of {@code mailbox} still needs: the lowest
     * modseq a view has caught up to, or {@code committed} (the mailbox's last committed modseq,
     * read under its lock) when none is open — a view opened from now on starts at or above it.
     */
    long prunableUpTo(MailboxId mailbox, long committed) {
        long bound = committed;
        for (MailboxView v : views.getOrDefault(mailbox, Set.of())) {
            bound = Math.min(bound, v.caughtUpTo());
        }
        return bound;
    }
}

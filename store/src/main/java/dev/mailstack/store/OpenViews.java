package dev.mailstack.store;

import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The mailbox views open in this process and how far each has caught up, so that a flag change
 * or an expunge can prune the rows of the change logs that no view will read again; and, for a
 * large mailbox, the last closed view's messages (a snapshot), from which the next view starts and
 * reads only what changed since instead of every row (SELECT of a 100,000-message INBOX read them
 * all, each session anew). A snapshot holds the logs from its modseq on, as an open view does, so
 * it does not live for ever: it goes when it is {@link #MAX_AGE} old, when a newer view of its
 * mailbox closes too small to keep one, and, past the capacity, least recently opened first.
 */
final class OpenViews {
    /** Mailboxes smaller than this read fast enough without one; and every view's close would copy its map. */
    static final int MIN_SNAPSHOT_MESSAGES = 1_000;
    /** Messages the snapshots hold together: each is a message's state, about 200 bytes; a fortieth of the heap. */
    static final long SNAPSHOT_CAPACITY = Math.clamp(Runtime.getRuntime().maxMemory() / 40 / 200, 50_000, 5_000_000);
    /** How long a snapshot may hold its mailbox's change logs: the log of a mailbox nobody opens is pruned again after it. */
    static final java.time.Duration MAX_AGE = java.time.Duration.ofHours(1);

    /** What a closed view had read: every message up to {@code lastUid} as of {@code modSeq}, by UID. */
    record Snapshot(long modSeq, long lastUid, NavigableMap<Uid, MessageRef> messages) {
    }

    /** A snapshot and when it was kept ({@link System#nanoTime()}). */
    private record Kept(Snapshot snapshot, long since) {
    }

    private final Map<MailboxId, Set<MailboxView>> views = new ConcurrentHashMap<>();
    /** Guards {@link #snapshots}, and orders taking a snapshot against computing what may be pruned. */
    private final ReentrantLock lock = new ReentrantLock();
    /** In the order their mailboxes were last opened (not looked at: a prune's lookup does not count). */
    private final LinkedHashMap<MailboxId, Kept> snapshots = new LinkedHashMap<>();
    private long snapshotMessages;
    /** Views that started from a snapshot (for tests). */
    private long resumed;
    /** For tests: snapshots of smaller mailboxes too, and fewer of them, and younger. */
    volatile int minSnapshotMessages = MIN_SNAPSHOT_MESSAGES;
    volatile long snapshotCapacity = SNAPSHOT_CAPACITY;
    volatile java.time.Duration maxAge = MAX_AGE;

    /**
     * Called before the view reads the mailbox, so that nothing it will need is pruned meanwhile
     * (its modseq is 0 until it has read). Returns the mailbox's snapshot to start from, if any:
     * taken under the same lock as {@link #prunableUpTo}, so no prune passes its modseq first.
     */
    Snapshot add(MailboxView view) {
        lock.lock();
        try {
            views.computeIfAbsent(view.id(), k -> ConcurrentHashMap.newKeySet()).add(view);
            Kept k = current(view.id());
            if (k == null) {
                return null;
            }
            snapshots.remove(view.id());
            snapshots.put(view.id(), k); // now the most recently opened
            resumed++;
            return k.snapshot();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether a view of {@code size} messages caught up to {@code modSeq} would be kept as its
     * mailbox's snapshot: asked before copying its messages, which would otherwise be copied at
     * every close only to be dropped.
     */
    boolean wouldKeep(MailboxId mailbox, long modSeq, int size) {
        if (modSeq <= 0 || size < minSnapshotMessages || size > snapshotCapacity) {
            return false;
        }
        lock.lock();
        try {
            Kept k = snapshots.get(mailbox);
            return k == null || k.snapshot().modSeq() <= modSeq;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Called as the view closes, caught up to {@code caughtUpTo}: {@code last} (null if it was not
     * taken) is what it had read, kept if it is newer than the mailbox's snapshot. A newer view
     * that leaves none (the mailbox has shrunk below the size worth one, or its copy failed) ends
     * the older snapshot too, which would otherwise hold the logs with nothing to replace it.
     */
    void remove(MailboxView view, long caughtUpTo, Snapshot last) {
        lock.lock();
        try {
            Kept kept = snapshots.get(view.id());
            if (last != null && last.messages().size() >= minSnapshotMessages && last.messages().size() <= snapshotCapacity) {
                if (kept == null || kept.snapshot().modSeq() <= last.modSeq()) {
                    keep(view.id(), last);
                }
            } else if (kept != null && caughtUpTo >= kept.snapshot().modSeq()) {
                drop(view.id());
            }
            views.computeIfPresent(view.id(), (k, set) -> {
                set.remove(view);
                return set.isEmpty() ? null : set;
            });
        } finally {
            lock.unlock();
        }
    }

    private void keep(MailboxId mailbox, Snapshot last) {
        drop(mailbox);
        snapshots.put(mailbox, new Kept(last, System.nanoTime()));
        snapshotMessages += last.messages().size();
        for (Iterator<Map.Entry<MailboxId, Kept>> it = snapshots.entrySet().iterator();
             snapshotMessages > snapshotCapacity && it.hasNext(); ) {
            Map.Entry<MailboxId, Kept> e = it.next();
            if (!e.getKey().equals(mailbox)) {
                snapshotMessages -= e.getValue().snapshot().messages().size();
                it.remove();
            }
        }
    }

    /** The mailbox's snapshot, unless it is too old: then it is dropped and its logs may be pruned again. Under the lock. */
    private Kept current(MailboxId mailbox) {
        Kept k = snapshots.get(mailbox);
        if (k != null && System.nanoTime() - k.since() > maxAge.toNanos()) {
            drop(mailbox);
            return null;
        }
        return k;
    }

    private void drop(MailboxId mailbox) {
        Kept k = snapshots.remove(mailbox);
        if (k != null) {
            snapshotMessages -= k.snapshot().messages().size();
        }
    }

    /** Drops the mailbox's snapshot (the mailbox is gone). */
    void forget(MailboxId mailbox) {
        lock.lock();
        try {
            drop(mailbox);
        } finally {
            lock.unlock();
        }
    }

    /**
     * The highest modseq whose log rows no open view of {@code mailbox} and no snapshot of it still
     * needs: the lowest modseq a view has caught up to or a snapshot was taken at, or {@code committed}
     * (the mailbox's last committed modseq, read under its lock) when there is neither — a view
     * opened from now on starts at or above it.
     */
    long prunableUpTo(MailboxId mailbox, long committed) {
        lock.lock();
        try {
            long bound = committed;
            for (MailboxView v : views.getOrDefault(mailbox, Set.of())) {
                bound = Math.min(bound, v.caughtUpTo());
            }
            Kept k = current(mailbox);
            return k == null ? bound : Math.min(bound, k.snapshot().modSeq());
        } finally {
            lock.unlock();
        }
    }

    /** The mailboxes with a snapshot (for tests). */
    Set<MailboxId> snapshotted() {
        lock.lock();
        try {
            return Collections.unmodifiableSet(new java.util.HashSet<>(snapshots.keySet()));
        } finally {
            lock.unlock();
        }
    }

    /** How many views started from a snapshot (for tests). */
    long resumed() {
        lock.lock();
        try {
            return resumed;
        } finally {
            lock.unlock();
        }
    }
}

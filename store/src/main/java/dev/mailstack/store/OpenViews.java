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
 * all, each session anew). A snapshot holds the logs from its modseq on, as an open view does, and
 * is dropped when its mailbox is not opened for a while (the least recently used go first).
 */
final class OpenViews {
    /** Mailboxes smaller than this read fast enough without one; and every view's close would copy its map. */
    static final int MIN_SNAPSHOT_MESSAGES = 1_000;
    /** Messages the snapshots hold together: each is a message's state, about 200 bytes; a fortieth of the heap. */
    static final long SNAPSHOT_CAPACITY = Math.clamp(Runtime.getRuntime().maxMemory() / 40 / 200, 50_000, 5_000_000);

    /** What a closed view had read: every message up to {@code lastUid} as of {@code modSeq}, by UID. */
    record Snapshot(long modSeq, long lastUid, NavigableMap<Uid, MessageRef> messages) {
    }

    private final Map<MailboxId, Set<MailboxView>> views = new ConcurrentHashMap<>();
    /** Guards {@link #snapshots}, and orders taking a snapshot against computing what may be pruned. */
    private final ReentrantLock lock = new ReentrantLock();
    /** In the order their mailboxes were last opened (not looked at: a prune's lookup does not count). */
    private final LinkedHashMap<MailboxId, Snapshot> snapshots = new LinkedHashMap<>();
    private long snapshotMessages;
    /** For tests: snapshots of smaller mailboxes too, and fewer of them. */
    volatile int minSnapshotMessages = MIN_SNAPSHOT_MESSAGES;
    volatile long snapshotCapacity = SNAPSHOT_CAPACITY;

    /**
     * Called before the view reads the mailbox, so that nothing it will need is pruned meanwhile
     * (its modseq is 0 until it has read). Returns the mailbox's snapshot to start from, if any:
     * taken under the same lock as {@link #prunableUpTo}, so no prune passes its modseq first.
     */
    Snapshot add(MailboxView view) {
        lock.lock();
        try {
            views.computeIfAbsent(view.id(), k -> ConcurrentHashMap.newKeySet()).add(view);
            Snapshot s = snapshots.remove(view.id());
            if (s != null) {
                snapshots.put(view.id(), s); // now the most recently opened
            }
            return s;
        } finally {
            lock.unlock();
        }
    }

    /** Called as the view closes: {@code last} (may be null) is what it had read, kept if the mailbox is large and it is newer. */
    void remove(MailboxView view, Snapshot last) {
        lock.lock();
        try {
            if (last != null && last.messages().size() >= minSnapshotMessages) {
                Snapshot kept = snapshots.get(view.id());
                if (kept == null || kept.modSeq() <= last.modSeq()) {
                    keep(view.id(), kept, last);
                }
            }
            views.computeIfPresent(view.id(), (k, set) -> {
                set.remove(view);
                return set.isEmpty() ? null : set;
            });
        } finally {
            lock.unlock();
        }
    }

    private void keep(MailboxId mailbox, Snapshot replaced, Snapshot last) {
        if (replaced != null) {
            snapshotMessages -= replaced.messages().size();
            snapshots.remove(mailbox);
        }
        snapshots.put(mailbox, last);
        snapshotMessages += last.messages().size();
        for (Iterator<Map.Entry<MailboxId, Snapshot>> it = snapshots.entrySet().iterator();
             snapshotMessages > snapshotCapacity && it.hasNext(); ) {
            Map.Entry<MailboxId, Snapshot> e = it.next();
            if (!e.getKey().equals(mailbox)) {
                snapshotMessages -= e.getValue().messages().size();
                it.remove();
            }
        }
    }

    /** Drops the mailbox's snapshot (the mailbox is gone, or a view found it unusable). */
    void forget(MailboxId mailbox) {
        lock.lock();
        try {
            Snapshot s = snapshots.remove(mailbox);
            if (s != null) {
                snapshotMessages -= s.messages().size();
            }
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
            Snapshot s = snapshots.get(mailbox);
            return s == null ? bound : Math.min(bound, s.modSeq());
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
}

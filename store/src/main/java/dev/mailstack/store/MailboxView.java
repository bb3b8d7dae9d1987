package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One session's picture of a mailbox. It changes only when the session calls {@link #refresh()},
 * at a point its protocol allows (RFC 3501 §7.4.1, RFC 1939's maildrop snapshot); the change bus
 * only says that a refresh would find something.
 */
public final class MailboxView implements AutoCloseable {
    private static final int MAX_RANGE_LOOKUPS = 32;

    private final StoreSession session;
    private final MailboxInfo info;
    private final NavigableMap<Uid, MessageRef> messages = new TreeMap<>();
    private final AutoCloseable subscription;
    private volatile Runnable onChange = () -> { };
    private final MailboxStore store;
    private volatile boolean pending;
    /** Read by flag changes on other threads deciding what of the log to prune. */
    private volatile long modSeq;
    /** The highest UID this view has read; anything above it is new. */
    private long lastUid;
    /** Held while a refresh changes {@link #messages}, which may run on an IDLE notifier's thread, and while it is copied. */
    private final java.util.concurrent.locks.ReentrantLock reading = new java.util.concurrent.locks.ReentrantLock();

    MailboxView(MailboxStore store, StoreSession session, MailboxInfo info) {
        this.store = store;
        this.session = session;
        this.info = info;
        OpenViews.Snapshot start = store.openViews().add(this);
        this.subscription = store.changes().subscribe(info.id(), changes -> {
            pending = true;
            onChange.run();
        });
        try {
            if (start != null) {
                resume(start);
            } else {
                load();
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public MailboxInfo info() {
        return info;
    }

    public MailboxId id() {
        return info.id();
    }

    /** The messages as of the last refresh, in UID order. */
    public List<MessageRef> messages() {
        return new ArrayList<>(messages.values());
    }

    public int size() {
        return messages.size();
    }

    public long highestModSeq() {
        return modSeq;
    }

    /** The mailbox's UIDNEXT now, not as it was when the view opened ({@link #info()}). */
    public long uidNext() {
        return session.query("uidnext", c -> mailboxCounter(c, "uid_next"));
    }

    /** True when a writer (this view's own session included) committed to this mailbox since the last refresh. */
    public boolean hasPendingChanges() {
        return pending;
    }

    /** Called (on the committing thread; must not block) whenever the mailbox changes. */
    public void onChange(Runnable listener) {
        this.onChange = listener;
    }

    /** Catches up with committed changes and returns them, expunges first, then flag changes and adds by UID. */
    public List<MailboxChange> refresh() {
        reading.lock();
        try {
            return catchUp();
        } finally {
            reading.unlock();
        }
    }

    /**
     * Reads everything first and changes the view only once every read has succeeded: a failure
     * half-way (the database busy, say) used to leave expunges applied to the view that were never
     * returned, so the session never told its client and kept numbering a message that was gone.
     */
    private List<MailboxChange> catchUp() {
        pending = false; // before the reads: a change committed during them marks it again
        Changes read;
        try {
            read = readChanges();
        } catch (RuntimeException e) {
            pending = true; // nothing was applied: what was pending still is (HIGHESTMODSEQ is held back for it)
            throw e;
        }
        return apply(read);
    }

    private Changes readChanges() {
        return session.query("refresh mailbox", c -> {
            long highest = highestModSeq(c);
            if (highest == modSeq) {
                return null;
            }
            List<MailboxChange.Expunged> expunged = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT uid, modseq FROM expunged WHERE mailbox_id = ? AND modseq > ? AND modseq <= ? ORDER BY uid")) {
                ps.setLong(1, info.id().value());
                ps.setLong(2, modSeq);
                ps.setLong(3, highest);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        expunged.add(new MailboxChange.Expunged(new Uid(rs.getLong(1)), rs.getLong(2)));
                    }
                }
            }
            return new Changes(highest, expunged, changedSince(c, changedRanges(c, highest)), readAbove(c, lastUid));
        });
    }

    private List<MailboxChange> apply(Changes read) {
        List<MailboxChange> out = new ArrayList<>();
        if (read == null) {
            return out;
        }
        for (MailboxChange.Expunged e : read.expunged()) {
            if (messages.remove(e.uid()) != null) {
                out.add(e);
            }
        }
        for (MessageRef r : read.changed()) {
            if (messages.replace(r.uid(), r) != null) {
                out.add(new MailboxChange.FlagsChanged(r));
            }
        }
        for (MessageRef r : read.added()) {
            messages.put(r.uid(), r);
            lastUid = r.uid().value();
            out.add(new MailboxChange.Added(r));
        }
        modSeq = read.highest();
        return out;
    }

    /** What one refresh read, before any of it is applied. */
    private record Changes(long highest, List<MailboxChange.Expunged> expunged, List<MessageRef> changed, List<MessageRef> added) {
    }

    /** Replaces one message's state after this session changed it, without waiting for refresh. */
    public void update(MessageRef message) {
        messages.computeIfPresent(message.uid(), (k, v) -> message);
    }

    /**
     * Takes in this session's own flag change once it is committed: what {@link Transaction#setFlags}
     * returned, from a transaction that changed nothing else in this mailbox. Each message gets its
     * new state, and when the commit's modseq (every changed message has it) comes right after the
     * last one this view has read, no other writer's commit lies between, so the view is caught up
     * to it: the next refresh does not read back the rows this session has just written (on a
     * 100,000-message STORE 1:* that was a quarter of the command). Otherwise the refresh reads
     * them, with whatever the other writers did.
     */
    public void committed(List<MessageRef> changed) {
        if (changed.isEmpty()) {
            return;
        }
        long committedAt = changed.get(0).modSeq();
        boolean oneCommit = true;
        for (MessageRef r : changed) {
            // never thrown after the commit: a change that is not one commit's to this mailbox is
            // still taken in, and the next refresh reads what it has to
            oneCommit &= r.modSeq() == committedAt && r.mailbox().equals(info.id());
            if (r.mailbox().equals(info.id())) {
                update(r);
            }
        }
        if (oneCommit && modSeq == committedAt - 1) {
            modSeq = committedAt;
        }
    }

    /** The modseq this view has caught up to; 0 until it has read the mailbox. */
    long caughtUpTo() {
        return modSeq;
    }

    private void load() {
        session.query("open mailbox", c -> {
            // Read before the messages: a change committed in between is then seen again at the
            // next refresh, which is harmless; the other order could miss it.
            long highest = highestModSeq(c);
            for (MessageRef r : readAbove(c, 0)) {
                messages.put(r.uid(), r);
                lastUid = r.uid().value();
            }
            modSeq = highest;
            return null;
        });
    }

    /**
     * Starts from what the last view of this large mailbox to close had read, then catches up as a
     * refresh does: the changes since its modseq, which the logs keep while the snapshot is held
     * ({@link OpenViews#prunableUpTo}), not every message again.
     */
    private void resume(OpenViews.Snapshot start) {
        messages.putAll(start.messages()); // from a sorted map with the same order: built in one pass
        lastUid = start.lastUid();
        modSeq = start.modSeq();
        refresh();
    }

    private long highestModSeq(Connection c) throws SQLException {
        return mailboxCounter(c, "highest_modseq");
    }

    /** One of the mailbox row's counters ({@code uid_next}, {@code highest_modseq}) as committed. */
    private long mailboxCounter(Connection c, String column) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM mailboxes WHERE id = ?")) {
            ps.setLong(1, info.id().value());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "mailbox was deleted");
                }
                return rs.getLong(1);
            }
        }
    }

    /**
     * Messages above {@code uid}, in UID order. UIDs are assigned under the mailbox lock and
     * committed in order, so everything above the last UID this view has seen is new to it.
     */
    private List<MessageRef> readAbove(Connection c, long uid) throws SQLException {
        return Mailboxes.readMessages(c, store.contentKeys(), Mailboxes.messageKey(info.id(), uid) + 1,
                Mailboxes.keyAfter(info.id()) - 1, Long.MIN_VALUE);
    }

    /** The UID ranges the flag change log names between this view's modseq and {@code highest}, merged. */
    private List<long[]> changedRanges(Connection c, long highest) throws SQLException {
        List<long[]> ranges = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT first_uid, last_uid FROM flag_changes"
                + " WHERE mailbox_id = ? AND modseq > ? AND modseq <= ?")) {
            ps.setLong(1, info.id().value());
            ps.setLong(2, modSeq);
            ps.setLong(3, highest);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ranges.add(new long[]{rs.getLong(1), Math.min(rs.getLong(2), lastUid)});
                }
            }
        }
        ranges.removeIf(r -> r[0] > r[1]);
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        List<long[]> merged = new ArrayList<>();
        for (long[] r : ranges) {
            long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && r[0] <= last[1] + 1) {
                last[1] = Math.max(last[1], r[1]);
            } else {
                merged.add(r);
            }
        }
        return merged;
    }

    /**
     * The messages in {@code ranges} changed after this view's modseq, in UID order. Past a few
     * dozen ranges one scan from the first to the last is cheaper than a lookup per range.
     */
    private List<MessageRef> changedSince(Connection c, List<long[]> ranges) throws SQLException {
        List<MessageRef> out = new ArrayList<>();
        if (ranges.isEmpty()) {
            return out;
        }
        if (ranges.size() > MAX_RANGE_LOOKUPS) {
            ranges = List.of(new long[]{ranges.get(0)[0], ranges.get(ranges.size() - 1)[1]});
        }
        for (long[] r : ranges) {
            out.addAll(Mailboxes.readMessages(c, store.contentKeys(), Mailboxes.messageKey(info.id(), r[0]),
                    Mailboxes.messageKey(info.id(), r[1]), modSeq));
        }
        return out;
    }

    @Override
    public void close() {
        long at = modSeq;
        OpenViews.Snapshot last = null;
        try {
            last = snapshot(at);
        } finally {
            // whatever became of the copy: a view left registered would hold its mailbox's logs for good
            store.openViews().remove(this, at, last);
            try {
                subscription.close();
            } catch (Exception e) {
                throw new IllegalStateException("unsubscribe cannot fail", e);
            }
        }
    }

    /**
     * What this view has read, for the next view of its mailbox to start from; null when it would
     * not be kept, or when a refresh is under way on another thread (an IDLE notifier not yet
     * joined): a copy taken meanwhile could miss messages, and every later view would then lack them.
     */
    private OpenViews.Snapshot snapshot(long at) {
        if (!store.openViews().wouldKeep(info.id(), at, messages.size()) || !reading.tryLock()) {
            return null;
        }
        try {
            return modSeq == at ? new OpenViews.Snapshot(at, lastUid, Collections.unmodifiableNavigableMap(new TreeMap<>(messages)))
                    : null;
        } finally {
            reading.unlock();
        }
    }
}

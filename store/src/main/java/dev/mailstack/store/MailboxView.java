package dev.mailstack.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One session's picture of a mailbox. It changes only when the session calls {@link #refresh()},
 * at a point its protocol allows (RFC 3501 §7.4.1, RFC 1939's maildrop snapshot); the change bus
 * only says that a refresh would find something.
 */
public final class MailboxView implements AutoCloseable {
    private final StoreSession session;
    private final MailboxInfo info;
    private final NavigableMap<Uid, MessageRef> messages = new TreeMap<>();
    private final AutoCloseable subscription;
    private volatile Runnable onChange = () -> { };
    private volatile boolean pending;
    private long modSeq;

    MailboxView(MailboxStore store, StoreSession session, MailboxInfo info) {
        this.session = session;
        this.info = info;
        this.subscription = store.changes().subscribe(info.id(), changes -> {
            pending = true;
            onChange.run();
        });
        load();
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

    /** True when another writer committed to this mailbox since the last refresh. */
    public boolean hasPendingChanges() {
        return pending;
    }

    /** Called (on the committing thread; must not block) whenever the mailbox changes. */
    public void onChange(Runnable listener) {
        this.onChange = listener;
    }

    /** Catches up with committed changes and returns them, expunges first, then adds and flag changes by UID. */
    public List<MailboxChange> refresh() {
        pending = false;
        return session.query("refresh mailbox", c -> {
            long highest;
            try (PreparedStatement ps = c.prepareStatement("SELECT highest_modseq FROM mailboxes WHERE id = ?")) {
                ps.setLong(1, info.id().value());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new StoreException(StoreFailure.NOT_FOUND, "mailbox was deleted");
                    }
                    highest = rs.getLong(1);
                }
            }
            List<MailboxChange> out = new ArrayList<>();
            if (highest == modSeq) {
                return out;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT uid, modseq FROM expunged WHERE mailbox_id = ? AND modseq > ? AND modseq <= ? ORDER BY uid")) {
                ps.setLong(1, info.id().value());
                ps.setLong(2, modSeq);
                ps.setLong(3, highest);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Uid uid = new Uid(rs.getLong(1));
                        if (messages.remove(uid) != null) {
                            out.add(new MailboxChange.Expunged(uid, rs.getLong(2)));
                        }
                    }
                }
            }
            Uid lastKnown = messages.isEmpty() ? null : messages.lastKey();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + Mailboxes.MESSAGE_COLUMNS + Mailboxes.MESSAGE_FROM
                    + " WHERE m.mailbox_id = ? AND m.modseq > ? AND m.modseq <= ? ORDER BY m.uid")) {
                ps.setLong(1, info.id().value());
                ps.setLong(2, modSeq);
                ps.setLong(3, highest);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        MessageRef r = Mailboxes.readMessage(rs);
                        boolean known = messages.containsKey(r.uid());
                        messages.put(r.uid(), r);
                        boolean added = !known && (lastKnown == null || r.uid().compareTo(lastKnown) > 0);
                        out.add(added ? new MailboxChange.Added(r) : new MailboxChange.FlagsChanged(r));
                    }
                }
            }
            modSeq = highest;
            return out;
        });
    }

    /** Replaces one message's state after this session changed it, without waiting for refresh. */
    public void update(MessageRef message) {
        messages.computeIfPresent(message.uid(), (k, v) -> message);
    }

    private void load() {
        session.query("open mailbox", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT highest_modseq FROM mailboxes WHERE id = ?")) {
                ps.setLong(1, info.id().value());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    modSeq = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT " + Mailboxes.MESSAGE_COLUMNS + Mailboxes.MESSAGE_FROM
                    + " WHERE m.mailbox_id = ? AND m.modseq <= ? ORDER BY m.uid")) {
                ps.setLong(1, info.id().value());
                ps.setLong(2, modSeq);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        MessageRef r = Mailboxes.readMessage(rs);
                        messages.put(r.uid(), r);
                    }
                }
            }
            return null;
        });
    }

    @Override
    public void close() {
        try {
            subscription.close();
        } catch (Exception e) {
            throw new IllegalStateException("unsubscribe cannot fail", e);
        }
    }
}

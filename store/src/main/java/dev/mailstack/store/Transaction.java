package dev.mailstack.store;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Changes to one account's mailboxes that become visible together at {@link #commit()}; closing
 * without committing rolls back. Each mailbox touched is locked (its row) until the end, which is
 * what makes UIDs and modseqs strictly increasing per mailbox under concurrent writers. Keep
 * transactions short and never do network I/O inside one (STYLE.md §2).
 */
public final class Transaction implements AutoCloseable {
    private static final int MAX_LOGGED_RUNS = 32;
    /** Flag changes to at most this many messages are first checked without the lock: most change nothing. */
    private static final int UNLOCKED_FLAG_CHECK = 64;

    private final MailboxStore store;
    private final AccountId account;
    private final Connection c;
    private final Map<MailboxId, Locked> locked = new LinkedHashMap<>();
    private final List<CommitResult.Assigned> assigned = new ArrayList<>();
    private boolean done;
    /** The shared hold on contents ({@link MailboxStore#contentWriters()}) has been given back. */
    private boolean released;
    /** A message came in through {@link #append}: the commit syncs the database to disk. */
    private boolean storedContent;
    /** This transaction is the account's writer ({@link AccountWriters}) until it ends. */
    private boolean writing;
    /** Octets this transaction has added to the account's use so far, less what its expunges freed. */
    private long charged;
    /**
     * The save date (RFC 8514) of every message this transaction puts into a mailbox: one moment for
     * all of them, as they appear together. Microseconds, as the column keeps them.
     */
    private Instant savedAt;

    /** A mailbox locked by this transaction, with the UIDs it hands out and its one new modseq. */
    private static final class Locked {
        final long uidValidity;
        final long modSeq;
        long uidNext;
        final List<MailboxChange> changes = new ArrayList<>();
        /** What this transaction does to the mailbox's counts, applied at commit. */
        long messages;
        long unseen;
        long deleted;
        long size;

        void count(int sign, Flags flags, long bytes) {
            messages += sign;
            unseen += flags.has(Flag.SEEN) ? 0 : sign;
            deleted += flags.has(Flag.DELETED) ? sign : 0;
            size += sign * bytes;
        }

        Locked(long uidValidity, long uidNext, long modSeq) {
            this.uidValidity = uidValidity;
            this.uidNext = uidNext;
            this.modSeq = modSeq;
        }
    }

    Transaction(MailboxStore store, AccountId account) {
        this.store = store;
        this.account = account;
        store.contentWriters().lock();
        try {
            this.c = store.db().connect();
        } catch (RuntimeException e) {
            store.contentWriters().unlock();
            throw e;
        }
        try {
            c.setAutoCommit(false);
        } catch (SQLException e) {
            closeQuietly();
            throw store.db().failure(e, "begin");
        }
    }

    /**
     * Stores {@code source} (once, by content address) and appends it. Returns the new UID, or empty
     * when {@code key} was delivered to this mailbox before (a retry after a crash).
     */
    public Optional<Uid> append(MailboxId mailbox, MessageSource source, MessageFacts facts, Flags flags,
                                Instant internalDate, Optional<DeliveryKey> key) {
        if (source.size() != facts.size()) {
            throw new IllegalArgumentException("facts size " + facts.size() + " != source size " + source.size());
        }
        if (key.isPresent() && run("append", () -> {
            lock(mailbox);
            return delivered(mailbox, key.get());
        })) {
            return Optional.empty(); // a retry: its content, maybe written anew (a Sieve-edited copy), is not stored again
        }
        ContentId content = storeContent(source, facts);
        return appendContent(mailbox, content, facts.size(), flags, internalDate, key);
    }

    /**
     * Appends a short message the server itself writes to the user (a quota warning), counted in the
     * account's use like any other but never refused for its quota: a warning that the mailbox is
     * nearly full must not be what makes the delivery it rides with fail, and it must reach the user
     * most when there is least room (Dovecot delivers its quota warnings past the quota too). The use
     * may so end a little above the limit, as when a limit is lowered; the next delivery is refused
     * until the user makes room.
     */
    public Uid appendPastQuota(MailboxId mailbox, MessageSource source, MessageFacts facts, Flags flags,
                               Instant internalDate) {
        if (source.size() != facts.size()) {
            throw new IllegalArgumentException("facts size " + facts.size() + " != source size " + source.size());
        }
        ContentId content = storeContent(source, facts);
        return run("append", () -> insert(mailbox, content, facts.size(), flags, internalDate, Optional.empty(), false));
    }

    /** Appends content already in the store (a queued message delivered locally): no bytes copied. */
    public Optional<Uid> appendContent(MailboxId mailbox, ContentId content, long size, Flags flags,
                                       Instant internalDate, Optional<DeliveryKey> key) {
        return run("append", () -> {
            lock(mailbox);
            if (key.isPresent() && delivered(mailbox, key.get())) {
                return Optional.<Uid>empty();
            }
            return Optional.of(insert(mailbox, content, size, flags, internalDate, key, true));
        });
    }

    /**
     * RFC 7352 §3: the IDs the Sieve duplicate tests of {@code delivered}'s run looked at, tracked
     * in this transaction, so with its copy or not at all: a message that is filed is tracked even if
     * its outcome is never recorded, and one whose copy did not go in is not.
     */
    public void trackDuplicates(List<SieveDuplicates.Mark> marks, QueueId delivered, Instant now) {
        if (marks.isEmpty()) {
            return;
        }
        run("record sieve duplicate tracking", () -> {
            if (!writing) {
                store.accountWriters().lock(account);
                writing = true;
            }
            SieveDuplicates.write(c, account, marks, now, delivered);
            return null;
        });
    }

    /**
     * The account's limit and its use before and with this transaction's changes so far, read as the
     * account's writer: no other writer's change to its use can come between this and the commit.
     */
    public QuotaChange quotaChange() {
        return run("read quota", () -> {
            if (!writing) {
                store.accountWriters().lock(account);
                writing = true;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT quota_bytes, used_bytes FROM accounts WHERE id = ?")) {
                ps.setLong(1, account.value());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new StoreException(StoreFailure.NOT_FOUND, "no such account");
                    }
                    long limit = rs.getLong(1);
                    OptionalLong limitBytes = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(limit);
                    long used = rs.getLong(2);
                    return new QuotaChange(limitBytes, Math.max(0, used - charged), used);
                }
            }
        });
    }

    /**
     * Appends a message whose content the caller has made durable already, under the shared hold on
     * contents it took before ({@link StoreSession#append}): the rows only, the quota enforced.
     */
    Uid appendDurable(MailboxId mailbox, NewMessage message) {
        ContentId content = recordContent(message.source(), message.facts());
        return run("append", () -> insert(mailbox, content, message.facts().size(), message.flags(),
                message.internalDate(), Optional.empty(), true));
    }

    /** Writes {@code source} into the content files (once, by its address) and records it. */
    private ContentId storeContent(MessageSource source, MessageFacts facts) {
        try {
            store.contents().put(source);
        } catch (IOException e) {
            throw new StoreException(StoreFailure.TEMPORARY, "cannot write message content: " + e.getMessage(), e);
        }
        return recordContent(source, facts);
    }

    /** The content's row, for a file already durable; the commit then syncs the database too. */
    private ContentId recordContent(MessageSource source, MessageFacts facts) {
        ContentId content = run("store content", () -> store.ensureContent(c, source, facts));
        storedContent = true;
        return content;
    }

    /** One new message in {@code mailbox}, charged to the quota, which refuses it past the limit when {@code enforce}. */
    private Uid insert(MailboxId mailbox, ContentId content, long size, Flags flags, Instant internalDate,
                       Optional<DeliveryKey> key, boolean enforce) throws SQLException {
        requireStorable(flags);
        Locked m = lock(mailbox);
        chargeQuota(size, enforce);
        Uid uid = new Uid(m.uidNext++);
        Instant saved = insertMessage(mailbox, m, uid, content, size, internalDate, flags);
        if (key.isPresent()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO deliveries (mailbox_id, delivery_key, queue_id, uid) VALUES (?, ?, ?, ?)")) {
                ps.setLong(1, mailbox.value());
                ps.setString(2, key.get().text());
                ps.setLong(3, key.get().queueId().value()); // for the prune once the entry is gone (Deliveries)
                ps.setLong(4, uid.value());
                ps.executeUpdate();
            }
        }
        m.changes.add(new MailboxChange.Added(new MessageRef(mailbox, uid, m.modSeq, size, internalDate, flags,
                content, store.contentKey(c, content), saved)));
        assigned.add(new CommitResult.Assigned(mailbox, m.uidValidity, List.of(), List.of(uid)));
        return uid;
    }

    /** Copies messages (RFC 3501 COPY): new UIDs in {@code to}, flags kept, contents shared. */
    public List<Uid> copy(MailboxId from, Collection<Uid> uids, MailboxId to) {
        return run("copy", () -> copyRows(from, uids, to, false));
    }

    /** Moves messages (RFC 6851): a copy plus an expunge of the sources, in this transaction. */
    public List<Uid> move(MailboxId from, Collection<Uid> uids, MailboxId to) {
        return run("move", () -> copyRows(from, uids, to, true));
    }

    /**
     * Moves every message of {@code from} (RENAME INBOX, RFC 3501 §6.3.5), read once the mailbox is
     * locked: a message delivered meanwhile is either moved too or arrives after.
     */
    public List<Uid> moveAll(MailboxId from, MailboxId to) {
        return run("move all", () -> {
            lock(from);
            List<Uid> uids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT uid FROM messages WHERE id > ? AND id < ? ORDER BY id")) {
                ps.setLong(1, Mailboxes.messageKey(from, 0));
                ps.setLong(2, Mailboxes.keyAfter(from));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        uids.add(new Uid(rs.getLong(1)));
                    }
                }
            }
            return copyRows(from, uids, to, true);
        });
    }

    private List<Uid> copyRows(MailboxId from, Collection<Uid> uids, MailboxId to, boolean expungeSource) throws SQLException {
        Locked src = lock(from);
        Locked dst = lock(to);
        List<MessageRef> sources = load(from, uids);
        if (!expungeSource) { // a move stays within the account: its usage does not change
            chargeQuota(sources.stream().mapToLong(MessageRef::size).sum(), true);
        }
        List<Uid> newUids = new ArrayList<>();
        List<Uid> oldUids = new ArrayList<>();
        for (MessageRef r : sources) {
            Uid uid = new Uid(dst.uidNext++);
            // RFC 8514 §3: a copy or a move is saved anew, so its save date is now, not the source's
            Instant saved = insertMessage(to, dst, uid, r.content(), r.size(), r.internalDate(), r.flags());
            dst.changes.add(new MailboxChange.Added(new MessageRef(to, uid, dst.modSeq, r.size(), r.internalDate(),
                    r.flags(), r.content(), r.contentKey(), saved)));
            newUids.add(uid);
            oldUids.add(r.uid());
        }
        if (expungeSource) {
            removeRows(from, src, sources, false);
        }
        assigned.add(new CommitResult.Assigned(to, dst.uidValidity, oldUids, newUids));
        return newUids;
    }

    /** Changes flags; returns the messages whose flags actually changed, with their new state. */
    public List<MessageRef> setFlags(MailboxId mailbox, Collection<Uid> uids, FlagChange change) {
        return setFlags(mailbox, uids, change, Long.MAX_VALUE).changed();
    }

    /**
     * RFC 7162 §3.1.3 conditional STORE: changes flags only of the messages whose modseq is at most
     * {@code unchangedSince} as committed, not as a session last saw them; the others are left alone
     * and returned as modified.
     */
    public FlagsStored setFlags(MailboxId mailbox, Collection<Uid> uids, FlagChange change, long unchangedSince) {
        return run("set flags", () -> {
            java.util.Set<Uid> wanted = uids instanceof java.util.Set<Uid> set ? set : new java.util.HashSet<>(uids);
            if (!locked.containsKey(mailbox) && uids.size() <= UNLOCKED_FLAG_CHECK) {
                List<MessageRef> rows = loadRange(mailbox, uids);
                if (rows.stream().noneMatch(r -> changes(r, wanted, change, unchangedSince))) {
                    // Nothing to change (a client marking read what is read): no lock, no new modseq (RFC 7162
                    // §3.2), no commit to write; the STORE is ordered at this read.
                    return new FlagsStored(List.of(), modifiedSince(rows, wanted, unchangedSince));
                }
            }
            Locked m = lock(mailbox);
            List<MessageRef> changed = new ArrayList<>();
            List<Uid[]> runs = new ArrayList<>(); // [first, last] of consecutive changed messages
            List<MessageRef> rows = loadRange(mailbox, uids);
            Uid[] open = null;
            for (MessageRef r : rows) {
                if (!changes(r, wanted, change, unchangedSince)) {
                    open = null; // an unchanged (or unrequested) message ends a run
                    continue;
                }
                Flags next = change.applyTo(r.flags());
                requireStorable(next);
                MessageRef updated = new MessageRef(mailbox, r.uid(), m.modSeq, r.size(), r.internalDate(), next,
                        r.content(), r.contentKey(), r.savedAt());
                changed.add(updated);
                m.count(-1, r.flags(), 0);
                m.count(1, next, 0);
                m.changes.add(new MailboxChange.FlagsChanged(updated));
                if (open == null) {
                    open = new Uid[]{r.uid(), r.uid()};
                    runs.add(open);
                } else {
                    open[1] = r.uid();
                }
            }
            if (change.mode() != FlagChange.Mode.REPLACE && change.flags().keywords().isEmpty()) {
                updateSystemFlags(mailbox, m.modSeq, runs, change);
            } else {
                updateRows(mailbox, m.modSeq, changed);
            }
            logFlagChanges(mailbox, m.modSeq, runs);
            return new FlagsStored(changed, modifiedSince(rows, wanted, unchangedSince));
        });
    }

    private static boolean changes(MessageRef r, java.util.Set<Uid> wanted, FlagChange change, long unchangedSince) {
        return wanted.contains(r.uid()) && r.modSeq() <= unchangedSince && !change.applyTo(r.flags()).equals(r.flags());
    }

    private static List<Uid> modifiedSince(List<MessageRef> rows, java.util.Set<Uid> wanted, long unchangedSince) {
        List<Uid> modified = new ArrayList<>();
        for (MessageRef r : rows) {
            if (wanted.contains(r.uid()) && r.modSeq() > unchangedSince) {
                modified.add(r.uid());
            }
        }
        return modified;
    }

    /**
     * Adding or removing system flags, one statement per run of consecutive changed messages:
     * STORE 1:* +FLAGS (\Seen) on a large mailbox is a few statements, not one per message.
     * Every message in a run is known to change (the mailbox is locked), so no condition is needed.
     */
    private void updateSystemFlags(MailboxId mailbox, long modSeq, List<Uid[]> runs, FlagChange change) throws SQLException {
        int bits = change.flags().bits();
        SqlDialect sql = store.db().dialect();
        String mask = "CAST(? AS INTEGER)";
        String flags = change.mode() == FlagChange.Mode.ADD ? sql.bitOr("flags", mask) : sql.bitAnd("flags", mask);
        try (PreparedStatement ps = c.prepareStatement("UPDATE messages SET flags = " + flags + ", modseq = ?"
                + " WHERE id BETWEEN ? AND ?")) {
            for (Uid[] run : runs) {
                ps.setInt(1, change.mode() == FlagChange.Mode.ADD ? bits : ~bits);
                ps.setLong(2, modSeq);
                ps.setLong(3, Mailboxes.messageKey(mailbox, run[0].value()));
                ps.setLong(4, Mailboxes.messageKey(mailbox, run[1].value()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * Tells other sessions' views which UIDs to look at ({@link MailboxView#refresh()}), and prunes
     * what no open view will read again. Many short runs are logged as one span: a reader checks
     * each message's modseq anyway.
     */
    private void logFlagChanges(MailboxId mailbox, long modSeq, List<Uid[]> runs) throws SQLException {
        if (runs.isEmpty()) {
            return;
        }
        if (runs.size() > MAX_LOGGED_RUNS) {
            runs = List.<Uid[]>of(new Uid[]{runs.get(0)[0], runs.get(runs.size() - 1)[1]});
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM flag_changes WHERE mailbox_id = ? AND modseq <= ?")) {
            ps.setLong(1, mailbox.value());
            ps.setLong(2, store.openViews().prunableUpTo(mailbox, modSeq - 1));
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO flag_changes (mailbox_id, modseq, first_uid, last_uid) VALUES (?, ?, ?, ?)")) {
            for (Uid[] run : runs) {
                ps.setLong(1, mailbox.value());
                ps.setLong(2, modSeq);
                ps.setLong(3, run[0].value());
                ps.setLong(4, run[1].value());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private void updateRows(MailboxId mailbox, long modSeq, List<MessageRef> changed) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE messages SET flags = ?, keywords = ?, modseq = ? WHERE id = ?")) {
            for (MessageRef r : changed) {
                ps.setInt(1, r.flags().bits());
                ps.setString(2, r.flags().keywordText());
                ps.setLong(3, modSeq);
                ps.setLong(4, Mailboxes.messageKey(mailbox, r.uid().value()));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /**
     * RFC 3501 §6.4.3 EXPUNGE, §6.4.2 CLOSE and RFC 4315 §2.1 UID EXPUNGE: removes those of
     * {@code uids} that have \Deleted as committed, read under the mailbox's lock. The asking
     * session's view may predate another session's STORE that cleared the flag (the user's undo)
     * or set it.
     */
    public List<Uid> expungeDeleted(MailboxId mailbox, Collection<Uid> uids) {
        return run("expunge", () -> {
            Locked m = lock(mailbox);
            if (uids.isEmpty()) {
                return List.of();
            }
            java.util.Set<Uid> wanted = new java.util.HashSet<>(uids);
            List<MessageRef> rows = Mailboxes.readMessages(c, store.contentKeys(),
                    Mailboxes.messageKey(mailbox, java.util.Collections.min(uids).value()),
                    Mailboxes.messageKey(mailbox, java.util.Collections.max(uids).value()), Long.MIN_VALUE,
                    store.db().dialect().bitAnd("flags", Integer.toString(Flag.DELETED.bit())) + " <> 0")
                    .stream().filter(r -> wanted.contains(r.uid())).toList();
            removeRows(mailbox, m, rows, true);
            return rows.stream().map(MessageRef::uid).toList();
        });
    }

    /** Removes messages for good; UIDs that are already gone are ignored. */
    public List<Uid> expunge(MailboxId mailbox, Collection<Uid> uids) {
        return run("expunge", () -> {
            Locked m = lock(mailbox);
            List<MessageRef> rows = load(mailbox, uids);
            removeRows(mailbox, m, rows, true);
            return rows.stream().map(MessageRef::uid).toList();
        });
    }

    public CommitResult commit() {
        if (done) {
            throw new IllegalStateException("transaction already ended");
        }
        run("commit", () -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE mailboxes SET uid_next = ?,"
                    + " message_count = message_count + ?, unseen_count = unseen_count + ?,"
                    + " deleted_count = deleted_count + ?, total_size = total_size + ? WHERE id = ?")) {
                for (Map.Entry<MailboxId, Locked> e : locked.entrySet()) {
                    Locked m = e.getValue();
                    ps.setLong(1, m.uidNext);
                    ps.setLong(2, m.messages);
                    ps.setLong(3, m.unseen);
                    ps.setLong(4, m.deleted);
                    ps.setLong(5, m.size);
                    ps.setLong(6, e.getKey().value());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
            if (storedContent) {
                syncCommitted();
            }
            return null;
        });
        done = true;
        closeQuietly();
        for (Map.Entry<MailboxId, Locked> e : locked.entrySet()) {
            store.changes().publish(e.getKey(), e.getValue().changes);
        }
        return new CommitResult(assigned);
    }

    @Override
    public void close() {
        if (!done) {
            done = true;
            try {
                c.rollback();
            } catch (SQLException e) {
                // the connection is closed next; H2 rolls back an uncommitted transaction on close
            }
            closeQuietly();
        }
    }

    // --- internals

    /**
     * A client's new message (IMAP APPEND, import) is synced to disk before its OK, as SMTP's 250
     * is. The commit has happened either way: a failed sync goes to the log, not to the client,
     * who would otherwise append the message again.
     */
    private void syncCommitted() {
        try {
            store.db().dialect().syncCommitted(c);
        } catch (SQLException e) {
            System.getLogger(Transaction.class.getName()).log(System.Logger.Level.ERROR,
                    "cannot sync the database to disk after an append: " + e.getMessage());
        }
    }

    /** Refused as the client's doing, not as a temporary failure it would try again forever. */
    private static void requireStorable(Flags flags) {
        if (flags.keywordText().length() > Flags.MAX_KEYWORD_TEXT) {
            throw new StoreException(StoreFailure.TOO_BIG, "a message has at most " + Flags.MAX_KEYWORD_TEXT
                    + " characters of keywords");
        }
    }

    private Locked lock(MailboxId mailbox) throws SQLException {
        Locked m = locked.get(mailbox);
        if (m != null) {
            return m;
        }
        if (!writing) {
            store.accountWriters().lock(account);
            writing = true;
        }
        // The UPDATE takes the row lock that orders concurrent writers to this mailbox.
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? AND account_id = ?")) {
            ps.setLong(1, mailbox.value());
            ps.setLong(2, account.value());
            if (ps.executeUpdate() == 0) {
                throw new StoreException(StoreFailure.NOT_FOUND, "no such mailbox");
            }
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT uid_validity, uid_next, highest_modseq FROM mailboxes WHERE id = ?")) {
            ps.setLong(1, mailbox.value());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                m = new Locked(rs.getLong(1), rs.getLong(2), rs.getLong(3));
            }
        }
        locked.put(mailbox, m);
        return m;
    }

    private boolean delivered(MailboxId mailbox, DeliveryKey key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM deliveries WHERE mailbox_id = ? AND delivery_key = ?")) {
            ps.setLong(1, mailbox.value());
            ps.setString(2, key.text());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private void chargeQuota(long bytes, boolean enforce) throws SQLException {
        if (bytes == 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE accounts SET used_bytes = used_bytes + ? WHERE id = ?"
                + (enforce ? " AND (quota_bytes IS NULL OR used_bytes + ? <= quota_bytes)" : ""))) {
            ps.setLong(1, bytes);
            ps.setLong(2, account.value());
            if (enforce) {
                ps.setLong(3, bytes);
            }
            if (ps.executeUpdate() == 0) {
                throw enforce ? new StoreException(StoreFailure.OVER_QUOTA, "mailbox quota exceeded")
                        : new StoreException(StoreFailure.NOT_FOUND, "no such account");
            }
        }
        charged += bytes;
    }

    /** Returns the message's save date. */
    private Instant insertMessage(MailboxId mailbox, Locked m, Uid uid, ContentId content, long size, Instant internalDate,
                                  Flags flags) throws SQLException {
        if (uid.value() > Uid.MAX - 1) {
            throw new StoreException(StoreFailure.TOO_BIG, "mailbox has run out of UIDs");
        }
        if (savedAt == null) {
            savedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO messages (id, mailbox_id, uid, content_id, modseq,"
                + " internal_date, flags, keywords, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, Mailboxes.messageKey(mailbox, uid.value()));
            ps.setLong(2, mailbox.value());
            ps.setLong(3, uid.value());
            ps.setLong(4, content.value());
            ps.setLong(5, m.modSeq);
            ps.setTimestamp(6, Timestamp.from(internalDate));
            ps.setInt(7, flags.bits());
            ps.setString(8, flags.keywordText());
            ps.setTimestamp(9, Timestamp.from(savedAt));
            ps.executeUpdate();
        }
        m.count(1, flags, size);
        return savedAt;
    }

    private void removeRows(MailboxId mailbox, Locked m, List<MessageRef> rows, boolean freeQuota) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM expunged WHERE mailbox_id = ? AND modseq <= ?")) {
            // the expunge log is read only by open views catching up: what all of them have read can go
            ps.setLong(1, mailbox.value());
            ps.setLong(2, store.openViews().prunableUpTo(mailbox, m.modSeq - 1));
            ps.executeUpdate();
        }
        try (PreparedStatement del = c.prepareStatement("DELETE FROM messages WHERE id = ?");
             PreparedStatement log = c.prepareStatement("INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)")) {
            long freed = 0;
            for (MessageRef r : rows) {
                del.setLong(1, Mailboxes.messageKey(mailbox, r.uid().value()));
                del.addBatch();
                log.setLong(1, mailbox.value());
                log.setLong(2, r.uid().value());
                log.setLong(3, m.modSeq);
                log.addBatch();
                freed += r.size();
                m.count(-1, r.flags(), r.size());
                m.changes.add(new MailboxChange.Expunged(r.uid(), m.modSeq));
            }
            del.executeBatch();
            log.executeBatch();
            if (!freeQuota) {
                return;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE accounts SET used_bytes = GREATEST(0, used_bytes - ?) WHERE id = ?")) {
                ps.setLong(1, freed);
                ps.setLong(2, account.value());
                ps.executeUpdate();
            }
            charged -= freed;
        }
    }

    /** Every message from the lowest to the highest of {@code uids}, requested or not, in UID order. */
    private List<MessageRef> loadRange(MailboxId mailbox, Collection<Uid> uids) throws SQLException {
        if (uids.isEmpty()) {
            return new ArrayList<>();
        }
        Uid low = java.util.Collections.min(uids);
        Uid high = java.util.Collections.max(uids);
        return Mailboxes.readMessages(c, store.contentKeys(), Mailboxes.messageKey(mailbox, low.value()),
                Mailboxes.messageKey(mailbox, high.value()), Long.MIN_VALUE);
    }

    /** The listed messages that exist, in UID order. */
    private List<MessageRef> load(MailboxId mailbox, Collection<Uid> uids) throws SQLException {
        java.util.Set<Uid> wanted = new java.util.HashSet<>(uids);
        return loadRange(mailbox, uids).stream().filter(r -> wanted.contains(r.uid())).toList();
    }

    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    private <T> T run(String what, SqlWork<T> work) {
        if (done) {
            throw new IllegalStateException("transaction already ended");
        }
        try {
            return work.run();
        } catch (SQLException e) {
            throw store.db().failure(e, what);
        }
    }

    private void closeQuietly() {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing left to do with a connection that will not close
        } finally {
            try {
                if (writing) {
                    writing = false;
                    store.accountWriters().unlock(account);
                }
            } finally {
                if (!released) {
                    released = true;
                    store.contentWriters().unlock();
                }
            }
        }
    }
}

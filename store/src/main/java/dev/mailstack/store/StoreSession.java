package dev.mailstack.store;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** One user's view of the store, like James's MailboxSession: every mailbox call names its account. */
public final class StoreSession {
    private final MailboxStore store;
    private final AccountId account;

    StoreSession(MailboxStore store, AccountId account) {
        this.store = store;
        this.account = account;
    }

    public AccountId account() {
        return account;
    }

    /** Every mailbox of the account, sorted by name; protocols apply their own patterns. */
    public List<MailboxInfo> list() {
        return query("list mailboxes", c -> {
            List<MailboxInfo> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT " + Mailboxes.COLUMNS + " FROM mailboxes WHERE account_id = ? ORDER BY name")) {
                ps.setLong(1, account.value());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(Mailboxes.read(rs));
                    }
                }
            }
            return out;
        });
    }

    /** Whether a mailbox of the account is below {@code name} (a LIST's \HasChildren for one mailbox). */
    public boolean hasChildren(MailboxName name) {
        return query("look for children", c -> Mailboxes.hasChildren(c, account, name));
    }

    public Optional<MailboxInfo> find(MailboxName name) {
        return query("find mailbox", c -> Mailboxes.find(c, account, name));
    }

    public MailboxInfo require(MailboxName name) {
        return find(name).orElseThrow(() -> new StoreException(StoreFailure.NOT_FOUND, "no mailbox " + name.path()));
    }

    /** Creates the mailbox and any missing parents (RFC 3501 §6.3.3 SHOULD). */
    public MailboxInfo create(MailboxName name, Optional<SpecialUse> use) {
        return write("create mailbox", c -> {
            c.setAutoCommit(false);
            try {
                if (Mailboxes.find(c, account, name).isPresent()) {
                    throw new StoreException(StoreFailure.ALREADY_EXISTS, "mailbox " + name.path() + " exists already");
                }
                List<MailboxName> parents = new ArrayList<>();
                for (Optional<MailboxName> p = name.parent(); p.isPresent(); p = p.get().parent()) {
                    if (Mailboxes.find(c, account, p.get()).isEmpty()) {
                        parents.add(0, p.get());
                    }
                }
                Mailboxes.checkRoom(c, account, parents.size() + 1, store.maxMailboxes());
                for (MailboxName p : parents) {
                    Mailboxes.create(c, account, p, Optional.empty(), false);
                }
                MailboxInfo info = Mailboxes.create(c, account, name, use, false);
                c.commit();
                return info;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                if (e instanceof SQLException s && store.db().dialect().isUniqueViolation(s)) {
                    throw new StoreException(StoreFailure.ALREADY_EXISTS, "mailbox " + name.path() + " exists already");
                }
                throw e;
            }
        });
    }

    /**
     * Deletes an empty-of-children mailbox and its messages. INBOX cannot be deleted (RFC 3501
     * §6.3.4). A subscription to the name stays: the server must not remove it (§6.3.6).
     */
    public void delete(MailboxName name) {
        if (name.isInbox()) {
            throw new StoreException(StoreFailure.NO_PERMISSION, "INBOX cannot be deleted");
        }
        write("delete mailbox", c -> {
            MailboxInfo info = Mailboxes.find(c, account, name)
                    .orElseThrow(() -> new StoreException(StoreFailure.NOT_FOUND, "no mailbox " + name.path()));
            if (Mailboxes.hasChildren(c, account, name)) {
                throw new StoreException(StoreFailure.HAS_CHILDREN, "mailbox " + name.path() + " has children: delete them first");
            }
            c.setAutoCommit(false);
            try {
                long size = 0;
                // The mailbox row first: its lock waits for a transaction appending to it.
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM mailboxes WHERE id = ?")) {
                    ps.setLong(1, info.id().value());
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(c.size), 0)" + Mailboxes.MESSAGE_FROM
                        + " WHERE m.id BETWEEN ? AND ?")) {
                    ps.setLong(1, Mailboxes.messageKey(info.id(), 0));
                    ps.setLong(2, Mailboxes.keyAfter(info.id()));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        size = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM messages WHERE id BETWEEN ? AND ?")) {
                    ps.setLong(1, Mailboxes.messageKey(info.id(), 0));
                    ps.setLong(2, Mailboxes.keyAfter(info.id()));
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE accounts SET used_bytes = GREATEST(0, used_bytes - ?) WHERE id = ?")) {
                    ps.setLong(1, size);
                    ps.setLong(2, account.value());
                    ps.executeUpdate();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
            store.openViews().forget(info.id()); // its id comes back never: only the memory is given back
            return null;
        });
    }

    /**
     * Renames a mailbox and its children. Renaming INBOX moves its messages to the new name and
     * leaves INBOX empty (RFC 3501 §6.3.5).
     */
    public void rename(MailboxName from, MailboxName to) {
        if (from.isInbox()) {
            MailboxInfo target = create(to, Optional.empty());
            MailboxId inbox = require(MailboxName.INBOX).id(); // before the transaction takes its connection
            try (Transaction t = begin()) {
                t.moveAll(inbox, target.id());
                t.commit();
            }
            return;
        }
        if (to.isInbox() || to.isInside(from)) {
            throw new StoreException(StoreFailure.INVALID_NAME, "cannot rename " + from.path() + " to " + to.path());
        }
        write("rename mailbox", c -> {
            c.setAutoCommit(false);
            try {
                Mailboxes.find(c, account, from)
                        .orElseThrow(() -> new StoreException(StoreFailure.NOT_FOUND, "no mailbox " + from.path()));
                if (Mailboxes.find(c, account, to).isPresent()) {
                    throw new StoreException(StoreFailure.ALREADY_EXISTS, "mailbox " + to.path() + " exists already");
                }
                List<MailboxName> parents = new ArrayList<>();
                for (Optional<MailboxName> p = to.parent(); p.isPresent(); p = p.get().parent()) {
                    if (Mailboxes.find(c, account, p.get()).isEmpty()) {
                        parents.add(0, p.get());
                    }
                }
                Mailboxes.checkRoom(c, account, parents.size(), store.maxMailboxes());
                for (MailboxName p : parents) {
                    Mailboxes.create(c, account, p, Optional.empty(), false);
                }
                List<MailboxInfo> moving = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT " + Mailboxes.COLUMNS
                        + " FROM mailboxes WHERE account_id = ? AND (name = ? OR name LIKE ? ESCAPE '\\')")) {
                    ps.setLong(1, account.value());
                    ps.setString(2, from.key());
                    ps.setString(3, likePrefix(from.path() + "/"));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            moving.add(Mailboxes.read(rs));
                        }
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE mailboxes SET name = ? WHERE id = ?")) {
                    for (MailboxInfo m : moving) {
                        // RFC 3501 §6.3.5 renames the children too; each new name must be one (255
                        // code points at most), or the account's every LIST would meet a name it refuses
                        MailboxName renamed = new MailboxName(to.path() + m.name().path().substring(from.path().length()));
                        ps.setString(1, renamed.path());
                        ps.setLong(2, m.id().value());
                        ps.addBatch();
                        // a mailbox's subscription goes with it (what Thunderbird expects after a RENAME);
                        // one of a name with no mailbox stays: it is the user's, not the server's (§6.3.6)
                        if (m.subscribed()) {
                            Subscriptions.remove(c, account, m.name());
                            Subscriptions.add(c, account, renamed);
                        }
                    }
                    ps.executeBatch();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
            return null;
        });
    }

    /**
     * SUBSCRIBE needs the mailbox (RFC 3501 §6.3.6 lets a server check); UNSUBSCRIBE takes any name
     * that is subscribed, also one whose mailbox is gone, which is how such a name is got rid of.
     */
    public void subscribe(MailboxName name, boolean subscribed) {
        write("subscribe", c -> {
            boolean exists = Mailboxes.find(c, account, name).isPresent();
            if (subscribed) {
                if (!exists) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "no mailbox " + name.path());
                }
                long has = Subscriptions.has(c, account, name) ? 0 : Subscriptions.count(c, account);
                if (has >= store.maxMailboxes()) {
                    throw new StoreException(StoreFailure.LIMIT, "the account has " + has + " subscriptions and may have "
                            + store.maxMailboxes() + " (store.max_mailboxes); unsubscribe some first");
                }
                Subscriptions.add(c, account, name);
                return null;
            }
            boolean removed = Subscriptions.remove(c, account, name);
            if (!removed && !exists) {
                throw new StoreException(StoreFailure.NOT_FOUND, "no mailbox " + name.path() + " and no subscription to it");
            }
            return null;
        });
    }

    /** The account's subscribed names, sorted: those of mailboxes that are gone too (LSUB, LIST (SUBSCRIBED)). */
    public List<MailboxName> subscriptions() {
        return query("list subscriptions", c -> Subscriptions.list(c, account));
    }

    /** Counts without loading the messages (recent left at 0: {@link #status(MailboxName, boolean)}). */
    public MailboxStatus status(MailboxName name) {
        return status(name, false);
    }

    /**
     * Counts without loading the messages. The kept counts (V4) make this one row whatever the
     * mailbox holds; {@code withRecent} adds a range scan over the messages no session has seen yet,
     * which for a mailbox nobody selects is all of them, so it is done only when asked for.
     */
    public MailboxStatus status(MailboxName name, boolean withRecent) {
        return query("status", c -> {
            MailboxInfo info = Mailboxes.find(c, account, name)
                    .orElseThrow(() -> new StoreException(StoreFailure.NOT_FOUND, "no mailbox " + name.path()));
            try (PreparedStatement ps = c.prepareStatement("SELECT message_count, unseen_count, deleted_count, total_size,"
                    + (withRecent ? " (SELECT COUNT(*) FROM messages m WHERE m.id > ? + mb.recent_uid AND m.id < ?)"
                    : " 0") + " FROM mailboxes mb WHERE mb.id = ?")) {
                int i = 1;
                if (withRecent) {
                    ps.setLong(i++, Mailboxes.messageKey(info.id(), 0));
                    ps.setLong(i++, Mailboxes.keyAfter(info.id()));
                }
                ps.setLong(i, info.id().value());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new MailboxStatus(info, rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5));
                }
            }
        });
    }

    /** The account's quota and what it uses now (both change with every delivery and expunge). */
    public Quota quota() {
        return query("read quota", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT quota_bytes, used_bytes FROM accounts WHERE id = ?")) {
                ps.setLong(1, account.value());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new StoreException(StoreFailure.NOT_FOUND, "the account was deleted");
                    }
                    long limit = rs.getLong(1);
                    return new Quota(rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(limit), rs.getLong(2));
                }
            }
        });
    }

    /**
     * The octets of the mailbox's messages marked \Deleted: what an EXPUNGE would take off the
     * account's use. A range scan over the mailbox's messages, so asked for only when wanted.
     */
    public long deletedSize(MailboxName name) {
        return query("deleted size", c -> {
            MailboxInfo info = Mailboxes.find(c, account, name)
                    .orElseThrow(() -> new StoreException(StoreFailure.NOT_FOUND, "no mailbox " + name.path()));
            try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(ct.size), 0) FROM messages m"
                    + " JOIN contents ct ON ct.id = m.content_id WHERE m.id > ? AND m.id < ? AND "
                    + store.db().dialect().bitAnd("m.flags", Integer.toString(Flag.DELETED.bit())) + " <> 0")) {
                ps.setLong(1, Mailboxes.messageKey(info.id(), 0));
                ps.setLong(2, Mailboxes.keyAfter(info.id()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /**
     * RFC 3501 §2.3.2 \Recent: a message is recent to the first session that sees it. Raises the
     * mailbox's watermark to {@code upToUid} (when {@code claim}; EXAMINE only looks) and returns
     * where it stood, so this session's recent messages are the UIDs above the returned value.
     */
    public long claimRecent(MailboxId mailbox, long upToUid, boolean claim) {
        long seen = query("recent", c -> recentUid(c, mailbox, false));
        if (!claim || seen >= upToUid) {
            return seen; // the watermark only rises: nothing to write, so no writer's turn
        }
        return write("claim recent", c -> {
            c.setAutoCommit(false);
            try {
                long before = recentUid(c, mailbox, true);
                if (before < upToUid) {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE mailboxes SET recent_uid = ? WHERE id = ?")) {
                        ps.setLong(1, upToUid);
                        ps.setLong(2, mailbox.value());
                        ps.executeUpdate();
                    }
                }
                c.commit();
                return before;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        });
    }

    private long recentUid(Connection c, MailboxId mailbox, boolean forUpdate) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT recent_uid FROM mailboxes WHERE id = ? AND account_id = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
            ps.setLong(1, mailbox.value());
            ps.setLong(2, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "no such mailbox");
                }
                return rs.getLong(1);
            }
        }
    }

    /** A live view of the mailbox; close it when the session leaves the mailbox. */
    public MailboxView select(MailboxName name) {
        return new MailboxView(store, this, require(name));
    }

    public Transaction begin() {
        return new Transaction(store, account);
    }

    /**
     * Appends {@code messages} to {@code mailbox} together or not at all (RFC 3502 MULTIAPPEND; one
     * APPEND is a set of one), the quota checked for the set at the commit. Content first, rows after,
     * as {@link MailQueue#enqueue} does: every content is written and synced, all at once, before the
     * transaction begins, so the mailbox's lock and the account's writer turn ({@link AccountWriters})
     * are held for the inserts only, and a thousand messages' syncs do not hold up deliveries to the
     * account or a STORE in the mailbox. The shared hold on contents ({@link MailboxStore#contentWriters()})
     * spans from the first file to the commit, so no sweep removes a file its row is about to point at.
     * A set that fails (over the quota, say) leaves its files unreferenced, for the sweep.
     */
    public CommitResult append(MailboxId mailbox, List<NewMessage> messages) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("no messages to append");
        }
        try (Transaction t = begin(messages.stream().map(NewMessage::source).toList())) {
            for (NewMessage m : messages) {
                t.appendDurable(mailbox, m);
            }
            return t.commit();
        }
    }

    /**
     * Begins a transaction once {@code contents} are durable, their syncs under way together before
     * it takes a database connection, a mailbox's lock or the account's writer turn: its appends of
     * them ({@link Transaction#append}) find each file in place and wait for no disk, so a message
     * rewritten at delivery (a Sieve-edited copy) does not hold up a STORE, another delivery or a
     * database permit while it syncs. The shared hold on contents is taken before the first file
     * and kept by the transaction until it ends, so no sweep removes a file a row is about to point
     * at. A content never appended (its delivery key found, the transaction rolled back) is left
     * for the sweep.
     */
    public Transaction begin(List<? extends MessageSource> contents) {
        store.contentWriters().lock();
        try {
            try {
                store.contents().putAll(contents);
            } catch (IOException e) {
                throw new StoreException(StoreFailure.TEMPORARY, "cannot write message content: " + e.getMessage(), e);
            }
            return begin(); // takes its own hold (a shared lock, reentrant) before this one is let go
        } finally {
            store.contentWriters().unlock();
        }
    }

    public InputStream openContent(MessageRef message) throws IOException {
        return store.openContent(message, 0, message.size());
    }

    public InputStream openContent(MessageRef message, long offset) throws IOException {
        return store.openContent(message, offset, Math.max(0, message.size() - offset));
    }

    /** The message's RFC 8474 EMAILID ({@link MailboxStore#emailId}). */
    public String emailId(MessageRef message) {
        return store.emailId(message);
    }

    public MessageFacts facts(MessageRef message) {
        return store.facts(message.content());
    }

    MailboxStore store() {
        return store;
    }

    static String likePrefix(String prefix) {
        return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    }

    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * {@link #query} as the account's one writer ({@link AccountWriters}): for work that changes its
     * rows. The connection first, then the writer's turn, as a {@link Transaction} takes them: the
     * writer never waits for a connection that its own waiters hold.
     */
    private <T> T write(String what, SqlWork<T> work) {
        return query(what, c -> {
            store.accountWriters().lock(account);
            try {
                return work.run(c);
            } finally {
                store.accountWriters().unlock(account);
            }
        });
    }

    <T> T query(String what, SqlWork<T> work) {
        try (Connection c = store.db().connect()) {
            return work.run(c);
        } catch (SQLException e) {
            throw store.db().failure(e, what);
        }
    }
}

package dev.mailstack.store;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** SQL on the mailboxes table, shared by account creation and sessions. */
final class Mailboxes {
    static final String COLUMNS = "id, name, uid_validity, uid_next, highest_modseq, special_use, "
            + Subscriptions.SUBSCRIBED + ", object_id";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Mailboxes() {
    }

    /**
     * {@code subscribe}: subscribes the name too. A name subscribed before (a mailbox deleted and
     * made again) stays subscribed either way.
     */
    static MailboxInfo create(Connection c, AccountId account, MailboxName name, Optional<SpecialUse> use,
                              boolean subscribe) throws SQLException {
        long id;
        String objectId = newObjectId();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mailboxes"
                + " (account_id, name, uid_validity, uid_next, highest_modseq, special_use, object_id)"
                + " VALUES (?, ?, 0, 1, 1, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
            ps.setLong(1, account.value());
            ps.setString(2, name.key());
            ps.setString(3, use.map(Enum::name).orElse(null));
            ps.setString(4, objectId);
            ps.executeUpdate();
            try (ResultSet rs = ps.getGeneratedKeys()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        // RFC 3501 §2.3.1.1: a mailbox recreated under an old name must get a new UIDVALIDITY.
        // Mailbox ids are never reused, and time keeps values apart across restored backups.
        long uidValidity = (System.currentTimeMillis() / 1000 + id) & 0x7FFF_FFFFL;
        try (PreparedStatement ps = c.prepareStatement("UPDATE mailboxes SET uid_validity = ? WHERE id = ?")) {
            ps.setLong(1, uidValidity);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
        if (subscribe) {
            Subscriptions.add(c, account, name);
        }
        return new MailboxInfo(new MailboxId(id), name, uidValidity, 1, 1, use,
                subscribe || Subscriptions.has(c, account, name), objectId);
    }

    /** Whether a mailbox of the account is below {@code name}. */
    static boolean hasChildren(Connection c, AccountId account, MailboxName name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM mailboxes WHERE account_id = ?"
                + " AND name LIKE ? ESCAPE '\\' FETCH FIRST 1 ROWS ONLY")) {
            ps.setLong(1, account.value());
            ps.setString(2, StoreSession.likePrefix(name.path() + "/"));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Refuses (LIMIT) {@code adding} more mailboxes when the account would then have more than {@code most}. */
    static void checkRoom(Connection c, AccountId account, int adding, int most) throws SQLException {
        if (adding == 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM mailboxes WHERE account_id = ?")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long has = rs.getLong(1);
                if (has + adding > most) {
                    throw new StoreException(StoreFailure.LIMIT, "the account has " + has + " mailboxes and may have "
                            + most + " (store.max_mailboxes); delete some first");
                }
            }
        }
    }

    /**
     * RFC 8474 §4: a MAILBOXID (1 to 255 of A-Z a-z 0-9 _ -) that no other mailbox ever had. 128
     * random bits make a repeat as unlikely as a UUID's, also across restored backups, and tell a
     * client nothing of other accounts (a row id would count the server's mailboxes). Mailboxes from
     * before schema version 18 get theirs from here too ({@link RandomMailboxIds}).
     */
    static String newObjectId() {
        byte[] bits = new byte[16];
        RANDOM.nextBytes(bits);
        return "F" + Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    }

    static MailboxInfo read(ResultSet rs) throws SQLException {
        String use = rs.getString(6);
        return new MailboxInfo(new MailboxId(rs.getLong(1)), new MailboxName(rs.getString(2)), rs.getLong(3),
                rs.getLong(4), rs.getLong(5), Optional.ofNullable(use).map(SpecialUse::valueOf), rs.getBoolean(7),
                rs.getString(8));
    }

    static Optional<MailboxInfo> find(Connection c, AccountId account, MailboxName name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM mailboxes WHERE account_id = ? AND name = ?")) {
            ps.setLong(1, account.value());
            ps.setString(2, name.key());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    static Optional<MailboxInfo> find(Connection c, MailboxId id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM mailboxes WHERE id = ?")) {
            ps.setLong(1, id.value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(read(rs)) : Optional.empty();
            }
        }
    }

    /**
     * A message's row key (V7): mailbox id times 2^32 plus UID, so one mailbox's messages are one
     * key range in UID order. Mailbox ids stay below 2^31, which keeps every key positive.
     */
    static long messageKey(MailboxId mailbox, long uid) {
        if (mailbox.value() >= 1L << 31) {
            throw new StoreException(StoreFailure.TOO_BIG, "mailbox id " + mailbox.value() + " is past the message key range");
        }
        return (mailbox.value() << 32) + uid;
    }

    /** The key above every message of {@code mailbox}. */
    static long keyAfter(MailboxId mailbox) {
        return messageKey(mailbox, Uid.MAX + 1);
    }

    /** A join of each message to its content, for the sums of sizes; message reads go through {@link #readMessages}. */
    static final String MESSAGE_FROM = " FROM messages m JOIN contents c ON c.id = m.content_id";

    /**
     * The messages whose keys are in {@code [lowKey, highKey]} and whose modseq is above
     * {@code aboveModSeq}, in UID order. The messages table alone is read; each content's size and
     * key come from {@code keys} ({@link ContentKeys}: the join they came from before read every
     * summary too). A message whose content row is gone is left out, as the join left it out.
     */
    static List<MessageRef> readMessages(Connection c, ContentKeys keys, long lowKey, long highKey, long aboveModSeq)
            throws SQLException {
        return readMessages(c, keys, lowKey, highKey, aboveModSeq, null);
    }

    /** As above, only the rows that also meet {@code condition} (an SQL condition on the messages table), if not null. */
    static List<MessageRef> readMessages(Connection c, ContentKeys keys, long lowKey, long highKey, long aboveModSeq,
                                         String condition) throws SQLException {
        List<Row> rows = new ArrayList<>();
        Set<Long> contentIds = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT mailbox_id, uid, modseq, internal_date, flags, keywords,"
                + " content_id, saved_at FROM messages WHERE id BETWEEN ? AND ?"
                + (aboveModSeq > Long.MIN_VALUE ? " AND modseq > ?" : "")
                + (condition != null ? " AND " + condition : "") + " ORDER BY id")) {
            ps.setLong(1, lowKey);
            ps.setLong(2, highKey);
            if (aboveModSeq > Long.MIN_VALUE) {
                ps.setLong(3, aboveModSeq);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Row r = new Row(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getTimestamp(4).toInstant(),
                            Flags.fromColumns(rs.getInt(5), rs.getString(6)), rs.getLong(7), rs.getTimestamp(8).toInstant());
                    rows.add(r);
                    contentIds.add(r.contentId);
                }
            }
        }
        Map<Long, ContentKeys.Entry> contents = keys.resolve(c, contentIds, lowKey, highKey);
        List<MessageRef> out = new ArrayList<>(rows.size());
        MailboxId mailbox = null;
        for (Row r : rows) {
            ContentKeys.Entry content = contents.get(r.contentId);
            if (content == null) {
                continue;
            }
            if (mailbox == null || mailbox.value() != r.mailboxId) {
                mailbox = new MailboxId(r.mailboxId);
            }
            out.add(new MessageRef(mailbox, new Uid(r.uid), r.modSeq, content.size(), r.internalDate, r.flags,
                    new ContentId(r.contentId), content.key(), r.savedAt));
        }
        return out;
    }

    private record Row(long mailboxId, long uid, long modSeq, Instant internalDate, Flags flags, long contentId,
                       Instant savedAt) {
    }
}

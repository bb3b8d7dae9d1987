package dev.mailstack.store;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The outbound and local-delivery queue. {@link #enqueue} returns only after the message and its
 * recipients are committed with no write delay: the moment SMTP may say 250 (STYLE.md R10).
 * Recipient state is kept per recipient, so retries go only to those still pending.
 */
public final class MailQueue {
    enum State { PENDING, DELIVERED, FAILED }

    private final MailboxStore store;

    MailQueue(MailboxStore store) {
        this.store = store;
    }

    public QueueId enqueue(MailEnvelope envelope, MessageSource source, MessageFacts facts) {
        try {
            store.contents().put(source);
        } catch (IOException e) {
            throw new StoreException(StoreFailure.TEMPORARY, "cannot write message content: " + e.getMessage(), e);
        }
        try (Connection c = store.db().connect()) {
            c.setAutoCommit(false);
            try {
                ContentId content = store.ensureContent(c, source.sha256(), facts);
                long id;
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO queue_messages (content_id, return_path, envid,"
                        + " ret, smtputf8, body_8bit, received_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        Statement.RETURN_GENERATED_KEYS)) {
                    ps.setLong(1, content.value());
                    ps.setString(2, envelope.returnPath());
                    ps.setString(3, envelope.envId().orElse(null));
                    ps.setString(4, envelope.ret().orElse(null));
                    ps.setBoolean(5, envelope.smtpUtf8());
                    ps.setBoolean(6, envelope.body8bit());
                    ps.setTimestamp(7, Timestamp.from(envelope.receivedAt()));
                    ps.setTimestamp(8, Timestamp.from(envelope.receivedAt()));
                    ps.executeUpdate();
                    try (ResultSet rs = ps.getGeneratedKeys()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO queue_recipients"
                        + " (queue_id, position, address, orcpt, notify, state) VALUES (?, ?, ?, ?, ?, ?)")) {
                    int position = 0;
                    for (MailEnvelope.Recipient r : envelope.recipients()) {
                        ps.setLong(1, id);
                        ps.setInt(2, position++);
                        ps.setString(3, r.address());
                        ps.setString(4, r.orcpt().orElse(null));
                        ps.setString(5, r.dsnNotify().orElse(null));
                        ps.setString(6, State.PENDING.name());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
                return new QueueId(id);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "enqueue");
        }
    }

    /**
     * Claims the oldest due message for {@code lease}; a runner that dies leaves the lease to run
     * out, and the message is claimed again after a restart.
     */
    public Optional<QueuedMessage> claimDue(Instant now, Duration lease) {
        try (Connection c = store.db().connect()) {
            c.setAutoCommit(false);
            try {
                long id;
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM queue_messages WHERE next_attempt_at <= ?"
                        + " AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_attempt_at, id FETCH FIRST 1 ROWS ONLY")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setTimestamp(2, Timestamp.from(now));
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            c.rollback();
                            return Optional.empty();
                        }
                        id = rs.getLong(1);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET lease_until = ? WHERE id = ?"
                        + " AND (lease_until IS NULL OR lease_until < ?)")) {
                    ps.setTimestamp(1, Timestamp.from(now.plus(lease)));
                    ps.setLong(2, id);
                    ps.setTimestamp(3, Timestamp.from(now));
                    if (ps.executeUpdate() == 0) {
                        c.rollback();
                        return Optional.empty();
                    }
                }
                QueuedMessage m = read(c, id);
                c.commit();
                return Optional.of(m);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "claim queue entry");
        }
    }

    /**
     * Records outcomes for some recipients. When none is left pending the entry is removed;
     * otherwise it is due again at the earliest deferral's next attempt.
     */
    public void record(QueueId id, List<RecipientOutcome> outcomes) {
        try (Connection c = store.db().connect()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("UPDATE queue_recipients SET state = ?,"
                        + " attempts = attempts + 1, last_reply = ? WHERE queue_id = ? AND position = ?")) {
                    for (RecipientOutcome o : outcomes) {
                        String[] stateAndReply = switch (o) {
                            case RecipientOutcome.Delivered d -> new String[]{State.DELIVERED.name(), d.reply()};
                            case RecipientOutcome.Deferred d -> new String[]{State.PENDING.name(), d.reply()};
                            case RecipientOutcome.Failed f -> new String[]{State.FAILED.name(), f.reply()};
                        };
                        ps.setString(1, stateAndReply[0]);
                        ps.setString(2, truncate(stateAndReply[1]));
                        ps.setLong(3, id.value());
                        ps.setInt(4, o.position());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                Instant next = outcomes.stream()
                        .flatMap(o -> o instanceof RecipientOutcome.Deferred d ? java.util.stream.Stream.of(d.nextAttempt())
                                : java.util.stream.Stream.empty())
                        .min(Instant::compareTo).orElse(null);
                long pending;
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT COUNT(*) FROM queue_recipients WHERE queue_id = ? AND state = ?")) {
                    ps.setLong(1, id.value());
                    ps.setString(2, State.PENDING.name());
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        pending = rs.getLong(1);
                    }
                }
                if (pending == 0) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM queue_messages WHERE id = ?")) {
                        ps.setLong(1, id.value());
                        ps.executeUpdate();
                    }
                } else {
                    try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET lease_until = NULL,"
                            + " next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?")) {
                        ps.setTimestamp(1, next == null ? null : Timestamp.from(next));
                        ps.setLong(2, id.value());
                        ps.executeUpdate();
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "record delivery outcome");
        }
    }

    /**
     * Frees every lease. Called when the queue runner starts: one process owns a data folder (the
     * database is locked to it), so a lease still set was held by a process that died, and
     * waiting for it to expire would only delay mail that local delivery makes safe to retry.
     */
    public int releaseLeases() {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET lease_until = NULL WHERE lease_until IS NOT NULL")) {
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw store.db().failure(e, "release queue leases");
        }
    }

    public void markDelayWarned(QueueId id) {
        update("UPDATE queue_messages SET delay_warned = TRUE WHERE id = ?", id);
    }

    /** Makes an entry due now (mailstack queue flush). */
    public void release(QueueId id) {
        update("UPDATE queue_messages SET next_attempt_at = received_at, lease_until = NULL WHERE id = ?", id);
    }

    private void update(String sql, QueueId id) {
        try (Connection c = store.db().connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id.value());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw store.db().failure(e, "update queue entry");
        }
    }

    public List<QueueEntry> list() {
        List<QueueEntry> out = new ArrayList<>();
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("SELECT q.id, q.return_path, q.received_at, q.next_attempt_at, ct.size,"
                     + " (SELECT COUNT(*) FROM queue_recipients r WHERE r.queue_id = q.id AND r.state = 'PENDING'),"
                     + " (SELECT MAX(r.last_reply) FROM queue_recipients r WHERE r.queue_id = q.id)"
                     + " FROM queue_messages q JOIN contents ct ON ct.id = q.content_id ORDER BY q.received_at, q.id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new QueueEntry(new QueueId(rs.getLong(1)), rs.getString(2), rs.getTimestamp(3).toInstant(),
                        rs.getTimestamp(4).toInstant(), rs.getLong(5), rs.getInt(6), rs.getString(7)));
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "list queue");
        }
        return out;
    }

    private QueuedMessage read(Connection c, long id) throws SQLException {
        MailEnvelope envelope;
        ContentId content;
        String key;
        long size;
        boolean warned;
        List<MailEnvelope.Recipient> all = new ArrayList<>();
        List<QueuedMessage.PendingRecipient> pending = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT position, address, notify, orcpt, state, attempts, last_reply"
                + " FROM queue_recipients WHERE queue_id = ? ORDER BY position")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    MailEnvelope.Recipient r = new MailEnvelope.Recipient(rs.getString(2),
                            Optional.ofNullable(rs.getString(3)), Optional.ofNullable(rs.getString(4)));
                    all.add(r);
                    if (State.PENDING.name().equals(rs.getString(5))) {
                        pending.add(new QueuedMessage.PendingRecipient(rs.getInt(1), r, rs.getInt(6), rs.getString(7)));
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT q.return_path, q.envid, q.ret, q.smtputf8, q.body_8bit,"
                + " q.received_at, q.content_id, ct.sha256, ct.size, q.delay_warned"
                + " FROM queue_messages q JOIN contents ct ON ct.id = q.content_id WHERE q.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                envelope = new MailEnvelope(rs.getString(1), all, Optional.ofNullable(rs.getString(2)),
                        Optional.ofNullable(rs.getString(3)), rs.getBoolean(4), rs.getBoolean(5),
                        rs.getTimestamp(6).toInstant());
                content = new ContentId(rs.getLong(7));
                key = rs.getString(8).trim();
                size = rs.getLong(9);
                warned = rs.getBoolean(10);
            }
        }
        return new QueuedMessage(new QueueId(id), envelope, pending, content, key, size, warned);
    }

    private static String truncate(String reply) {
        return reply == null || reply.length() <= 1000 ? reply : reply.substring(0, 1000);
    }
}

package dev.mailstack.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the Sieve duplicate test (RFC 7352) remembers per account: the unique IDs of messages
 * delivered, each under the test's handle, until it expires, one row per message that looked at
 * it with the answer its test got (V21). Delivery asks {@link #seen} while the script runs and
 * writes the marks in the transaction that files the message ({@link Transaction#trackDuplicates}),
 * so they exist exactly when its copy does (§3): a message that failed or was deferred before its
 * copy went in is not a duplicate of itself when tried again, and one tried again after (its
 * outcome not recorded, a redirect not queued) gets the answer it got the first time, whatever
 * other copies came meanwhile.
 */
public final class SieveDuplicates {
    private final Database db;
    private final AccountWriters writers;

    SieveDuplicates(Database db, AccountWriters writers) {
        this.db = db;
        this.writers = writers;
    }

    /**
     * One ID a run's duplicate test looked at: to be kept until {@code period} after the delivery.
     * {@code last} (RFC 7352 §3.3 :last): the period counts from this delivery even if the ID was
     * seen before; otherwise an ID still tracked keeps its expiry, from when it was first seen.
     * {@code duplicate}: what the test answered, which a retry of the same message gets again.
     */
    public record Mark(String handle, String id, Duration period, boolean last, boolean duplicate) {
        public Mark {
            Objects.requireNonNull(handle, "handle");
            Objects.requireNonNull(id, "id");
            if (period.isNegative()) {
                throw new IllegalArgumentException("negative period: " + period);
            }
        }

        /** A mark of a test that found no duplicate. */
        public Mark(String handle, String id, Duration period, boolean last) {
            this(handle, id, period, last, false);
        }
    }

    /**
     * Whether the account's duplicate tracking holds {@code id} under {@code handle}: for the message
     * {@code delivering}, when it was delivered before, the answer it got then ({@link #answered});
     * else whether the delivery of another message tracks it, unexpired at {@code now}.
     */
    public boolean seen(AccountId account, String handle, String id, Instant now, QueueId delivering) {
        return answered(account, handle, id, delivering).orElseGet(() -> {
            try (Connection c = db.connect(); PreparedStatement other = c.prepareStatement("SELECT 1 FROM sieve_duplicates"
                    + " WHERE account_id = ? AND id_hash = ? AND expires_at > ? AND queue_id <> ?")) {
                other.setLong(1, account.value());
                other.setString(2, hash(handle, id));
                other.setTimestamp(3, Timestamp.from(now));
                other.setLong(4, delivering.value());
                try (ResultSet rs = other.executeQuery()) {
                    return rs.next();
                }
            } catch (SQLException e) {
                throw db.failure(e, "read sieve duplicate tracking");
            }
        });
    }

    /**
     * The answer the duplicate test got for {@code id} when {@code delivering} was delivered to the
     * account before (through another of its addresses, or in an attempt whose outcome was not
     * recorded); empty when it was not. A retry gets it again, whatever other copies came meanwhile.
     */
    public Optional<Boolean> answered(AccountId account, String handle, String id, QueueId delivering) {
        try (Connection c = db.connect(); PreparedStatement own = c.prepareStatement("SELECT was_duplicate"
                + " FROM sieve_duplicates WHERE account_id = ? AND id_hash = ? AND queue_id = ?")) {
            own.setLong(1, account.value());
            own.setString(2, hash(handle, id));
            own.setLong(3, delivering.value());
            try (ResultSet rs = own.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBoolean(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw db.failure(e, "read sieve duplicate tracking");
        }
    }

    /**
     * Records the IDs a delivered message's run looked at, as the account's one writer, in one
     * transaction of its own ({@link Transaction#trackDuplicates} does it with the delivery).
     */
    public void record(AccountId account, List<Mark> marks, Instant now, QueueId delivered) {
        if (marks.isEmpty()) {
            return;
        }
        writers.inTransaction(db, account, "record sieve duplicate tracking", c -> write(c, account, marks, now, delivered));
    }

    /** The marks written in {@code c}'s transaction, whose caller is the account's writer; the expired ones pruned on the way. */
    static void write(Connection c, AccountId account, List<Mark> marks, Instant now, QueueId delivered) throws SQLException {
        try (PreparedStatement prune = c.prepareStatement(
                "DELETE FROM sieve_duplicates WHERE account_id = ? AND expires_at <= ?")) {
            prune.setLong(1, account.value());
            prune.setTimestamp(2, Timestamp.from(now));
            prune.executeUpdate();
        }
        for (Mark m : marks) {
            write(c, account, m, now, delivered);
        }
    }

    private static void write(Connection c, AccountId account, Mark m, Instant now, QueueId delivered) throws SQLException {
        String key = hash(m.handle(), m.id());
        Timestamp expires = Timestamp.from(now.plus(m.period()));
        try (PreparedStatement own = c.prepareStatement("SELECT 1 FROM sieve_duplicates"
                + " WHERE account_id = ? AND id_hash = ? AND queue_id = ?")) {
            own.setLong(1, account.value());
            own.setString(2, key);
            own.setLong(3, delivered.value());
            try (ResultSet rs = own.executeQuery()) {
                if (rs.next()) {
                    // delivered again (another address of the account, a retry): its answer stands;
                    // :last counts from the latest delivery (RFC 7352 §3.3)
                    if (m.last()) {
                        try (PreparedStatement update = c.prepareStatement("UPDATE sieve_duplicates SET expires_at = ?"
                                + " WHERE account_id = ? AND id_hash = ? AND queue_id = ?")) {
                            update.setTimestamp(1, expires);
                            update.setLong(2, account.value());
                            update.setString(3, key);
                            update.setLong(4, delivered.value());
                            update.executeUpdate();
                        }
                    }
                    return;
                }
            }
        }
        if (!m.last()) {
            // without :last the ID stays tracked until it expires from its first sighting: this
            // message's row must not make it last longer
            try (PreparedStatement tracked = c.prepareStatement("SELECT MAX(expires_at) FROM sieve_duplicates"
                    + " WHERE account_id = ? AND id_hash = ?")) {
                tracked.setLong(1, account.value());
                tracked.setString(2, key);
                try (ResultSet rs = tracked.executeQuery()) {
                    if (rs.next() && rs.getTimestamp(1) != null) {
                        expires = rs.getTimestamp(1); // the expired ones are gone: this is still ahead
                    }
                }
            }
        }
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO sieve_duplicates"
                + " (account_id, id_hash, queue_id, expires_at, was_duplicate) VALUES (?, ?, ?, ?, ?)")) {
            insert.setLong(1, account.value());
            insert.setString(2, key);
            insert.setLong(3, delivered.value());
            insert.setTimestamp(4, expires);
            insert.setBoolean(5, m.duplicate());
            insert.executeUpdate();
        }
    }

    /** SHA-256 of the handle and the ID with a NUL between, so "ab"+"c" and "a"+"bc" are kept apart. */
    static String hash(String handle, String id) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(handle.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(id.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}

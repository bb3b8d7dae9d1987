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

/**
 * What the Sieve duplicate test (RFC 7352) remembers per account: the unique IDs of messages
 * delivered, each under the test's handle, until it expires. Delivery asks {@link #seen} while the
 * script runs and calls {@link #record} only after the message was delivered (§3), so a message
 * that failed or was deferred is not a duplicate of itself when it is tried again.
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
     */
    public record Mark(String handle, String id, Duration period, boolean last) {
        public Mark {
            Objects.requireNonNull(handle, "handle");
            Objects.requireNonNull(id, "id");
            if (period.isNegative()) {
                throw new IllegalArgumentException("negative period: " + period);
            }
        }
    }

    /**
     * Whether the account's duplicate tracking holds {@code id} under {@code handle}, unexpired at
     * {@code now}, from the delivery of another message than {@code delivering}: a message tried
     * again after its first delivery was recorded is not a duplicate of itself.
     */
    public boolean seen(AccountId account, String handle, String id, Instant now, QueueId delivering) {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT 1 FROM sieve_duplicates"
                + " WHERE account_id = ? AND id_hash = ? AND expires_at > ? AND queue_id <> ?")) {
            ps.setLong(1, account.value());
            ps.setString(2, hash(handle, id));
            ps.setTimestamp(3, Timestamp.from(now));
            ps.setLong(4, delivering.value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw db.failure(e, "read sieve duplicate tracking");
        }
    }

    /**
     * Records the IDs a delivered message's run looked at, as the account's one writer, in one
     * transaction, and prunes the account's expired ones on the way.
     */
    public void record(AccountId account, List<Mark> marks, Instant now, QueueId delivered) {
        if (marks.isEmpty()) {
            return;
        }
        writers.inTransaction(db, account, "record sieve duplicate tracking", c -> {
            try (PreparedStatement prune = c.prepareStatement(
                    "DELETE FROM sieve_duplicates WHERE account_id = ? AND expires_at <= ?")) {
                prune.setLong(1, account.value());
                prune.setTimestamp(2, Timestamp.from(now));
                prune.executeUpdate();
            }
            for (Mark m : marks) {
                write(c, account, m, now, delivered);
            }
        });
    }

    private static void write(Connection c, AccountId account, Mark m, Instant now, QueueId delivered) throws SQLException {
        String key = hash(m.handle(), m.id());
        Timestamp expires = Timestamp.from(now.plus(m.period()));
        // the expired rows are gone: a row still here is tracked, and only :last moves its expiry
        if (m.last()) {
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE sieve_duplicates SET expires_at = ?, queue_id = ? WHERE account_id = ? AND id_hash = ?")) {
                update.setTimestamp(1, expires);
                update.setLong(2, delivered.value());
                update.setLong(3, account.value());
                update.setString(4, key);
                if (update.executeUpdate() > 0) {
                    return;
                }
            }
        } else {
            try (PreparedStatement find = c.prepareStatement(
                    "SELECT 1 FROM sieve_duplicates WHERE account_id = ? AND id_hash = ?")) {
                find.setLong(1, account.value());
                find.setString(2, key);
                try (ResultSet rs = find.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
            }
        }
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO sieve_duplicates (account_id, id_hash, expires_at, queue_id) VALUES (?, ?, ?, ?)")) {
            insert.setLong(1, account.value());
            insert.setString(2, key);
            insert.setTimestamp(3, expires);
            insert.setLong(4, delivered.value());
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

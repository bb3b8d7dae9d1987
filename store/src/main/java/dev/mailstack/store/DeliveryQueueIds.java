package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.flywaydb.core.api.migration.Context;

/**
 * Schema version 19.1: the queue id of each delivery record from before version 19 whose entry is
 * still queued, read from its key ({@link DeliveryKey#queueIdOf}); the records of entries that are
 * gone, nearly all of them, are deleted, as {@link Deliveries#prune} would at the first round, but
 * in one statement (300,000 records: 4 s where filling each row and pruning took 10 s). Nothing is
 * delivered while Flyway works, so no record is being written for an entry found queued. Then
 * the column becomes NOT NULL. In Java because reading hex in SQL takes functions H2 and PostgreSQL
 * do not share. Run again after a crash before Flyway recorded it, it does the same to what is
 * still empty. Registered in {@link Database#open}, as {@link RandomMailboxIds}.
 */
final class DeliveryQueueIds extends JavaMigrationStep {
    private static final int BATCH = 1000;

    DeliveryQueueIds() {
        super("19.1", "delivery queue ids");
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        Set<Long> queued = new HashSet<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM queue_messages")) {
            while (rs.next()) {
                queued.add(rs.getLong(1));
            }
        }
        // One pass over the rows: a store of years holds a row per message ever delivered, too many
        // to hold in memory (H2 keeps a large result on disk; PostgreSQL's driver reads it in pieces
        // with a fetch size inside a transaction). Only the rows of entries still queued are needed.
        try (PreparedStatement read = c.prepareStatement(
                     "SELECT mailbox_id, delivery_key FROM deliveries WHERE queue_id IS NULL");
             PreparedStatement fill = c.prepareStatement(
                     "UPDATE deliveries SET queue_id = ? WHERE mailbox_id = ? AND delivery_key = ?")) {
            read.setFetchSize(BATCH);
            int pending = 0;
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    String key = rs.getString(2);
                    Optional<QueueId> queueId = DeliveryKey.queueIdOf(key);
                    if (queueId.isPresent() && queued.contains(queueId.get().value())) {
                        fill.setLong(1, queueId.get().value());
                        fill.setLong(2, rs.getLong(1));
                        fill.setString(3, key);
                        fill.addBatch();
                        if (++pending == BATCH) {
                            fill.executeBatch();
                            pending = 0;
                        }
                    }
                }
            }
            fill.executeBatch();
        }
        try (Statement st = c.createStatement()) {
            // the rest, in one statement rather than row by row: what the first prune would delete
            st.executeUpdate("DELETE FROM deliveries WHERE queue_id IS NULL");
            st.executeUpdate("ALTER TABLE deliveries ALTER COLUMN queue_id SET NOT NULL");
        }
    }
}

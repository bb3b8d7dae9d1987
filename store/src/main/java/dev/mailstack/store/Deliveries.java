package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.stream.IntStream;

/**
 * The record of each queued message's delivery to a mailbox (V3, {@link DeliveryKey}): a retry of
 * the entry after a crash finds it and stores nothing. A record is needed only while its queue entry
 * exists, since an entry once deleted (delivered to all, bounced, expired, deleted by hand) is never
 * tried again and queue ids are never handed out twice; without pruning the table would keep a row
 * per message ever delivered. Deleting only records whose entry is already gone is what makes the
 * prune safe beside deliveries in flight: the record a delivery writes for a queued entry stays
 * until that entry goes, and one written for an entry deleted meanwhile is of no use to anyone.
 * What it does not cover: a worker that stalled past its lease (renewed every third of one) while
 * a second claimed the entry and finished it, and then, after a prune, goes on to deliver; that
 * worker would send the entry's remote copies a second time as well.
 */
final class Deliveries {
    /** Rows per transaction: deliveries writing beside the prune never wait on a long one. */
    static final int BATCH = 1000;

    /** Deletes the records of queue entries that are gone, {@link #BATCH} to a transaction; how many went. */
    int prune(Connection c) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement find = c.prepareStatement("SELECT d.mailbox_id, d.delivery_key FROM deliveries d"
                + " WHERE NOT EXISTS (SELECT 1 FROM queue_messages q WHERE q.id = d.queue_id) FETCH FIRST ? ROWS ONLY");
             PreparedStatement delete = c.prepareStatement("DELETE FROM deliveries WHERE mailbox_id = ? AND delivery_key = ?")) {
            int pruned = 0;
            while (true) {
                int found = 0;
                find.setInt(1, BATCH);
                try (ResultSet rs = find.executeQuery()) {
                    while (rs.next()) {
                        delete.setLong(1, rs.getLong(1));
                        delete.setString(2, rs.getString(2));
                        delete.addBatch();
                        found++;
                    }
                }
                if (found == 0) {
                    return pruned;
                }
                // by primary key, no check again: an entry found gone stays gone
                int deleted = IntStream.of(delete.executeBatch()).map(n -> Math.max(n, 0)).sum();
                c.commit();
                pruned += deleted;
                if (found < BATCH || deleted == 0) {
                    return pruned; // all there was; or a batch that removed nothing, which would only come back
                }
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }
}

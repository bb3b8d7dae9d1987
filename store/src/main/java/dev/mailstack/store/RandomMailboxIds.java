package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.api.migration.Context;

/**
 * Schema version 18.1: a random MAILBOXID (RFC 8474) for every mailbox from before version 18, made
 * by the generator new mailboxes use ({@link Mailboxes#newObjectId}), so an old mailbox's id looks
 * like a new one's and, unlike one made from its row id, does not tell a client how many mailboxes
 * the server ever had. Then the column becomes NOT NULL. In Java because random ids in SQL would
 * take functions H2 and PostgreSQL do not share. Flyway runs it once, after V18 added the column,
 * and records it: an id once given is never made again. Run again after a crash before Flyway
 * recorded it, it fills only what is still empty. Registered in {@link Database#open}, not found by
 * a classpath scan, so it can keep a Java name and the package stays out of Flyway's locations.
 */
final class RandomMailboxIds extends JavaMigrationStep {
    private static final int BATCH = 1000;

    RandomMailboxIds() {
        super("18.1", "random mailbox ids");
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        List<Long> missing = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id FROM mailboxes WHERE object_id IS NULL")) {
            while (rs.next()) {
                missing.add(rs.getLong(1));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE mailboxes SET object_id = ? WHERE id = ? AND object_id IS NULL")) {
            for (int i = 0; i < missing.size(); i++) {
                ps.setString(1, Mailboxes.newObjectId());
                ps.setLong(2, missing.get(i));
                ps.addBatch();
                if ((i + 1) % BATCH == 0 || i == missing.size() - 1) {
                    ps.executeBatch();
                }
            }
        }
        try (Statement st = c.createStatement()) {
            st.executeUpdate("ALTER TABLE mailboxes ALTER COLUMN object_id SET NOT NULL");
        }
    }
}

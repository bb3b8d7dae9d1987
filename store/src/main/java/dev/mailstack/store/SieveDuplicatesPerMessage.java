package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.api.migration.Context;

/**
 * Schema version 21: the Sieve duplicate test's memory (RFC 7352) gets a row per message that
 * looked at an ID, with the answer its test gave (was_duplicate), in place of one row per ID that
 * a :last moved from message to message. With one row, a message whose first attempt filed it and
 * tracked its ID but could not queue what its script did next (a redirect) lost it for good when a
 * later copy's :last took the row: its retry then found the ID "seen by another message". Now a
 * message asked again gets the answer it got the first time, and another message asks whether any
 * other row is unexpired; :last only gives the later copy's own row a later expiry.
 * <p>A new table, filled, the old one dropped and the new one renamed: dropping a primary key is
 * said differently by H2 and PostgreSQL. Rows from before count as answers of "not a duplicate",
 * which is what a first delivery's answer was. In Java because each step is one statement that H2
 * commits on its own: a server killed half way runs this again at its next start, and it goes on
 * from the step it finds done (V16 and V19 are IF NOT EXISTS for the same reason).
 */
final class SieveDuplicatesPerMessage extends JavaMigrationStep {
    SieveDuplicatesPerMessage() {
        super("21", "sieve duplicates per message");
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        boolean oldTable = exists(c, "sieve_duplicates", null) && !exists(c, "sieve_duplicates", "was_duplicate");
        boolean newTable = exists(c, "sieve_duplicates_v21", null);
        if (!oldTable && !newTable) {
            return; // renamed already: done before Flyway could record it
        }
        try (Statement st = c.createStatement()) {
            if (!newTable) {
                st.executeUpdate("CREATE TABLE sieve_duplicates_v21 ("
                        + " account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
                        + " id_hash CHAR(64) NOT NULL,"
                        + " queue_id BIGINT NOT NULL,"
                        + " expires_at TIMESTAMP WITH TIME ZONE NOT NULL,"
                        + " was_duplicate BOOLEAN NOT NULL,"
                        + " PRIMARY KEY (account_id, id_hash, queue_id))");
            }
            if (oldTable) {
                st.executeUpdate("INSERT INTO sieve_duplicates_v21 (account_id, id_hash, queue_id, expires_at, was_duplicate)"
                        + " SELECT account_id, id_hash, queue_id, expires_at, FALSE FROM sieve_duplicates d WHERE NOT EXISTS"
                        + " (SELECT 1 FROM sieve_duplicates_v21 n WHERE n.account_id = d.account_id"
                        + " AND n.id_hash = d.id_hash AND n.queue_id = d.queue_id)");
                st.executeUpdate("DROP TABLE sieve_duplicates");
            }
            st.executeUpdate("ALTER TABLE sieve_duplicates_v21 RENAME TO sieve_duplicates");
        }
    }

    /** Whether the table (and, when named, its column) exists; names as the SQL above writes them. */
    private static boolean exists(Connection c, String table, String column) throws SQLException {
        String sql = column == null
                ? "SELECT COUNT(*) FROM information_schema.tables WHERE LOWER(table_name) = ?"
                : "SELECT COUNT(*) FROM information_schema.columns WHERE LOWER(table_name) = ? AND LOWER(column_name) = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, table);
            if (column != null) {
                ps.setString(2, column);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }
}

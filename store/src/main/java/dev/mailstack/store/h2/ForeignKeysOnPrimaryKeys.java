package dev.mailstack.store.h2;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;

/**
 * Schema version 6, H2 only. H2 gives each inline REFERENCES its own index even when the primary
 * key already starts with that column, and it updates every index of a row on every UPDATE, so
 * STORE on 10,000 messages maintained four secondary indexes per row where two serve. Each such
 * foreign key is dropped and added again under a stable name (H2 then uses the primary key), and
 * messages_content goes, which duplicated the foreign key's own index on content_id. PostgreSQL
 * creates no index for a foreign key, so there the V1 indexes stay as they are.
 */
public final class ForeignKeysOnPrimaryKeys implements JavaMigration {
    /** Table, column (the primary key's first), referenced table: all ON DELETE CASCADE. */
    private record Key(String table, String column, String referenced) {
    }

    private static final List<Key> KEYS = List.of(
            new Key("MESSAGES", "MAILBOX_ID", "MAILBOXES"),
            new Key("EXPUNGED", "MAILBOX_ID", "MAILBOXES"),
            new Key("DELIVERIES", "MAILBOX_ID", "MAILBOXES"),
            new Key("QUEUE_RECIPIENTS", "QUEUE_ID", "QUEUE_MESSAGES"));

    @Override
    public MigrationVersion getVersion() {
        return MigrationVersion.fromVersion("6");
    }

    @Override
    public String getDescription() {
        return "foreign keys on primary keys";
    }

    @Override
    public Integer getChecksum() {
        return 6;
    }

    @Override
    public boolean canExecuteInTransaction() {
        return true;
    }

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        try (Statement s = c.createStatement()) {
            for (Key k : KEYS) {
                for (String name : constraintNames(c, k)) {
                    s.execute("ALTER TABLE " + k.table() + " DROP CONSTRAINT " + name);
                }
                s.execute("ALTER TABLE " + k.table() + " ADD CONSTRAINT " + k.table() + "_" + k.column() + "_FK"
                        + " FOREIGN KEY (" + k.column() + ") REFERENCES " + k.referenced() + " (ID) ON DELETE CASCADE");
            }
            s.execute("DROP INDEX IF EXISTS MESSAGES_CONTENT");
        }
    }

    private static List<String> constraintNames(Connection c, Key k) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT tc.CONSTRAINT_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS tc"
                + " JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA"
                + " AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME"
                + " WHERE tc.CONSTRAINT_TYPE = 'FOREIGN KEY' AND tc.TABLE_NAME = ? AND k.COLUMN_NAME = ?")) {
            ps.setString(1, k.table());
            ps.setString(2, k.column());
            try (ResultSet rs = ps.executeQuery()) {
                List<String> out = new java.util.ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
                return out;
            }
        }
    }
}

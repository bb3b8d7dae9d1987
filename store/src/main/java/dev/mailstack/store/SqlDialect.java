package dev.mailstack.store;

import java.sql.SQLException;

/** The differences between SQL databases that the store has to know; H2 is the first. */
public interface SqlDialect {
    /** Process-wide settings needed before the first connection. */
    void prepare();

    boolean isUniqueViolation(SQLException e);

    boolean isLockTimeout(SQLException e);

    /** Schema steps only this database needs, merged by version with the portable SQL migrations. */
    java.util.List<org.flywaydb.core.api.migration.JavaMigration> migrations();

    /** A statement that writes a consistent copy of the live database to {@code file}. */
    String onlineBackup(java.nio.file.Path file);
}

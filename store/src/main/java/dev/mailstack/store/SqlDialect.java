package dev.mailstack.store;

import java.sql.SQLException;

/** The differences between SQL databases that the store has to know; H2 is the first. */
public interface SqlDialect {
    /** Process-wide settings needed before the first connection. */
    void prepare();

    /** Settings of the open database that no URL may leave out; run once, right after it opens. */
    void configure(java.sql.Connection c) throws SQLException;

    boolean isUniqueViolation(SQLException e);

    boolean isLockTimeout(SQLException e);

    /** Flyway locations of schema steps only this database needs, merged by version with the portable ones. */
    java.util.List<String> migrationLocations();

    /**
     * Makes everything committed so far survive a power cut, not only a killed process; called
     * where a client is told its message is safe (SMTP 250, IMAP APPEND OK).
     */
    void syncCommitted(java.sql.Connection c) throws SQLException;

    /** Bitwise OR of two integer expressions (H2: BITOR(a, b); PostgreSQL: a | b). */
    String bitOr(String a, String b);

    /** Bitwise AND of two integer expressions (H2: BITAND(a, b); PostgreSQL: a & b). */
    String bitAnd(String a, String b);

    /** A statement that writes a consistent copy of the live database to {@code file}. */
    String onlineBackup(java.nio.file.Path file);

    /**
     * Closes the database for good through {@code c}, the only connection left, the way that
     * leaves its files tidiest (H2: compacted), when this process is the one holding it open; a
     * process that reaches another's database (the CLI beside a running server) leaves it alone.
     */
    void shutdown(java.sql.Connection c) throws SQLException;

    /** Gives back what the dialect holds for the open database (H2: the file it syncs). */
    default void close() {
    }
}

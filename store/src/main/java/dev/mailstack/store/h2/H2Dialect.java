package dev.mailstack.store.h2;

import dev.mailstack.store.SqlDialect;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;

/** Everything H2-specific in one place: the default URL, durability settings, error codes. */
public final class H2Dialect implements SqlDialect {
    /**
     * WRITE_DELAY=0: H2 otherwise acknowledges a commit up to 500 ms before writing it
     * (Constants.DEFAULT_WRITE_DELAY), and a SIGKILL in that window loses mail we said 250 to.
     * AUTO_SERVER lets the CLI work on the data folder while the server holds it open; its port
     * is bound to loopback only (h2.bindAddress, set in {@link #prepare()}). QUERY_CACHE_SIZE: H2
     * keeps 8 parsed statements per connection by default, fewer than one queue pass uses, and
     * re-parsing SQL was a tenth of the delivery path's CPU.
     */
    public static String defaultUrl(Path dataDir) {
        return "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("mailstack")
                + ";WRITE_DELAY=0;LOCK_TIMEOUT=10000;QUERY_CACHE_SIZE=64;AUTO_SERVER=TRUE";
    }

    @Override
    public void prepare() {
        System.setProperty("h2.bindAddress", "127.0.0.1");
    }

    /**
     * OPTIMIZE_REUSE_RESULTS off: H2 2.3 may hand a prepared query the result of its previous run
     * although another connection committed a change in between (h2database issues 3894, 4208: a
     * lost update under concurrent writers). Seen here as a mailbox view that missed an expunge:
     * a stale read of the mailbox row's modseq. Every query runs afresh instead.
     */
    @Override
    public void configure(java.sql.Connection c) throws SQLException {
        try (java.sql.Statement s = c.createStatement()) {
            s.execute("SET OPTIMIZE_REUSE_RESULTS FALSE");
        }
    }

    @Override
    public List<String> migrationLocations() {
        return List.of("classpath:db/migration/h2");
    }

    /**
     * H2 writes each commit to the file (WRITE_DELAY=0) but never fsyncs it; CHECKPOINT SYNC forces
     * the file to the device, about 0.3 ms here, once per group of commits.
     */
    @Override
    public void syncCommitted(java.sql.Connection c) throws SQLException {
        try (java.sql.Statement s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
        }
    }

    @Override
    public String bitOr(String a, String b) {
        return "BITOR(" + a + ", " + b + ")";
    }

    @Override
    public String bitAnd(String a, String b) {
        return "BITAND(" + a + ", " + b + ")";
    }

    @Override
    public boolean isUniqueViolation(SQLException e) {
        // 23505 is the standard SQLSTATE; H2 reports DUPLICATE_KEY_1 = 23505 as well.
        return "23505".equals(e.getSQLState());
    }

    /**
     * SHUTDOWN compacts the file for up to MAX_COMPACT_TIME (200 ms) as it closes: the space a burst
     * of mail left behind (H2 keeps freed chunks 45 s, RETENTION_TIME) is given back. H2 does the same
     * when its last connection closes, but not when a JVM shutdown hook closes it.
     */
    @Override
    public void shutdown(java.sql.Connection c) throws SQLException {
        try (java.sql.Statement s = c.createStatement()) {
            // Only the process that holds the database open: with AUTO_SERVER, the CLI run beside a
            // server reaches the server's database over TCP (its session has a client address), and
            // a SHUTDOWN from it would close the database under the running server.
            try (java.sql.ResultSet rs = s.executeQuery(
                    "SELECT CLIENT_ADDR FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID = SESSION_ID()")) {
                if (!rs.next() || rs.getString(1) != null) {
                    return;
                }
            }
            s.execute("SHUTDOWN");
        }
    }

    /** H2's BACKUP TO: a consistent zip of the database while it is in use. */
    @Override
    public String onlineBackup(Path file) {
        return "BACKUP TO '" + file.toAbsolutePath().toString().replace("'", "''") + "'";
    }

    @Override
    public boolean isLockTimeout(SQLException e) {
        return e.getErrorCode() == 50200 || "HYT00".equals(e.getSQLState()) || e.getErrorCode() == 40001;
    }
}

package dev.mailstack.store.h2;

import dev.mailstack.store.SqlDialect;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** Everything H2-specific in one place: the default URL, durability settings, error codes. */
public final class H2Dialect implements SqlDialect {
    /** The database file syncCommitted syncs; null until first needed, empty when there is none to open. */
    private volatile Optional<RandomAccessFile> file;

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
     * H2 writes each commit to the file in the committing thread (WRITE_DELAY=0: MVStore.commit
     * stores the chunk before the commit returns) but never syncs it. CHECKPOINT SYNC would store
     * once more (a chunk of whatever other sessions changed meanwhile, under H2's store lock) and
     * then sync, inside a method synchronized on the whole database, so that every committer waited
     * for every sync; an fsync of the file makes the same commits durable without either. Where
     * the URL names no file this process can open (tcp:, mem:, a path from ~), CHECKPOINT SYNC.
     * Through a RandomAccessFile's descriptor, not a FileChannel: an interrupted thread closes a
     * channel under it, and closing any descriptor of the file drops H2's lock on it (POSIX locks
     * belong to the process and the file), so this one is closed only once H2 is shut.
     */
    @Override
    public void syncCommitted(java.sql.Connection c) throws SQLException {
        Optional<RandomAccessFile> file = databaseFile(c);
        if (file.isPresent()) {
            try {
                file.get().getFD().sync();
                return;
            } catch (IOException e) {
                // the file is gone or closed with the database: H2's own way below
            }
        }
        try (java.sql.Statement s = c.createStatement()) {
            s.execute("CHECKPOINT SYNC");
        }
    }

    private Optional<RandomAccessFile> databaseFile(java.sql.Connection c) throws SQLException {
        Optional<RandomAccessFile> known = file;
        if (known == null) {
            synchronized (this) {
                known = file;
                if (known == null) {
                    known = fileOf(c.getMetaData().getURL()).flatMap(H2Dialect::openToSync);
                    file = known;
                }
            }
        }
        return known;
    }

    /** The .mv.db file of a {@code jdbc:h2:file:} URL, when it is there. */
    static Optional<Path> fileOf(String url) {
        String prefix = "jdbc:h2:file:";
        if (url == null || !url.startsWith(prefix)) {
            return Optional.empty();
        }
        String name = url.substring(prefix.length());
        int settings = name.indexOf(';');
        name = settings < 0 ? name : name.substring(0, settings);
        if (name.isEmpty() || name.startsWith("~")) {
            return Optional.empty();
        }
        Path path = Path.of(name + ".mv.db");
        return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
    }

    private static Optional<RandomAccessFile> openToSync(Path path) {
        try {
            return Optional.of(new RandomAccessFile(path.toFile(), "r"));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Whether commits are synced through the database file (else through CHECKPOINT SYNC). */
    boolean syncsThroughFile() {
        Optional<RandomAccessFile> known = file;
        return known != null && known.isPresent();
    }

    /** Called once H2 is shut (see syncCommitted on closing the file). */
    @Override
    public void close() {
        Optional<RandomAccessFile> known = file;
        if (known != null && known.isPresent()) {
            try {
                known.get().close();
            } catch (IOException e) {
                // nothing was written through it
            }
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

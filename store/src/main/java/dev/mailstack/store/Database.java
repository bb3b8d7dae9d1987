package dev.mailstack.store;

import dev.mailstack.store.h2.H2Dialect;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.migration.JavaMigration;

/**
 * The SQL database behind the store: a small connection pool, a permit per connection so virtual
 * threads queue here instead of piling into JDBC (STYLE.md §2), and Flyway migrations on open.
 */
public final class Database implements AutoCloseable {
    /** About the core count: H2 serialises much of its work anyway (h2database#3824). */
    static final int DEFAULT_CONNECTIONS = 8;
    static final String[] MIGRATIONS = {"classpath:db/migration/store", "classpath:db/migration/queue"};
    /** Migrations in Java, between the SQL ones by version: what SQL shared by H2 and PostgreSQL cannot do. */
    private static final List<JavaMigration> JAVA_MIGRATIONS = List.of(new RandomMailboxIds(), new DeliveryQueueIds(),
            new SieveDuplicatesPerMessage(), new MailboxNamesNetUnicode());

    private final ConnectionPool pool;
    private final SqlDialect dialect;
    private final Semaphore permits;
    private volatile boolean closed;

    private Database(ConnectionPool pool, SqlDialect dialect, int connections) {
        this.pool = pool;
        this.dialect = dialect;
        this.permits = new Semaphore(connections, true);
    }

    /** Opens (creating if needed) and migrates the database at {@code jdbcUrl}. */
    public static Database open(String jdbcUrl) {
        return open(jdbcUrl, null);
    }

    /** Opens and migrates up to {@code targetVersion} (null: latest); tests use it to build old schemas. */
    public static Database open(String jdbcUrl, String targetVersion) {
        return open(jdbcUrl, targetVersion, true);
    }

    /**
     * Opens the database without migrating it: for a command beside a running server, which owns
     * the schema. A schema of another version than this build's is refused, saying which side is
     * older: migrating it from here would change the tables under a server that does not know the
     * new ones (an upgrade installed, the service not restarted yet), and writing to a newer one
     * would leave out what its server needs.
     */
    public static Database openAsItIs(String jdbcUrl) {
        return open(jdbcUrl, null, false);
    }

    private static Database open(String jdbcUrl, String targetVersion, boolean migrate) {
        if (!jdbcUrl.startsWith("jdbc:h2:")) {
            throw new StoreException(StoreFailure.TEMPORARY,
                    "unsupported JDBC URL " + jdbcUrl + ": this build supports H2 (jdbc:h2:...)");
        }
        SqlDialect dialect = new H2Dialect();
        dialect.prepare();
        ConnectionPool pool = new ConnectionPool(jdbcUrl, dialect);
        List<String> locations = new ArrayList<>(List.of(MIGRATIONS));
        locations.addAll(dialect.migrationLocations());
        var flyway = Flyway.configure().dataSource(jdbcUrl, "mailstack", "").locations(locations.toArray(String[]::new))
                .javaMigrations(JAVA_MIGRATIONS.toArray(JavaMigration[]::new));
        if (targetVersion != null) {
            flyway.target(targetVersion);
        }
        try (java.sql.Connection c = pool.lend(() -> { })) {
            // A configured connection stays open in the pool, and with it the database, while Flyway works.
            if (migrate) {
                flyway.load().migrate();
            } else {
                requireCurrentSchema(flyway.load().info());
            }
        } catch (StoreException e) {
            pool.close();
            throw e;
        } catch (java.sql.SQLException e) {
            pool.close();
            throw new StoreException(StoreFailure.TEMPORARY, "cannot open " + jdbcUrl + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            pool.close();
            throw new StoreException(StoreFailure.TEMPORARY, "cannot open or migrate " + jdbcUrl + ": " + e.getMessage(), e);
        }
        return new Database(pool, dialect, DEFAULT_CONNECTIONS);
    }

    private static void requireCurrentSchema(MigrationInfoService info) {
        MigrationInfo current = info.current();
        String version = current == null ? "none" : current.getVersion().getVersion();
        if (info.pending().length > 0) {
            String latest = info.pending()[info.pending().length - 1].getVersion().getVersion();
            throw new StoreException(StoreFailure.TEMPORARY, "the database is at schema version " + version
                    + ", older than this mailstack's (" + latest + "): the server that runs on it is an older mailstack."
                    + " Restart it (systemctl restart mailstack) so that it upgrades the database as it starts, then"
                    + " run this again");
        }
        if (Arrays.stream(info.applied()).anyMatch(m -> m.getState() == MigrationState.FUTURE_SUCCESS)) {
            throw new StoreException(StoreFailure.TEMPORARY, "the database is at schema version " + version
                    + ", newer than this mailstack knows: the server that runs on it is a newer mailstack; use its"
                    + " mailstack command");
        }
    }

    public static String defaultUrl(Path dataDir) {
        return H2Dialect.defaultUrl(dataDir);
    }

    SqlDialect dialect() {
        return dialect;
    }

    /**
     * A connection with a permit; closing it returns both. After {@link #close()} every call fails
     * with TEMPORARY (the caller's protocol answers "try again later").
     */
    Connection connect() {
        requireOpen();
        try {
            if (!permits.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new StoreException(StoreFailure.TEMPORARY, "database busy: no connection within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException(StoreFailure.TEMPORARY, "interrupted waiting for the database");
        }
        try {
            requireOpen(); // closed while this caller waited for a permit
            return pool.lend(permits::release);
        } catch (SQLException e) {
            permits.release();
            throw closed ? closedFailure(e) : failure(e, "connect");
        } catch (RuntimeException e) {
            permits.release();
            throw e;
        }
    }

    private void requireOpen() {
        if (closed) {
            throw closedFailure(null);
        }
    }

    private static StoreException closedFailure(Exception cause) {
        return new StoreException(StoreFailure.TEMPORARY, "store is closed", cause);
    }

    StoreException failure(SQLException e, String what) {
        if (dialect.isLockTimeout(e)) {
            return new StoreException(StoreFailure.TEMPORARY, what + ": database busy, try again", e);
        }
        return new StoreException(StoreFailure.TEMPORARY, what + " failed: " + e.getMessage(), e);
    }

    /**
     * Refuses new connections from now on. Connections already handed out keep working until their
     * holder closes them (a transaction in flight at shutdown still commits or rolls back); the pool
     * closes each as it comes back.
     */
    @Override
    public void close() {
        closed = true;
        pool.close();
        // With every connection back (none lent can come later: closed), the database is shut here
        // rather than by the JVM's exit, so that it compacts its file; otherwise it closes when the last
        // lent connection comes back.
        if (permits.tryAcquire(DEFAULT_CONNECTIONS)) {
            try {
                pool.shutdownDatabase();
                dialect.close(); // only once H2 is shut: see H2Dialect.syncCommitted
            } catch (SQLException e) {
                LOG.log(System.Logger.Level.WARNING, "database shutdown: " + e.getMessage());
            }
        } else {
            LOG.log(System.Logger.Level.INFO, "database closes when its " + (DEFAULT_CONNECTIONS - permits.availablePermits())
                    + " connection(s) in use come back");
        }
    }

    private static final System.Logger LOG = System.getLogger(Database.class.getName());
}

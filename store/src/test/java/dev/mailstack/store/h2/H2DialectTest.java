package dev.mailstack.store.h2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class H2DialectTest {
    @TempDir
    Path dir;

    /** What syncCommitted syncs itself: the .mv.db file of a file URL, when it is there; nothing else. */
    @Test
    void theFileSyncedIsTheDatabaseFileOfAFileUrl() throws Exception {
        Path base = dir.resolve("mailstack");
        assertEquals(Optional.empty(), H2Dialect.fileOf(H2Dialect.defaultUrl(dir)), "not created yet");
        Files.createFile(dir.resolve("mailstack.mv.db"));
        assertEquals(Optional.of(Path.of(base + ".mv.db")), H2Dialect.fileOf(H2Dialect.defaultUrl(dir)));
        assertEquals(Optional.of(Path.of(base + ".mv.db")), H2Dialect.fileOf("jdbc:h2:file:" + base));
        for (String other : new String[] {"jdbc:h2:tcp://localhost/" + base, "jdbc:h2:mem:x", "jdbc:h2:file:~/mailstack",
                "jdbc:h2:" + base, "jdbc:postgresql://localhost/mailstack", ""}) {
            assertEquals(Optional.empty(), H2Dialect.fileOf(other), other);
        }
    }

    /**
     * A commit synced through the file, and through CHECKPOINT SYNC where there is none to sync (an
     * in-memory database) or once the dialect let it go: the row is there after each, and no sync
     * fails.
     */
    @Test
    void aCommitIsSyncedThroughTheFileOrElseThroughCheckpointSync() throws Exception {
        H2Dialect dialect = new H2Dialect();
        for (String url : new String[] {H2Dialect.defaultUrl(dir), "jdbc:h2:mem:synced"}) {
            try (Connection c = DriverManager.getConnection(url, "mailstack", "")) {
                dialect.configure(c);
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute("CREATE TABLE t (v INT)");
                    for (int i = 1; i <= 2; i++) {
                        s.execute("INSERT INTO t VALUES (" + i + ")");
                        c.commit();
                        dialect.syncCommitted(c);
                        assertEquals(url.contains(":file:"), dialect.syncsThroughFile(), url);
                        dialect.close(); // the second round syncs through CHECKPOINT SYNC
                    }
                    try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
                        rs.next();
                        assertEquals(2, rs.getInt(1), url);
                    }
                }
            }
            dialect = new H2Dialect();
        }
    }
}

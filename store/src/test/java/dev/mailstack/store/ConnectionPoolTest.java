package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pool lends one physical connection again and again: nothing a borrower left behind may leak to the next. */
class ConnectionPoolTest {
    @TempDir
    Path dir;
    ConnectionPool pool;
    int returned;

    @BeforeEach
    void open() throws SQLException {
        pool = new ConnectionPool("jdbc:h2:file:" + dir.resolve("db") + ";WRITE_DELAY=0", new dev.mailstack.store.h2.H2Dialect());
        try (Connection c = pool.lend(() -> returned++); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (v INT)");
        }
    }

    @AfterEach
    void close() {
        pool.close();
    }

    private int rows() throws SQLException {
        try (Connection c = pool.lend(() -> returned++); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t")) {
            rs.next();
            assertTrue(c.getAutoCommit(), "every borrower starts in auto-commit mode");
            return rs.getInt(1);
        }
    }

    @Test
    void uncommittedWorkIsRolledBackAndCommittedWorkKept() throws SQLException {
        try (Connection c = pool.lend(() -> returned++); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("INSERT INTO t VALUES (1)");
            c.commit();
            s.execute("INSERT INTO t VALUES (2)");
            // returned without a commit
        }
        assertEquals(1, rows());
        try (Connection c = pool.lend(() -> returned++); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("INSERT INTO t VALUES (3)");
            c.commit();
        }
        assertEquals(2, rows());
    }

    @Test
    void aReturnedConnectionRefusesUseAndReturnsOnce() throws SQLException {
        int before = returned;
        Connection c = pool.lend(() -> returned++);
        c.close();
        c.close();
        assertEquals(before + 1, returned);
        assertTrue(c.isClosed());
        assertThrows(SQLException.class, c::createStatement);
    }
}

package dev.mailstack.store;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Physical connections kept open between uses. H2's own JdbcConnectionPool rolls back on every
 * checkout and again on every return, two statements per use that were a tenth of the SMTP path's
 * CPU; this pool rolls back only a connection used in manual-commit mode since its last commit
 * or rollback (its statements count as uses too). How many
 * connections exist at once is bounded by the caller's permits ({@link Database}).
 */
final class ConnectionPool implements AutoCloseable {
    private final String url;
    private final SqlDialect dialect;
    private final Deque<Connection> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    ConnectionPool(String url, SqlDialect dialect) {
        this.url = url;
        this.dialect = dialect;
    }

    /** A connection whose close() comes back here and then runs {@code onReturn}, exactly once. */
    Connection lend(Runnable onReturn) throws SQLException {
        Connection physical = idle.pollFirst();
        if (physical == null) {
            physical = DriverManager.getConnection(url, "mailstack", "");
            try {
                dialect.configure(physical); // each new connection: it may be the one that (re)opened the database
            } catch (SQLException e) {
                physical.close();
                throw e;
            }
        }
        return wrap(physical, onReturn);
    }

    private Connection wrap(Connection physical, Runnable onReturn) {
        AtomicBoolean returned = new AtomicBoolean();
        // [0] lent in manual-commit mode, [1] used since the last commit or rollback
        boolean[] state = {false, false};
        InvocationHandler handler = (proxy, method, args) -> {
            String name = method.getName();
            if (name.equals("close") && method.getParameterCount() == 0) {
                if (returned.compareAndSet(false, true)) {
                    try {
                        giveBack(physical, state[0], state[0] && state[1]);
                    } finally {
                        onReturn.run();
                    }
                }
                return null;
            }
            if (name.equals("isClosed") && method.getParameterCount() == 0 && returned.get()) {
                return true;
            }
            if (returned.get()) {
                throw new SQLException("connection already returned to the pool");
            }
            switch (name) {
                case "setAutoCommit" -> state[0] |= Boolean.FALSE.equals(args[0]);
                case "commit", "rollback" -> state[1] = false;
                default -> state[1] = true;
            }
            Object result = invoke(method, physical, args);
            return result instanceof Statement statement ? watch(statement, method.getReturnType(), state) : result;
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[]{Connection.class},
                handler);
    }

    /** A statement that marks its connection as used whenever it runs, even after a commit. */
    private static Object watch(Statement statement, Class<?> type, boolean[] state) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().startsWith("execute") || method.getName().equals("addBatch")) {
                state[1] = true;
            }
            return invoke(method, statement, args);
        };
        return Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[]{type}, handler);
    }

    private static Object invoke(Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private void giveBack(Connection physical, boolean manualCommit, boolean maybeUncommitted) {
        try {
            if (maybeUncommitted) {
                // whatever the borrower left uncommitted is undone, as closing a connection would
                physical.rollback();
            }
            if (manualCommit) {
                physical.setAutoCommit(true);
            }
            if (!closed) {
                idle.addFirst(physical);
                if (closed && idle.remove(physical)) {
                    closeQuietly(physical); // close() ran meanwhile and drained before we added
                }
                return;
            }
        } catch (SQLException e) {
            // a connection that cannot be reset is not lent again
        }
        closeQuietly(physical);
    }

    @Override
    public void close() {
        closed = true;
        Connection c;
        while ((c = idle.pollFirst()) != null) {
            closeQuietly(c);
        }
    }

    /** After {@link #close()}, with no connection lent: closes the database itself ({@link SqlDialect#shutdown}). */
    void shutdownDatabase() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "mailstack", "")) {
            dialect.shutdown(c);
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing for good; nothing left to do with it
        }
    }
}

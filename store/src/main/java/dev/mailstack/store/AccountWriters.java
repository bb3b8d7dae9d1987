package dev.mailstack.store;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One writer at a time per account in this process, from its first write to the account's rows
 * (mailboxes, messages, quota) until its commit or rollback. Taken after the writer has its
 * database connection and never while asking for another, so that a writer cannot wait for a
 * connection held by those waiting for it.
 *
 * <p>Why not leave it to the database's row locks: H2 (2.3.232, and 2.4.240 and 2.5.252 alike) can
 * lose a committed update when a transaction waited for a row lock held by one that then rolled
 * back. With 32 threads each doing {@code UPDATE ... SET n = n + 1}, one in seven rolling back,
 * about one increment in ten thousand is lost, so a UID or modseq could be handed out twice and a
 * view miss a change. Writers of one account that never wait on each other inside H2 never meet
 * that path. Other accounts' writers (each account has a lock of its own), the queue and the
 * content sweep are not held up. Another process writing through H2's auto-server would not be
 * covered, which is why {@code mailstack import} and {@code mailstack user} hand their changes to
 * the running server (the server module's control socket) instead: a password, a quota or the
 * deletion of an account change the account's row, which deliveries change too ({@code used_bytes}).
 */
final class AccountWriters {
    /** As long as the database waits for a row lock (H2Dialect's LOCK_TIMEOUT). */
    static final Duration WAIT = Duration.ofSeconds(10);
    /** The accounts with a writer or writers waiting; an account leaves when the last one is done. */
    private final Map<AccountId, Turn> turns = new ConcurrentHashMap<>();

    private static final class Turn {
        final ReentrantLock lock = new ReentrantLock();
        /** Writers holding or waiting for the lock; changed only inside the map's compute. */
        int writers;
    }

    /** Waits for the account's other writer to finish; past {@link #WAIT}, a temporary failure. */
    void lock(AccountId account) {
        Turn turn = turns.compute(account, (k, t) -> {
            Turn held = t == null ? new Turn() : t;
            held.writers++;
            return held;
        });
        boolean locked = false;
        try {
            locked = turn.lock.tryLock(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!locked) {
                leave(account);
            }
        }
        if (!locked) {
            throw new StoreException(StoreFailure.TEMPORARY,
                    "another change to this account's mailboxes is taking too long; try again");
        }
    }

    /** What one transaction does with its connection. */
    interface Work {
        void run(java.sql.Connection c) throws java.sql.SQLException;
    }

    /**
     * {@code work} in one transaction of its own, as the account's one writer: committed, or rolled
     * back when anything fails. {@code what} names it in a failure.
     */
    void inTransaction(Database db, AccountId account, String what, Work work) {
        try (java.sql.Connection c = db.connect()) {
            lock(account);
            try {
                c.setAutoCommit(false);
                work.run(c);
                c.commit();
            } catch (java.sql.SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                unlock(account);
            }
        } catch (java.sql.SQLException e) {
            throw db.failure(e, what);
        }
    }

    void unlock(AccountId account) {
        try {
            turns.get(account).lock.unlock();
        } finally {
            leave(account);
        }
    }

    /** Accounts with a writer or a waiting one (for tests: the map does not grow with the accounts). */
    int busy() {
        return turns.size();
    }

    /** Writers of the account holding or waiting for its turn (for tests: that one waits). */
    int writers(AccountId account) {
        int[] writers = {0};
        turns.computeIfPresent(account, (k, t) -> { // read where it is written: inside the map's compute
            writers[0] = t.writers;
            return t;
        });
        return writers[0];
    }

    private void leave(AccountId account) {
        turns.computeIfPresent(account, (k, t) -> --t.writers == 0 ? null : t);
    }
}

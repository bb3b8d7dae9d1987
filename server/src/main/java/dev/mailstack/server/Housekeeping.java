package dev.mailstack.server;

import dev.mailstack.store.Backup;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.SpecialUse;
import dev.mailstack.store.StoreException;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The store's upkeep while the server runs, at one interval: mail left in Trash and Junk past the
 * configured days is expunged (Dovecot's autoexpunge); lapsed vacation replies, Sieve duplicate
 * IDs and greylist entries are pruned, and so are the delivery records of queue entries that are
 * gone (a record only keeps a retry of its entry from delivering twice); and the message files no
 * mailbox or queue entry uses any more (expunged mail, deleted users' mail) are removed through
 * {@link MailboxStore#sweepContents}, where a content goes at the second sweep that finds it unused.
 * The interval is twice the longest a session may stay silent, so no session can still hold a
 * message it has not yet seen expunged. At start, before any client uses the store, every unused
 * file goes at once. A database copy a killed backup left in the data folder goes once it is a
 * day old, at start as while running: a backup may run while the server starts (root's, which
 * takes no lock, or one begun beside the server that stopped), and none is still writing or
 * reading its copy a day later.
 */
final class Housekeeping implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Housekeeping.class.getName());
    /** How long a sweep waits for deliveries in flight before trying again at the next interval. */
    private static final Duration LOCK_WAIT = Duration.ofSeconds(2);

    /** Days mail may lie in each account's Trash and Junk from when it was put there; 0: for ever. */
    record Retention(int trashDays, int junkDays) {
        static Retention of(Config config) {
            return new Retention(config.integer(ConfigKey.AUTOEXPUNGE_TRASH), config.integer(ConfigKey.AUTOEXPUNGE_JUNK));
        }
    }

    private final MailboxStore store;
    private final Path dataDir;
    private final Duration interval;
    private final Clock clock;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread thread;
    /** Replaced by a SIGHUP; read at each round. */
    private volatile Retention retention;

    private Housekeeping(MailboxStore store, Path dataDir, Duration interval, Retention retention, Clock clock) {
        this.store = store;
        this.dataDir = dataDir;
        this.interval = interval;
        this.clock = clock;
        this.retention = retention;
        // Stopped by a latch, never by an interrupt: an interrupted thread in H2's file I/O closes the file under it.
        this.thread = Thread.ofVirtual().name("housekeeping").unstarted(this::run);
    }

    /** Before the queue runner and the listeners start: nothing can be about to read an unused content. */
    static void sweepAtStart(MailboxStore store, Path dataDir) {
        try {
            report(store.collectGarbage(Duration.ZERO));
        } catch (StoreException e) {
            // The files stay until the first sweep while running; nothing is lost.
            LOG.log(Level.WARNING, "sweep: failed at start, unused message files stay for now error=\"{0}\"",
                    e.getMessage());
        }
        removeLeftovers(store);
        removeAbandonedBackupCopies(dataDir, Instant.now().minus(ABANDONED_BACKUP_AGE));
    }

    /** How old a backup's database copy must be for a running server to take it for abandoned. */
    static final Duration ABANDONED_BACKUP_AGE = Duration.ofDays(1);

    private static void removeAbandonedBackupCopies(Path dataDir, Instant cutoff) {
        try {
            int removed = Backup.removeAbandonedCopies(dataDir, cutoff);
            if (removed > 0) {
                LOG.log(Level.INFO, "sweep: removed database copies killed backups left behind count={0}", removed);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "sweep: database copies of killed backups stay until the next round error=\"{0}\"",
                    e.getMessage());
        }
    }

    /** A file a writer has not committed within this long was left by one that died (or was refused). */
    static final Duration LEFTOVER_AGE = Duration.ofHours(1);

    private static void removeLeftovers(MailboxStore store) {
        try {
            int removed = store.removeLeftovers(LEFTOVER_AGE, LOCK_WAIT);
            if (removed < 0) {
                LOG.log(Level.INFO, "sweep: deliveries kept the store busy; leftover files wait for the next round");
            } else if (removed > 0) {
                LOG.log(Level.INFO, "sweep: removed files a stopped or refused write left behind count={0}", removed);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "sweep: leftover files stay until the next round error=\"{0}\"", e.getMessage());
        }
    }

    /**
     * A round at once (autoexpunge does not wait an interval after a restart), then every {@code
     * interval}; {@link #close} lets a round under way finish, the first one included.
     */
    static Housekeeping start(MailboxStore store, Path dataDir, Duration interval, Retention retention, Clock clock) {
        Housekeeping h = new Housekeeping(store, dataDir, interval, retention, clock);
        h.thread.start();
        return h;
    }

    /** Twice the longest silence allowed: the configured idle timeout, or IMAP's 30 minutes (RFC 3501 §5.4). */
    static Duration intervalFor(Duration idleTimeout) {
        return Duration.ofSeconds(2 * Math.max(idleTimeout.toSeconds(), 1800));
    }

    /** A SIGHUP's new retention, used from the next round on. */
    void apply(Retention fresh) {
        retention = fresh;
    }

    private void run() {
        try {
            expireAndPrune();
            removeAbandonedBackupCopies(dataDir, clock.instant().minus(ABANDONED_BACKUP_AGE));
            while (!stopped.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
                expireAndPrune();
                removeAbandonedBackupCopies(dataDir, clock.instant().minus(ABANDONED_BACKUP_AGE));
                sweep();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void expireAndPrune() {
        Retention r = retention;
        autoexpunge(SpecialUse.TRASH, r.trashDays());
        autoexpunge(SpecialUse.JUNK, r.junkDays());
        try {
            store.pruneExpiredTracking(clock.instant());
        } catch (RuntimeException e) { // StoreException, or a bug: the thread must outlive it, or nothing is swept again
            LOG.log(Level.WARNING, "prune: lapsed vacation replies, duplicate IDs, greylist entries and the delivery"
                    + " records of finished queue entries stay until the next round error=\"{0}\"", e.getMessage());
        }
    }

    private void autoexpunge(SpecialUse use, int days) {
        if (days <= 0) {
            return;
        }
        try {
            int expunged = store.autoexpunge(use, clock.instant().minus(Duration.ofDays(days)));
            if (expunged > 0) {
                LOG.log(Level.INFO, "autoexpunge: removed mail kept longer than its period mailbox={0} days={1} count={2}",
                        use.attribute(), days, expunged);
            }
        } catch (RuntimeException e) {
            // what was expunged before the failure stays expunged; the rest goes at the next round
            LOG.log(Level.WARNING, "autoexpunge: failed, the rest waits for the next round mailbox={0} error=\"{1}\"",
                    use.attribute(), e.getMessage());
        }
    }

    private void sweep() {
        removeLeftovers(store);
        try {
            int removed = store.sweepContents(LOCK_WAIT);
            if (removed < 0) {
                LOG.log(Level.INFO, "sweep: deliveries kept the store busy; trying again in {0} s", interval.toSeconds());
            } else {
                report(removed);
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "sweep: failed, unused message files stay until the next sweep error=\"{0}\"",
                    e.getMessage());
        }
    }

    private static void report(int removed) {
        if (removed > 0) {
            LOG.log(Level.INFO, "sweep: removed message contents no mailbox or queue entry uses count={0}", removed);
        }
    }

    @Override
    public void close() {
        stopped.countDown();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

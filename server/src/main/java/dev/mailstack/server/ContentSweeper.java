package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.StoreException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Removes message contents that no mailbox and no queue entry points at any more (expunged mail,
 * a deleted account's mail): once at start, before anything else uses the store, then every hour.
 * Without it the disk only ever grows.
 */
final class ContentSweeper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ContentSweeper.class.getName());
    private static final Duration EVERY = Duration.ofHours(1);
    /** Younger contents may be about to be reused by a transaction in flight (see collectGarbage). */
    private static final Duration MIN_AGE = Duration.ofHours(1);

    private final MailboxStore store;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread thread;

    private ContentSweeper(MailboxStore store) {
        this.store = store;
        // Woken by the latch, never interrupted: an interrupt in H2's file I/O closes the database file.
        this.thread = Thread.ofVirtual().name("content-sweeper").start(this::loop);
    }

    /** Sweeps once now, every content regardless of age: nothing else runs on the store yet. */
    static ContentSweeper start(MailboxStore store) {
        sweep(store, Duration.ZERO);
        return new ContentSweeper(store);
    }

    private void loop() {
        try {
            while (!closed.await(EVERY.toMillis(), TimeUnit.MILLISECONDS)) {
                sweep(store, MIN_AGE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sweep(MailboxStore store, Duration minAge) {
        try {
            int removed = store.collectGarbage(minAge);
            if (removed > 0) {
                LOG.log(Level.INFO, "sweep: removed message contents no mailbox or queue entry uses count={0}", removed);
            }
        } catch (StoreException e) {
            // The next sweep tries again; a content raced by a new reference is kept by its foreign key.
            LOG.log(Level.WARNING, "sweep: failed, retried in an hour error=\"{0}\"", e.getMessage());
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed.countDown();
        thread.join();
    }
}

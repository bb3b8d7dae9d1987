package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.StoreException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Removes the message files no mailbox or queue entry uses any more (expunged mail, deleted users'
 * mail): all at once at start, before any client uses the store, and while the server runs through
 * {@link MailboxStore#sweepContents}, where a content goes at the second sweep that finds it
 * unused. The interval is twice the longest a session may stay silent, so no session can still
 * hold a message it has not yet seen expunged.
 */
final class ContentSweeper implements AutoCloseable {
    private static final Logger LOG = System.getLogger(ContentSweeper.class.getName());
    /** How long a sweep waits for deliveries in flight before trying again at the next interval. */
    private static final Duration LOCK_WAIT = Duration.ofSeconds(2);

    private final MailboxStore store;
    private final Duration interval;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread thread;

    private ContentSweeper(MailboxStore store, Duration interval) {
        this.store = store;
        this.interval = interval;
        // Stopped by a latch, never by an interrupt: an interrupted thread in H2's file I/O closes the file under it.
        this.thread = Thread.ofVirtual().name("content-sweeper").unstarted(this::run);
    }

    /** Before the queue runner and the listeners start: nothing can be about to read an unused content. */
    static void sweepAtStart(MailboxStore store) {
        try {
            report(store.collectGarbage(Duration.ZERO));
        } catch (StoreException e) {
            // The files stay until the first sweep while running; nothing is lost.
            LOG.log(Level.WARNING, "sweep: failed at start, unused message files stay for now error=\"{0}\"",
                    e.getMessage());
        }
    }

    /** Every {@code interval}; {@link #intervalFor} gives the one the server uses. */
    static ContentSweeper start(MailboxStore store, Duration interval) {
        ContentSweeper s = new ContentSweeper(store, interval);
        s.thread.start();
        return s;
    }

    /** Twice the longest silence allowed: the configured idle timeout, or IMAP's 30 minutes (RFC 3501 §5.4). */
    static Duration intervalFor(Duration idleTimeout) {
        return Duration.ofSeconds(2 * Math.max(idleTimeout.toSeconds(), 1800));
    }

    private void run() {
        try {
            while (!stopped.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
                sweep();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sweep() {
        try {
            int removed = store.sweepContents(LOCK_WAIT);
            if (removed < 0) {
                LOG.log(Level.INFO, "sweep: deliveries kept the store busy; trying again in {0} s", interval.toSeconds());
            } else {
                report(removed);
            }
        } catch (StoreException e) {
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

package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.StoreException;
import java.lang.System.Logger.Level;
import java.time.Duration;

/**
 * Removes message contents that no mailbox and no queue entry points at any more (expunged mail,
 * a deleted account's mail), at start, before the queue runner or any client uses the store.
 * Only then is it safe: while the server runs, a delivery of the same octets can reuse a content
 * (it is found by its SHA-256 without a lock) in the moment between the sweep's check and its
 * removal of the file. Sweeping a running server needs a protocol for that first (NOTES.md).
 */
final class ContentSweeper {
    private static final System.Logger LOG = System.getLogger(ContentSweeper.class.getName());

    private ContentSweeper() {
    }

    static void sweepAtStart(MailboxStore store) {
        try {
            int removed = store.collectGarbage(Duration.ZERO);
            if (removed > 0) {
                LOG.log(Level.INFO, "sweep: removed message contents no mailbox or queue entry uses count={0}", removed);
            }
        } catch (StoreException e) {
            // The files stay until the next start; nothing is lost.
            LOG.log(Level.WARNING, "sweep: failed, unused message files stay until the next start error=\"{0}\"",
                    e.getMessage());
        }
    }
}

package dev.mailstack.store;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Tells every listener in the process, right after a commit, which mailboxes changed and how;
 * IMAP sessions and IDLE wake on it. Listeners must not block: they note the change and return.
 */
public final class ChangeBus {
    private final Map<MailboxId, List<Consumer<List<MailboxChange>>>> listeners = new ConcurrentHashMap<>();

    /** Listens to one mailbox until the returned handle is closed. */
    public AutoCloseable subscribe(MailboxId mailbox, Consumer<List<MailboxChange>> listener) {
        listeners.computeIfAbsent(mailbox, k -> new CopyOnWriteArrayList<>()).add(listener);
        return () -> {
            List<Consumer<List<MailboxChange>>> l = listeners.get(mailbox);
            if (l != null) {
                l.remove(listener);
            }
        };
    }

    void publish(MailboxId mailbox, List<MailboxChange> changes) {
        if (changes.isEmpty()) {
            return;
        }
        List<Consumer<List<MailboxChange>>> l = listeners.get(mailbox);
        if (l == null) {
            return;
        }
        List<MailboxChange> copy = List.copyOf(changes);
        for (Consumer<List<MailboxChange>> c : l) {
            try {
                c.accept(copy);
            } catch (RuntimeException e) {
                System.getLogger(ChangeBus.class.getName()).log(System.Logger.Level.WARNING,
                        "change listener failed mailbox=" + mailbox.value(), e);
            }
        }
    }
}

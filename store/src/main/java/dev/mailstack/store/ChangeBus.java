package dev.mailstack.store;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Tells every listener in the process, right after a commit, which mailboxes changed and how;
 * IMAP sessions and IDLE wake on it. It also tells when an account was deleted, so that the
 * account's sessions (IMAP, POP3, SMTP) end instead of going on with an account that is gone.
 * Listeners must not block: they note the change and return.
 */
public final class ChangeBus {
    private final Map<MailboxId, List<Consumer<List<MailboxChange>>>> listeners = new ConcurrentHashMap<>();
    private final Map<AccountId, List<Runnable>> removals = new ConcurrentHashMap<>();

    /** Listens to one mailbox until the returned handle is closed. */
    public AutoCloseable subscribe(MailboxId mailbox, Consumer<List<MailboxChange>> listener) {
        // as for accounts below: inside the map's compute, and an emptied list goes (every mailbox
        // ever selected kept an entry)
        listeners.compute(mailbox, (k, l) -> {
            List<Consumer<List<MailboxChange>>> held = l == null ? new CopyOnWriteArrayList<>() : l;
            held.add(listener);
            return held;
        });
        return () -> listeners.computeIfPresent(mailbox, (k, l) -> {
            l.remove(listener);
            return l.isEmpty() ? null : l;
        });
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

    /**
     * Runs {@code onRemoved} when the account is deleted, until the returned handle is closed.
     * {@link Accounts#watch} is the way in for a session: it also covers a deletion just before.
     */
    AutoCloseable subscribe(AccountId account, Runnable onRemoved) {
        // add and remove inside the map's compute, so that a list emptied meanwhile is never added to
        removals.compute(account, (k, l) -> {
            List<Runnable> held = l == null ? new CopyOnWriteArrayList<>() : l;
            held.add(onRemoved);
            return held;
        });
        return () -> removals.computeIfPresent(account, (k, l) -> {
            l.remove(onRemoved);
            return l.isEmpty() ? null : l;
        });
    }

    void publishRemoved(AccountId account) {
        List<Runnable> l = removals.remove(account);
        if (l == null) {
            return;
        }
        for (Runnable r : l) {
            try {
                r.run();
            } catch (RuntimeException e) {
                System.getLogger(ChangeBus.class.getName()).log(System.Logger.Level.WARNING,
                        "account removal listener failed account=" + account.value(), e);
            }
        }
    }

    /** Accounts with a removal listener (for tests: the map does not keep accounts nobody watches). */
    int watchedAccounts() {
        return removals.size();
    }
}

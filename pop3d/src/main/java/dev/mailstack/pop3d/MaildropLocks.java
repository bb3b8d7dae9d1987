package dev.mailstack.pop3d;

import dev.mailstack.store.AccountId;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * One POP3 session per maildrop at a time (RFC 1939 §4 "exclusive-access lock", RFC 2449 §8.1.2
 * [IN-USE]). In-process only: every POP3 endpoint of the server shares one instance through
 * {@link Pop3Protocol}. IMAP sessions do not take it and keep working on the same INBOX.
 */
final class MaildropLocks {
    private final Set<AccountId> held = ConcurrentHashMap.newKeySet();

    /** The lock, or empty when another session holds it. */
    private Optional<Lease> tryLock(AccountId account) {
        return held.add(account) ? Optional.of(new Lease(account)) : Optional.empty();
    }

    /**
     * Opens the account's maildrop under its lock: empty when another session holds it. The lock
     * stays held only when {@code open} returns a maildrop, which then owns it; on every other path,
     * an Error (OutOfMemoryError, StackOverflowError) included, it is released, or the account would
     * get [IN-USE] until a restart.
     */
    Optional<Maildrop> open(AccountId account, Function<Lease, Maildrop> open) {
        Optional<Lease> lease = tryLock(account);
        if (lease.isEmpty()) {
            return Optional.empty();
        }
        boolean opened = false;
        try {
            Maildrop drop = open.apply(lease.get());
            opened = true;
            return Optional.of(drop);
        } finally {
            if (!opened) {
                lease.get().close();
            }
        }
    }

    boolean isHeld(AccountId account) {
        return held.contains(account);
    }

    /** A held lock; closing it more than once releases it once. */
    final class Lease implements AutoCloseable {
        private final AccountId account;
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Lease(AccountId account) {
            this.account = account;
        }

        @Override
        public void close() {
            if (open.compareAndSet(true, false)) {
                held.remove(account);
            }
        }
    }
}

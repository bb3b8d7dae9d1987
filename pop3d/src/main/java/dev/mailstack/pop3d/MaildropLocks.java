package dev.mailstack.pop3d;

import dev.mailstack.store.AccountId;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One POP3 session per maildrop at a time (RFC 1939 §4 "exclusive-access lock", RFC 2449 §8.1.2
 * [IN-USE]). In-process only: every POP3 endpoint of the server shares one instance through
 * {@link Pop3Protocol}. IMAP sessions do not take it and keep working on the same INBOX.
 */
final class MaildropLocks {
    private final Set<AccountId> held = ConcurrentHashMap.newKeySet();

    /** The lock, or empty when another session holds it. */
    Optional<Lease> tryLock(AccountId account) {
        return held.add(account) ? Optional.of(new Lease(account)) : Optional.empty();
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

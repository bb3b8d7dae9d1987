package dev.mailstack.pop3d;

import dev.mailstack.store.AccountId;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** One POP3 session per maildrop at a time (RFC 1939 §8, RFC 2449 [IN-USE]); IMAP is not affected. */
final class MaildropLocks {
    private final Set<AccountId> held = ConcurrentHashMap.newKeySet();

    boolean tryLock(AccountId account) {
        return held.add(account);
    }

    void unlock(AccountId account) {
        held.remove(account);
    }
}

package dev.mailstack.sieve;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * What a script may ask about the account it runs for, which only the delivery side knows: its
 * mailboxes. Answers may throw the caller's own unchecked exceptions (a store that cannot answer
 * now); they pass through the run unchanged, so the delivery can be tried again.
 */
public interface SieveAccount {
    /**
     * RFC 5490 §3.1 {@code mailboxexists}: whether the account has this mailbox, named as fileinto
     * gives it (UTF-8, '/' between levels). INBOX is never asked about: it always exists.
     */
    boolean mailboxExists(String name);

    /** An account that only answers mailboxexists, through {@code mailboxExists}. */
    static SieveAccount of(Predicate<String> mailboxExists) {
        Objects.requireNonNull(mailboxExists, "mailboxExists");
        return mailboxExists::test;
    }
}

package dev.mailstack.sieve;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What a script may ask about the account it runs for, which only the delivery side knows: its
 * mailboxes and the scripts include finds (RFC 6609). Answers may throw the caller's own unchecked exceptions (a store that cannot answer
 * now); they pass through the run unchanged, so the delivery can be tried again.
 */
public interface SieveAccount {
    /**
     * RFC 5490 §3.1 {@code mailboxexists}: whether the account has this mailbox, named as fileinto
     * gives it (UTF-8, '/' between levels). INBOX is never asked about: it always exists.
     */
    boolean mailboxExists(String name);

    /**
     * RFC 6609 §3.2 {@code include :personal}: the account's own script of that name (a stored
     * script, active or not), parsed; empty when there is none. Throws when it does not parse.
     */
    default Optional<SieveScript> personalScript(String name) throws SieveException {
        return Optional.empty();
    }

    /**
     * RFC 6609 §3.2 {@code include :global}: the site's script of that name, parsed; empty when
     * there is none (or no place for global scripts is configured). Throws when it does not parse.
     */
    default Optional<SieveScript> globalScript(String name) throws SieveException {
        return Optional.empty();
    }

    /**
     * RFC 7352 {@code duplicate}: whether an earlier delivered message's run recorded this ID under
     * this handle, and it has not expired. Asked at most once per handle and ID in a run.
     */
    default boolean seenBefore(String handle, String id) {
        return false;
    }

    /**
     * RFC 8579: the name of a mailbox of the account's with this special-use attribute (RFC 6154,
     * e.g. "\\Junk"; case-insensitive), as fileinto names it; empty when none has it.
     */
    default Optional<String> mailboxWithSpecialUse(String attribute) {
        return Optional.empty();
    }

    /** RFC 8579 §3: whether the mailbox exists and has this special-use attribute. */
    default boolean hasSpecialUse(String mailbox, String attribute) {
        return false;
    }

    /** An account that only answers mailboxexists, through {@code mailboxExists}. */
    static SieveAccount of(Predicate<String> mailboxExists) {
        Objects.requireNonNull(mailboxExists, "mailboxExists");
        return mailboxExists::test;
    }
}

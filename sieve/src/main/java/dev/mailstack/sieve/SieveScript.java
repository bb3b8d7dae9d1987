package dev.mailstack.sieve;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A Sieve script (RFC 5228) parsed and checked, ready to run against any number of messages.
 * Immutable and safe to share between threads; each {@link #run} has its own state. The text's
 * size is the caller's to limit (ManageSieve's quota); everything else is bounded here: nesting
 * ({@value SieveParser#MAX_NESTING}), string lists ({@value SieveParser#MAX_STRING_LIST}),
 * variables ({@value SieveParser#MAX_VARIABLES}, each {@value Variables#MAX_VALUE_LENGTH}
 * characters), actions ({@value ActionList#MAX_ACTIONS}) and redirects
 * ({@value ActionList#MAX_REDIRECTS}) per run.
 */
public final class SieveScript {
    /** Redirects one run may do (Dovecot Pigeonhole's sieve_max_redirects); ManageSieve announces it as MAXREDIRECTS. */
    public static final int MAX_REDIRECTS = ActionList.MAX_REDIRECTS;
    /** The extensions this implementation offers, as `require` and ManageSieve's SIEVE capability name them. */
    public static final List<String> EXTENSIONS = List.of("fileinto", "envelope", "body", "encoded-character", "imap4flags",
            "copy", "subaddress", "vacation", "vacation-seconds", "mailbox", "relational",
            "comparator-i;ascii-numeric", "variables", "reject", "ereject", "date", "index", "environment", "ihave", "include", "duplicate", "special-use", "enotify",
            "spamtest", "spamtestplus", "virustest", "editheader");

    /**
     * Whether {@code require} and {@code ihave} (RFC 5463 §4) find this extension, named in lower
     * case: one of {@link #EXTENSIONS}, or one of the two comparators every script has, which RFC
     * 5228 §2.7.3 lets a script require needlessly.
     */
    static boolean supports(String extension) {
        return EXTENSIONS.contains(extension) || extension.equals("comparator-i;octet")
                || extension.equals("comparator-i;ascii-casemap");
    }

    private final List<Command> commands;
    private final Set<String> required;
    /** Where the script came from (an administrator's file), for its runtime errors; empty for a user's. */
    private final Optional<String> origin;

    private SieveScript(List<Command> commands, Set<String> required, Optional<String> origin) {
        this.commands = commands;
        this.required = required;
        this.origin = origin;
    }

    /** Parses and checks a script; throws with the line and a reason a user can act on. */
    public static SieveScript parse(String text) throws SieveException {
        return parse(text, Optional.empty());
    }

    /** As {@link #parse(String)}, for a script read from {@code origin} (a file), which its runtime errors then name. */
    public static SieveScript parse(String text, Optional<String> origin) throws SieveException {
        SieveParser.Parsed parsed = SieveParser.parse(Objects.requireNonNull(text, "text"));
        return new SieveScript(parsed.commands(), parsed.required(), origin);
    }

    /** The file the script was read from, if it was given. */
    public Optional<String> origin() {
        return origin;
    }

    /** The extensions the script requires, lower-cased. */
    public Set<String> required() {
        return required;
    }

    /**
     * Runs the script against one message. {@code mailboxExists} answers the mailbox extension's
     * {@code mailboxexists} test (RFC 5490 §3.1) for the user being delivered to, with names as
     * fileinto gives them (UTF-8, '/' between levels); INBOX always exists. Never throws for
     * anything the script does: runtime errors are in the outcome. Throws {@link
     * java.io.UncheckedIOException} when a body test cannot read the message's body.
     */
    public SieveOutcome run(SieveMessage message, Predicate<String> mailboxExists) {
        return run(message, SieveAccount.of(mailboxExists), SieveEnvironment.local());
    }

    /**
     * Runs the script as {@link #run(SieveMessage, Predicate)} does, in a given environment: the
     * clock and zone the date extension reads (RFC 5260) and the items of the environment test
     * (RFC 5183), asking {@code account} what the tests need to know of the account. The
     * two-argument run uses {@link SieveEnvironment#local()}.
     */
    public SieveOutcome run(SieveMessage message, SieveAccount account, SieveEnvironment environment) {
        return AdminScripts.NONE.run(Optional.of(this), message, account, environment);
    }

    /** Runs the script's commands within an execution it may share with other scripts. */
    void runIn(Execution run) throws Interpreter.Failure {
        new Interpreter(run, required).run(commands);
    }
}

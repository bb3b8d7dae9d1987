package dev.mailstack.sieve;

import java.util.List;

/**
 * The state one delivery's execution shares across every script it runs: the administrator's
 * before-scripts, the user's script and the after-scripts (Pigeonhole's sieve_before and
 * sieve_after), with one action list and one implicit keep; the message and the account; the
 * internal flags variable (RFC 5232 §3), {@code stop} (which ends the whole execution, RFC 5228
 * §3.3), and the matching work, bounded for the execution as a whole.
 */
final class Execution {
    final SieveMessage message;
    final SieveAccount account;
    final SieveEnvironment environment;
    /** RFC 5260 §5: every currentdate of one run sees the same instant, taken when the run starts. */
    final long startSecond;
    final ActionList actions = new ActionList();
    List<String> internalFlags = List.of();
    boolean stopped;
    /** The body test's values, read when one first runs (RFC 5173). */
    BodyValues body;
    /** Matching done so far, against {@link Interpreter#MAX_WORK}. */
    long work;

    Execution(SieveMessage message, SieveAccount account, SieveEnvironment environment) {
        this.message = message;
        this.account = account;
        this.environment = environment;
        this.startSecond = environment.clock().instant().getEpochSecond();
    }
}

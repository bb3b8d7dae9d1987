package dev.mailstack.sieve;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The administrator's scripts that run around every user's script at delivery, as Dovecot
 * Pigeonhole's sieve_before and sieve_after: the before-scripts first, then the user's active
 * script (if any), then the after-scripts, as one execution with one action list and one implicit
 * keep. As Pigeonhole's multiscript does, the next script runs only while the implicit keep is
 * still in effect: a before-script's {@code fileinto "Junk";} keeps a user's script from filing
 * spam back into INBOX, and after-scripts cannot second-guess where the user's script filed a
 * message; {@code stop} ends only the script it is in, so a before-script's allow-list rule that
 * stops leaves the user's own filters to run. Each
 * script has its own {@code require}s and variables; the internal flags variable of imap4flags
 * (RFC 5232 §3) is the execution's, so a before-script's {@code addflag} marks the implicit keep.
 */
public record AdminScripts(List<SieveScript> before, List<SieveScript> after) {
    /** No administrator scripts: only the user's runs. */
    public static final AdminScripts NONE = new AdminScripts(List.of(), List.of());

    public AdminScripts {
        before = List.copyOf(before);
        after = List.copyOf(after);
    }

    public boolean isEmpty() {
        return before.isEmpty() && after.isEmpty();
    }

    /**
     * Runs the before-scripts, {@code personal} and the after-scripts against one message. A
     * runtime error in one of them ends the execution: the actions of the scripts before it stand,
     * its own are dropped, and the implicit keep is added (RFC 5228 §2.10.6, as Pigeonhole's
     * multiscript does); the error says which script it was in. Never throws for anything a script
     * does; what {@code account} throws passes through.
     */
    public SieveOutcome run(Optional<SieveScript> personal, SieveMessage message, SieveAccount account,
            SieveEnvironment environment) {
        return run(personal, Optional.empty(), message, account, environment);
    }

    /**
     * {@link #run(Optional, SieveMessage, SieveAccount, SieveEnvironment)}, knowing the name the
     * account stored its script under: an include of that name from within it is a loop, and an
     * include :once of it is skipped (RFC 6609 §3.2), as for any script already running.
     */
    public SieveOutcome run(Optional<SieveScript> personal, Optional<String> personalName, SieveMessage message,
            SieveAccount account, SieveEnvironment environment) {
        Execution run = new Execution(Objects.requireNonNull(message, "message"), Objects.requireNonNull(account, "account"),
                Objects.requireNonNull(environment, "environment"));
        List<SieveScript> sequence = new ArrayList<>(before);
        personal.ifPresent(sequence::add);
        int firstAfter = sequence.size();
        sequence.addAll(after);
        for (int i = 0; i < sequence.size() && !run.actions.implicitKeepCancelled(); i++) {
            ActionList.Snapshot snapshot = run.actions.snapshot();
            boolean isPersonal = personal.isPresent() && i == before.size();
            run.runningPersonal = isPersonal ? personalName.map(n -> "personal:" + n).orElse(null) : null;
            if (run.runningPersonal != null) {
                run.included.add(run.runningPersonal); // counts as included for :once
            }
            try {
                sequence.get(i).runIn(run);
            } catch (Interpreter.Failure f) {
                return ActionList.failed(snapshot, run.internalFlags, where(i, sequence.get(i), personal.isPresent())
                        + f.getMessage());
            } finally {
                run.runningPersonal = null;
            }
            run.stopped = false; // RFC 5228 §3.3's stop ends this script; the next one starts afresh
        }
        SieveOutcome done = run.actions.outcome(run.internalFlags);
        return new SieveOutcome(done.actions(), done.implicitKeep(), done.errors(), run.duplicateChecks(), run.headerEdits());
    }

    /**
     * Which script of the sequence failed, by its file when it was read from one: nothing for the
     * user's own, so its errors read as before.
     */
    private String where(int index, SieveScript script, boolean hasPersonal) {
        int personalCount = hasPersonal ? 1 : 0;
        if (index >= before.size() && index < before.size() + personalCount) {
            return "";
        }
        boolean isBefore = index < before.size();
        String key = isBefore ? "sieve.before " : "sieve.after ";
        int position = isBefore ? index + 1 : index - before.size() - personalCount + 1;
        return key + script.origin().orElse("script " + position) + ", ";
    }
}

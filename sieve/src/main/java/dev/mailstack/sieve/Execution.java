package dev.mailstack.sieve;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    /** RFC 6609 §3.4: the variables declared global, shared by every script of the execution; names lower-cased. */
    final Map<String, String> globals = new HashMap<>();
    /** RFC 6609 §3.2: the included scripts being run, innermost last ("personal:NAME", "global:NAME"), for loops. */
    final List<String> includeStack = new ArrayList<>();
    /**
     * The account's own script while it runs as the top-level script ("personal:NAME"), null
     * otherwise: an include of it from within is an include of itself (RFC 6609 §3.2).
     */
    String runningPersonal;
    /** Every script included so far, for :once. */
    final Set<String> included = new HashSet<>();
    /** Includes run so far, against {@link Interpreter#MAX_INCLUDES}. */
    int includes;
    /** The header as editheader (RFC 5293) left it; null until the first edit. */
    private EditableHeader edited;

    /** The raw values of the fields of this name, as the edits so far leave them (RFC 5293 §7). */
    List<String> header(String name) {
        return edited == null ? message.header(name) : edited.header(name);
    }

    /** The header to edit, taken from the message at the first edit. */
    EditableHeader editable() {
        if (edited == null) {
            edited = new EditableHeader(((HeaderSection) message).fields(), environment.editHeader());
        }
        return edited;
    }

    /** What the edits left, for the deliverer; empty when no script edited the header. */
    java.util.Optional<HeaderEdits> headerEdits() {
        return edited == null ? java.util.Optional.empty() : java.util.Optional.of(edited.edits());
    }

    /** Distinct handle and ID pairs the duplicate tests of one run may ask about. */
    static final int MAX_DUPLICATE_IDS = 32;
    /** RFC 7352 §3: what duplicate found for each handle and ID, so every test of one run agrees. */
    private final Map<String, Boolean> duplicates = new HashMap<>();
    /** The IDs to remember once the message is delivered, by handle and ID. */
    private final Map<String, DuplicateCheck> checks = new LinkedHashMap<>();

    /**
     * RFC 7352 §3: whether the ID was seen in an earlier execution; never because of a test earlier
     * in this one, so two tests with the same arguments (in included scripts too) yield the same.
     */
    boolean duplicate(DuplicateCheck check) {
        String key = check.handle() + "\0" + check.id();
        // two tests of one ID with other periods: the longer period, :last if either says so
        checks.merge(key, check, (a, b) -> new DuplicateCheck(a.handle(), a.id(),
                a.period().compareTo(b.period()) >= 0 ? a.period() : b.period(), a.last() || b.last()));
        return duplicates.computeIfAbsent(key, k -> account.seenBefore(check.handle(), check.id()));
    }

    /** Whether this ID was tested already, or there is room for one more ({@link #MAX_DUPLICATE_IDS}). */
    boolean mayCheckDuplicate(String handle, String id) {
        return checks.size() < MAX_DUPLICATE_IDS || checks.containsKey(handle + "\0" + id);
    }

    List<DuplicateCheck> duplicateChecks() {
        return List.copyOf(checks.values());
    }

    Execution(SieveMessage message, SieveAccount account, SieveEnvironment environment) {
        this.message = message;
        this.account = account;
        this.environment = environment;
        this.startSecond = environment.clock().instant().getEpochSecond();
    }
}

package dev.mailstack.sieve;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The actions a run has gathered so far, merged as RFC 5228 §2.10.3 asks (a keep and a fileinto
 * "INBOX" are one delivery; two fileintos to one mailbox are one; one redirect per address),
 * counted against the limits, and whether the implicit keep is still due (§2.10.2).
 */
final class ActionList {
    /** Distinct actions one run may produce. */
    static final int MAX_ACTIONS = 32;
    /** Redirects one run may produce (Dovecot Pigeonhole's sieve_max_redirects default). */
    static final int MAX_REDIRECTS = 4;
    /** Distinct notifications one run may send (RFC 5435 §3 lets a site limit them; Pigeonhole's default is 12). */
    static final int MAX_NOTIFICATIONS = 4;

    private final List<SieveAction> actions = new ArrayList<>();
    private boolean implicitKeepCancelled;
    private int redirects;

    /** Why an action could not be added; the interpreter turns it into a runtime error. */
    static final class LimitReached extends Exception {
        LimitReached(String message) {
            super(message);
        }
    }

    /** The list as it was before a script ran: what a runtime error in that script goes back to. */
    record Snapshot(List<SieveAction> actions, boolean implicitKeepCancelled, int redirects) {
        Snapshot {
            actions = List.copyOf(actions);
        }
    }

    Snapshot snapshot() {
        return new Snapshot(actions, implicitKeepCancelled, redirects);
    }

    /**
     * The outcome of an execution whose script failed at run time: the actions of the scripts
     * before it ({@code before}), and RFC 5228 §2.10.6's implicit keep for the failed one, unless
     * an earlier script rejected the message (RFC 5429: nothing is stored with a reject).
     */
    static SieveOutcome failed(Snapshot before, List<String> implicitKeepFlags, String error) {
        List<SieveAction> all = new ArrayList<>(before.actions());
        boolean rejected = all.stream().anyMatch(a -> a instanceof SieveAction.Reject);
        boolean keepAdded = !rejected && all.stream().noneMatch(a -> a instanceof SieveAction.Keep);
        if (keepAdded) {
            all.add(new SieveAction.Keep(implicitKeepFlags));
        }
        return new SieveOutcome(all, !rejected, List.of(error));
    }

    /** Whether the implicit keep has been cancelled (RFC 5228 §2.10.2). */
    boolean implicitKeepCancelled() {
        return implicitKeepCancelled;
    }

    /** RFC 5228 §4.5. */
    void discard() {
        implicitKeepCancelled = true;
    }

    void keep(List<String> flags) throws LimitReached {
        refuseWithReject("keep");
        implicitKeepCancelled = true;
        for (int i = 0; i < actions.size(); i++) {
            if (actions.get(i) instanceof SieveAction.Keep k) {
                actions.set(i, new SieveAction.Keep(union(k.flags(), flags)));
                return;
            }
        }
        add(new SieveAction.Keep(flags));
    }

    /** RFC 3894: with :copy the implicit keep is left as it was. */
    void fileInto(String mailbox, List<String> flags, boolean create, boolean copy) throws LimitReached {
        fileInto(mailbox, flags, create, Optional.empty(), copy);
    }

    /**
     * INBOX in any ASCII case (RFC 3501 §5.1), as the store matches it: not {@code equalsIgnoreCase},
     * whose Unicode folding takes a Turkish dotless "ınbox" for INBOX too.
     */
    static boolean isInbox(String mailbox) {
        return mailbox.length() == 5 && mailbox.chars().allMatch(c -> c < 0x80)
                && mailbox.equalsIgnoreCase("INBOX");
    }

    /** {@code specialUse}: the attribute a mailbox made by :create gets (RFC 8579 §4). */
    void fileInto(String mailbox, List<String> flags, boolean create, Optional<String> specialUse, boolean copy)
            throws LimitReached {
        refuseWithReject("fileinto");
        // RFC 3501 §5.1: INBOX is case-insensitive; filing there is a keep
        if (isInbox(mailbox)) {
            boolean cancelled = implicitKeepCancelled;
            keep(flags);
            implicitKeepCancelled = cancelled || !copy;
            return;
        }
        if (!copy) {
            implicitKeepCancelled = true;
        }
        for (int i = 0; i < actions.size(); i++) {
            if (actions.get(i) instanceof SieveAction.FileInto f && f.mailbox().equals(mailbox)) {
                actions.set(i, new SieveAction.FileInto(mailbox, union(f.flags(), flags), f.create() || create,
                        f.specialUse().or(() -> specialUse)));
                return;
            }
        }
        add(new SieveAction.FileInto(mailbox, flags, create, specialUse));
    }

    void redirect(String address, boolean copy) throws LimitReached {
        refuseWithReject("redirect");
        if (!copy) {
            implicitKeepCancelled = true;
        }
        for (int i = 0; i < actions.size(); i++) {
            if (actions.get(i) instanceof SieveAction.Redirect r && r.address().equalsIgnoreCase(address)) {
                actions.set(i, new SieveAction.Redirect(r.address(), r.copy() && copy));
                return;
            }
        }
        if (++redirects > MAX_REDIRECTS) {
            throw new LimitReached("more than " + MAX_REDIRECTS + " redirects in one run");
        }
        add(new SieveAction.Redirect(address, copy));
    }

    /** RFC 5230 §4.7 allows one vacation action per run. */
    void vacation(SieveAction.Vacation v) throws LimitReached {
        refuseWithReject("vacation");
        for (SieveAction a : actions) {
            if (a instanceof SieveAction.Vacation) {
                throw new LimitReached("vacation may only be used once per run");
            }
        }
        add(v);
    }

    /**
     * RFC 5435 §3: notify goes with any other action and leaves the implicit keep as it is. Two with
     * the same method and options are one (RFC 5435 §3: duplicate notifications), the first one's :from, :importance and
     * :message kept; at most {@value #MAX_NOTIFICATIONS} distinct ones per run.
     */
    void notify(SieveAction.Notify n) throws LimitReached {
        int count = 0;
        for (SieveAction a : actions) {
            if (a instanceof SieveAction.Notify other) {
                if (other.method().equals(n.method()) && other.options().equals(n.options())) {
                    return;
                }
                count++;
            }
        }
        if (count >= MAX_NOTIFICATIONS) {
            throw new LimitReached("more than " + MAX_NOTIFICATIONS + " notifications in one run");
        }
        add(n);
    }

    /**
     * RFC 5429: a message refused is not also stored, sent on or answered, and refused once; a
     * script that asks for both fails at run time, so the implicit keep applies (RFC 5228 §2.10.6).
     */
    void reject(String reason, boolean extended) throws LimitReached {
        // a notification tells the user, not the sender, so it may go with a reject
        Optional<SieveAction> other = actions.stream().filter(a -> !(a instanceof SieveAction.Notify)).findFirst();
        if (other.isPresent()) {
            throw new LimitReached((extended ? "ereject" : "reject") + " cannot be used with "
                    + command(other.get()) + " in one run (RFC 5429)");
        }
        implicitKeepCancelled = true;
        add(new SieveAction.Reject(reason, extended));
    }

    private void refuseWithReject(String command) throws LimitReached {
        for (SieveAction a : actions) {
            if (a instanceof SieveAction.Reject r) {
                throw new LimitReached(command + " cannot be used with " + command(r) + " in one run (RFC 5429)");
            }
        }
    }

    /** The command that makes {@code a}, for errors. */
    private static String command(SieveAction a) {
        return switch (a) {
            case SieveAction.Keep k -> "keep";
            case SieveAction.FileInto f -> "fileinto";
            case SieveAction.Redirect r -> "redirect";
            case SieveAction.Vacation v -> "vacation";
            case SieveAction.Reject r -> r.extended() ? "ereject" : "reject";
            case SieveAction.Notify n -> "notify";
        };
    }

    private void add(SieveAction a) throws LimitReached {
        if (actions.size() >= MAX_ACTIONS) {
            throw new LimitReached("more than " + MAX_ACTIONS + " actions in one run");
        }
        actions.add(a);
    }

    /** The final outcome: the actions, plus the implicit keep with these flags if still due. */
    SieveOutcome outcome(List<String> implicitKeepFlags) {
        if (implicitKeepCancelled) {
            return new SieveOutcome(actions, false, List.of());
        }
        List<SieveAction> all = new ArrayList<>(actions);
        all.add(new SieveAction.Keep(implicitKeepFlags));
        return new SieveOutcome(all, true, List.of());
    }

    /** Flags are case-insensitive (RFC 3501 §2.3.2); the first spelling wins. */
    static List<String> union(List<String> a, List<String> b) {
        Set<String> seen = new LinkedHashSet<>();
        List<String> out = new ArrayList<>();
        for (List<String> list : List.of(a, b)) {
            for (String f : list) {
                if (seen.add(f.toLowerCase(Locale.ROOT))) {
                    out.add(f);
                }
            }
        }
        return out;
    }
}

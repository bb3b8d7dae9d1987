package dev.mailstack.imapd;

import dev.mailstack.store.Flag;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxChange;
import dev.mailstack.store.MailboxView;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Uid;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Map;
import java.util.Set;

/**
 * The selected mailbox as this session has told the client about it: message sequence numbers
 * (the SequenceMap of STYLE.md R8) over the store's view. It changes only in {@link #sync}, which
 * the session calls where RFC 3501 §7.4.1 allows EXPUNGE/EXISTS responses.
 */
final class SelectedMailbox {
    private final MailboxView view;
    private final boolean readOnly;
    private final List<MessageRef> messages;
    private final Map<Uid, Integer> index = new HashMap<>();
    /** RFC 3501 §2.3.2: the messages this session is the first to see. */
    private final Set<Uid> recent = new HashSet<>();
    private final StoreSession store;
    private final boolean claimsRecent;
    /** RFC 9051 (Appendix E) has no RECENT response: an IMAP4rev2 session gets none after EXISTS. */
    private final boolean tellsRecent;
    /**
     * RFC 5182 §2.1: what the last SEARCH RETURN (SAVE) found, as UIDs, so that it keeps naming
     * the same messages after expunges, less those expunged (§2.2). Starts empty: {@code $} before
     * any SAVE is the empty set, and a new selection (SELECT, EXAMINE) makes a new object, which
     * is the reset §2.1 asks for there, as leaving the Selected state (CLOSE, UNSELECT) drops it.
     */
    private SequenceSet saved = new SequenceSet(List.of());

    /**
     * {@code claimsRecent} false: no message is \Recent to this session (see {@link ImapSettings}).
     * {@code tellsRecent} false: no untagged RECENT goes out either (IMAP4rev2).
     */
    SelectedMailbox(StoreSession store, MailboxView view, boolean readOnly, boolean claimsRecent, boolean tellsRecent) {
        this.store = store;
        this.claimsRecent = claimsRecent;
        this.tellsRecent = tellsRecent;
        this.view = view;
        this.readOnly = readOnly;
        this.messages = new ArrayList<>(view.messages());
        reindex();
        takeRecent();
    }

    /** Claims the messages above the mailbox's recent watermark (EXAMINE only looks, RFC 3501 §6.3.2). */
    private void takeRecent() {
        long max = maxUid();
        if (max == 0 || !claimsRecent) {
            return;
        }
        long before;
        try {
            before = store.claimRecent(view.id(), max, !readOnly);
        } catch (StoreException e) {
            // a missed \Recent costs the client a hint only (RFC 3501 §2.3.2); a busy database must not fail SELECT
            System.getLogger(SelectedMailbox.class.getName()).log(System.Logger.Level.WARNING,
                    "recent messages not claimed mailbox=" + view.id().value() + ": " + e.getMessage());
            return;
        }
        for (int i = messages.size() - 1; i >= 0 && messages.get(i).uid().value() > before; i--) {
            recent.add(messages.get(i).uid());
        }
    }

    int recentCount() {
        return recent.size();
    }

    boolean isRecent(Uid uid) {
        return recent.contains(uid);
    }

    MailboxView view() {
        return view;
    }

    boolean readOnly() {
        return readOnly;
    }

    int exists() {
        return messages.size();
    }

    List<MessageRef> messages() {
        return Collections.unmodifiableList(messages);
    }

    MessageRef at(int msn) {
        return messages.get(msn - 1);
    }

    /** The message number of a UID, or 0 when this session does not know it. */
    int msnOf(Uid uid) {
        Integer i = index.get(uid);
        return i == null ? 0 : i + 1;
    }

    long maxUid() {
        return messages.isEmpty() ? 0 : messages.get(messages.size() - 1).uid().value();
    }

    /**
     * RFC 7162 §3.2.5 and §3.2.6 VANISHED (EARLIER): the UIDs of {@code set} (where {@code *} is
     * {@code star}) up to {@code below} that are not in the mailbox, as a UID set; empty when none.
     * The store keeps which UIDs were expunged only as long as an open view needs them, so this is
     * every missing UID, expunged before or after the client's modseq, as RFC 7162 §5.1 allows a
     * server that keeps no more: the client drops those it still has and ignores the rest.
     */
    String vanished(SequenceSet set, long star, long below) {
        if (set.saved()) {
            set = saved; // UIDs already: the saved ones that are gone since
        }
        List<long[]> wanted = new ArrayList<>();
        for (SequenceSet.Range r : set.ranges()) {
            long low = Math.max(1, r.low(star));
            long high = Math.min(r.high(star), below - 1);
            if (low <= high) {
                wanted.add(new long[]{low, high});
            }
        }
        wanted.sort(java.util.Comparator.comparingLong(r -> r[0]));
        StringBuilder out = new StringBuilder();
        long done = 0; // every UID up to here is already written or present
        for (long[] r : wanted) {
            long from = Math.max(r[0], done + 1);
            int i = firstAtOrAbove(from);
            while (from <= r[1]) {
                long present = i < messages.size() ? messages.get(i).uid().value() : Long.MAX_VALUE;
                long gapEnd = Math.min(present - 1, r[1]);
                if (from <= gapEnd) {
                    out.append(out.isEmpty() ? "" : ",").append(from).append(from == gapEnd ? "" : ":" + gapEnd);
                }
                if (present > r[1]) {
                    break;
                }
                from = present + 1;
                i++;
            }
            done = Math.max(done, r[1]);
        }
        return out.toString();
    }

    /** RFC 5182 §2.1: keeps these messages (by number) as the result {@code $} names from now on. */
    void save(List<Integer> msns) {
        long[] uids = new long[msns.size()];
        for (int i = 0; i < uids.length; i++) {
            uids[i] = at(msns.get(i)).uid().value();
        }
        saved = SequenceSet.ofUids(uids);
    }

    /** RFC 5182 §2.1: a SEARCH with SAVE that fails leaves {@code $} empty. */
    void forgetSaved() {
        saved = new SequenceSet(List.of());
    }

    /**
     * Message numbers selected by a set of sequence numbers or UIDs, ascending; {@code $} (RFC
     * 5182 §2.2) is the saved result, whose expunged messages are simply not found. Work follows the
     * set, not the mailbox: a UID range is found by binary search (messages are in UID order), so
     * a client fetching a few messages of a large mailbox does not pay for all of them.
     */
    List<Integer> resolve(SequenceSet set, boolean uid) {
        List<Integer> out = new ArrayList<>();
        BitSet selected = selection(set, uid);
        for (int msn = selected.nextSetBit(1); msn >= 0; msn = selected.nextSetBit(msn + 1)) {
            out.add(msn);
        }
        return out;
    }

    /**
     * A message number the set names that no message has, if any: a client's mistake (RFC 9051
     * §2.3.1.2, numbers run from 1 to the last EXISTS), answered BAD, as Dovecot does. A range
     * reaching {@code *} never counts: "1:*" of an empty mailbox selects nothing.
     */
    OptionalLong numberPastTheEnd(SequenceSet set) {
        if (set.saved()) {
            return OptionalLong.empty();
        }
        for (SequenceSet.Range r : set.ranges()) {
            if (r.from() != SequenceSet.STAR && r.to() != SequenceSet.STAR && r.high(0) > messages.size()) {
                return OptionalLong.of(r.high(0));
            }
        }
        return OptionalLong.empty();
    }

    /**
     * The message numbers a set selects, as bits: resolved once for a command that asks of every
     * message whether the set takes it in (SEARCH UID 1:1000,..., UID EXPUNGE $), so that a saved
     * result of 50,000 ranges is not looked through once per message.
     */
    BitSet selection(SequenceSet set, boolean uid) {
        if (set.saved()) {
            set = saved;
            uid = true;
        }
        int size = messages.size();
        BitSet selected = new BitSet(size + 1);
        if (size == 0) {
            return selected;
        }
        long max = uid ? maxUid() : size;
        for (SequenceSet.Range r : set.ranges()) {
            long low = r.low(max);
            long high = Math.min(r.high(max), uid ? Long.MAX_VALUE : size);
            if (!uid) {
                if (low <= high) {
                    selected.set((int) low, (int) high + 1);
                }
                continue;
            }
            int from = firstAtOrAbove(low);
            int to = high >= max ? size : firstAtOrAbove(high + 1); // two binary searches a range
            if (from < to) {
                selected.set(from + 1, to + 1);
            }
        }
        return selected;
    }

    /** The index of the first message whose UID is at least {@code uid} (size if none). */
    private int firstAtOrAbove(long uid) {
        int lo = 0;
        int hi = messages.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (messages.get(mid).uid().value() < uid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * Replaces the state of messages this session changed (STORE, a FETCH that sets \Seen), keeping
     * their numbers, once the change is committed: {@link MailboxView#committed}.
     */
    void committed(List<MessageRef> changed) {
        for (MessageRef r : changed) {
            Integer i = index.get(r.uid());
            if (i != null) {
                messages.set(i, r);
            }
        }
        view.committed(changed);
    }

    /**
     * Applies committed changes and returns the untagged responses announcing them, expunges
     * first (highest number first is not required; each shifts the numbers after it).
     * With {@code expungesAllowed} false (during FETCH, STORE, SEARCH) nothing is applied.
     */
    List<String> sync(boolean expungesAllowed, boolean condstore, boolean qresync) {
        List<String> out = new ArrayList<>();
        if (!expungesAllowed) {
            return out;
        }
        List<MailboxChange> changes = view.refresh();
        // Expunges go highest number first: each response then leaves the numbers still to come unchanged.
        List<Integer> gone = new ArrayList<>();
        for (MailboxChange c : changes) {
            if (c instanceof MailboxChange.Expunged e && msnOf(e.uid()) > 0) {
                gone.add(msnOf(e.uid()));
            }
        }
        gone.sort(Collections.reverseOrder());
        List<Long> vanished = new ArrayList<>();
        for (int msn : gone) {
            Uid uid = messages.get(msn - 1).uid();
            recent.remove(uid);
            messages.remove(msn - 1);
            if (qresync) {
                vanished.add(uid.value());
            } else {
                out.add("* " + msn + " EXPUNGE");
            }
        }
        if (!vanished.isEmpty()) {
            Collections.reverse(vanished); // gathered highest number first
            out.add("* VANISHED " + ImapSession.compactLongs(vanished)); // RFC 7162 §3.2.10: UIDs, not numbers
        }
        if (!gone.isEmpty()) {
            reindex();
        }
        boolean added = false;
        for (MailboxChange c : changes) {
            switch (c) {
                case MailboxChange.Expunged e -> {
                    // applied above
                }
                case MailboxChange.Added a -> {
                    if (msnOf(a.uid()) == 0) {
                        messages.add(a.message());
                        index.put(a.uid(), messages.size() - 1);
                        added = true;
                    }
                }
                case MailboxChange.FlagsChanged f -> {
                    int msn = msnOf(f.uid());
                    if (msn > 0) {
                        MessageRef old = messages.get(msn - 1);
                        messages.set(msn - 1, f.message());
                        if (!old.flags().equals(f.message().flags())) {
                            out.add(flagsFetch(msn, condstore));
                        }
                    }
                }
            }
        }
        if (added) {
            messages.sort((a, b) -> a.uid().compareTo(b.uid()));
            reindex();
            takeRecent();
            out.add("* " + messages.size() + " EXISTS");
            if (tellsRecent) {
                out.add("* " + recent.size() + " RECENT");
            }
        }
        return out;
    }

    private void reindex() {
        index.clear();
        for (int i = 0; i < messages.size(); i++) {
            index.put(messages.get(i).uid(), i);
        }
    }

    /** A FLAGS list; \Recent is a session flag (RFC 3501 §2.3.2), never stored. */
    /** The unsolicited FETCH that tells a message's flags: UID first, MODSEQ when CONDSTORE is on. */
    String flagsFetch(int msn, boolean condstore) {
        MessageRef r = at(msn);
        return "* " + msn + " FETCH (UID " + r.uid().value() + " FLAGS " + flagList(r.flags(), isRecent(r.uid()))
                + (condstore ? " MODSEQ (" + r.modSeq() + ")" : "") + ")";
    }

    static String flagList(Flags flags, boolean recent) {
        return appendFlagList(new StringBuilder(32), flags, recent).toString();
    }

    /** Appends "(\Seen ...)" in place: FETCH FLAGS of a whole mailbox writes one per message. */
    static StringBuilder appendFlagList(StringBuilder sb, Flags flags, boolean recent) {
        sb.append('(');
        int empty = sb.length();
        for (Flag f : flags.system()) {
            word(sb, empty, f.wireName());
        }
        if (recent) {
            word(sb, empty, "\\Recent");
        }
        for (String k : flags.keywords()) {
            word(sb, empty, k);
        }
        return sb.append(')');
    }

    private static void word(StringBuilder sb, int empty, String word) {
        if (sb.length() > empty) {
            sb.append(' ');
        }
        sb.append(word);
    }
}

package dev.mailstack.imapd;

import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxChange;
import dev.mailstack.store.MailboxView;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.Uid;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

    SelectedMailbox(MailboxView view, boolean readOnly) {
        this.view = view;
        this.readOnly = readOnly;
        this.messages = new ArrayList<>(view.messages());
        reindex();
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

    /** Message numbers selected by a set of sequence numbers or UIDs, ascending. */
    List<Integer> resolve(SequenceSet set, boolean uid) {
        List<Integer> out = new ArrayList<>();
        if (messages.isEmpty()) {
            return out;
        }
        if (!uid) {
            for (int msn = 1; msn <= messages.size(); msn++) {
                if (set.contains(msn, messages.size())) {
                    out.add(msn);
                }
            }
            return out;
        }
        long max = maxUid();
        for (int i = 0; i < messages.size(); i++) {
            if (set.contains(messages.get(i).uid().value(), max)) {
                out.add(i + 1);
            }
        }
        return out;
    }

    /** Replaces a message's state after this session changed it (STORE), keeping its number. */
    void update(MessageRef changed) {
        Integer i = index.get(changed.uid());
        if (i != null) {
            messages.set(i, changed);
        }
        view.update(changed);
    }

    /**
     * Applies committed changes and returns the untagged responses announcing them, expunges
     * first (highest number first is not required; each shifts the numbers after it).
     * With {@code expungesAllowed} false (during FETCH, STORE, SEARCH) nothing is applied.
     */
    List<String> sync(boolean expungesAllowed, boolean condstore) {
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
        for (int msn : gone) {
            messages.remove(msn - 1);
            out.add("* " + msn + " EXPUNGE");
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
                            out.add("* " + msn + " FETCH (UID " + f.uid().value() + " FLAGS " + flagList(f.message().flags())
                                    + (condstore ? " MODSEQ (" + f.message().modSeq() + ")" : "") + ")");
                        }
                    }
                }
            }
        }
        if (added) {
            messages.sort((a, b) -> a.uid().compareTo(b.uid()));
            reindex();
            out.add("* " + messages.size() + " EXISTS");
            out.add("* 0 RECENT");
        }
        return out;
    }

    private void reindex() {
        index.clear();
        for (int i = 0; i < messages.size(); i++) {
            index.put(messages.get(i).uid(), i);
        }
    }

    static String flagList(Flags flags) {
        List<String> words = new ArrayList<>();
        flags.system().forEach(f -> words.add(f.wireName()));
        words.addAll(flags.keywords());
        return "(" + String.join(" ", words) + ")";
    }
}

package dev.mailstack.imapd;

import dev.mailstack.store.MailboxInfo;
import dev.mailstack.store.MailboxName;
import java.util.ArrayList;
import java.util.List;

/** LIST/LSUB (RFC 3501 §6.3.8-9, RFC 5258, RFC 6154): pattern matching and attributes. */
final class MailboxLister {
    private MailboxLister() {
    }

    /**
     * Whether a mailbox meets the LIST selection options: subscribed for SUBSCRIBED, a special-use
     * attribute for SPECIAL-USE (RFC 6154 §5.1), both when both are given.
     */
    static boolean selected(MailboxInfo box, ImapCommand.ListMailboxes l) {
        return (!l.subscribedOnly() || box.subscribed()) && (!l.specialUseOnly() || box.specialUse().isPresent());
    }

    /**
     * RECURSIVEMATCH (RFC 5258 §3): whether a mailbox at any depth below {@code box} meets the
     * selection options, which makes {@code box} listed with CHILDINFO even when it does not.
     */
    static boolean hasSelectedDescendant(MailboxInfo box, List<MailboxInfo> all, ImapCommand.ListMailboxes l) {
        String prefix = box.name().path() + "/";
        return all.stream().anyMatch(m -> m.name().path().startsWith(prefix) && selected(m, l));
    }

    /** Whether any of the account's mailboxes {@code all} is below {@code name}. */
    static boolean hasChildren(MailboxName name, List<MailboxInfo> all) {
        String prefix = name.path() + "/";
        return all.stream().anyMatch(m -> m.name().path().startsWith(prefix));
    }

    /** Attributes of one mailbox given all of the account's mailboxes. */
    static List<String> attributes(MailboxInfo box, List<MailboxInfo> all, boolean subscribed) {
        List<String> attrs = new ArrayList<>();
        attrs.add(hasChildren(box.name(), all) ? "\\HasChildren" : "\\HasNoChildren"); // RFC 3348 CHILDREN
        if (subscribed && box.subscribed()) {
            attrs.add("\\Subscribed");
        }
        box.specialUse().ifPresent(u -> attrs.add(u.attribute()));
        return attrs;
    }
}

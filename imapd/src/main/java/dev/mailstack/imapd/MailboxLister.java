package dev.mailstack.imapd;

import dev.mailstack.store.MailboxInfo;
import dev.mailstack.store.MailboxName;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * LIST/LSUB (RFC 3501 §6.3.8-9, RFC 5258, RFC 6154): which names a listing shows, with what
 * attributes. The names are the account's mailboxes and, when the listing selects by subscription,
 * its subscribed names whose mailboxes are gone and their parents.
 */
final class MailboxLister {
    /** A name a listing may show: a mailbox ({@code box}), a subscription, or both. */
    private record Candidate(String path, Optional<MailboxInfo> box, boolean subscribed) {
    }

    /** One response: its attributes, CHILDINFO, and the mailbox LIST-STATUS may give a STATUS of. */
    record Listed(String path, List<String> attributes, boolean childInfo, Optional<MailboxName> statusOf) {
    }

    private final NavigableMap<String, Candidate> candidates = new TreeMap<>();
    private final ImapCommand.ListMailboxes l;

    /** {@code subscriptions}: the account's subscribed names; read only when {@link #bySubscription}. */
    MailboxLister(List<MailboxInfo> mailboxes, List<MailboxName> subscriptions, ImapCommand.ListMailboxes l) {
        this.l = l;
        for (MailboxInfo box : mailboxes) {
            candidates.put(box.name().path(), new Candidate(box.name().path(), Optional.of(box), box.subscribed()));
        }
        for (MailboxName name : subscriptions) {
            candidates.putIfAbsent(name.path(), new Candidate(name.path(), Optional.empty(), true));
            for (Optional<MailboxName> p = name.parent(); p.isPresent(); p = p.get().parent()) {
                // a parent is listed for CHILDINFO (RFC 5258 §3.5) or as LSUB's \Noselect (RFC 3501 §6.3.9)
                candidates.putIfAbsent(p.get().path(), new Candidate(p.get().path(), Optional.empty(), false));
            }
        }
    }

    /** Whether the listing selects by subscription (LSUB, LIST (SUBSCRIBED)) and needs the subscribed names. */
    static boolean bySubscription(ImapCommand.ListMailboxes l) {
        return l.lsub() || l.subscribedOnly();
    }

    /** What the listing answers for {@code patterns}, in name order. */
    List<Listed> list(List<MailboxPattern> patterns) {
        List<Listed> out = new ArrayList<>();
        for (Candidate c : candidates.values()) {
            if (patterns.stream().noneMatch(p -> p.matches(c.path()))) {
                continue;
            }
            boolean meets = meets(c);
            boolean childInfo = l.recursiveMatch() && below(c.path()).stream().anyMatch(this::meets);
            // RFC 3501 §6.3.9: when a "%" stops above a subscribed name, LSUB shows the parent it stops
            // at, flagged \Noselect, whether or not that parent is a mailbox
            boolean lsubParent = l.lsub() && !c.subscribed() && below(c.path()).stream()
                    .anyMatch(d -> d.subscribed() && patterns.stream().noneMatch(p -> p.matches(d.path())));
            if (!meets && !childInfo && !lsubParent) {
                continue;
            }
            out.add(new Listed(c.path(), attributes(c, lsubParent), childInfo,
                    lsubParent ? Optional.empty() : c.box().map(MailboxInfo::name)));
        }
        return out;
    }

    /**
     * The selection options (RFC 5258 §3.1): subscribed for SUBSCRIBED and LSUB, a special-use
     * attribute for SPECIAL-USE (RFC 6154 §5.1), both when both are given.
     */
    private boolean meets(Candidate c) {
        return (!bySubscription(l) || c.subscribed())
                && (!l.specialUseOnly() || c.box().flatMap(MailboxInfo::specialUse).isPresent());
    }

    private Collection<Candidate> below(String path) {
        return candidates.subMap(path + MailboxName.SEPARATOR, path + (char) (MailboxName.SEPARATOR + 1)).values();
    }

    /**
     * RFC 5258 §3 (RFC 9051 §7.3.1's table): a subscribed name without a mailbox is \NonExistent;
     * LSUB, which RFC 3501 defines without that attribute, says \Noselect.
     */
    private List<String> attributes(Candidate c, boolean noselect) {
        List<String> attrs = new ArrayList<>();
        if (c.box().isEmpty()) {
            attrs.add(l.lsub() ? "\\Noselect" : "\\NonExistent");
        } else if (noselect) {
            attrs.add("\\Noselect");
        }
        boolean children = below(c.path()).stream().anyMatch(d -> d.box().isPresent());
        if (children || c.box().isPresent()) {
            attrs.add(children ? "\\HasChildren" : "\\HasNoChildren"); // RFC 3348 CHILDREN
        }
        if ((l.returnSubscribed() || l.lsub()) && c.subscribed()) {
            attrs.add("\\Subscribed");
        }
        c.box().flatMap(MailboxInfo::specialUse).ifPresent(u -> attrs.add(u.attribute()));
        return attrs;
    }

    /** The attributes of one mailbox given all of the account's (IMAP4rev2 SELECT's LIST response). */
    static List<String> attributes(MailboxInfo box, List<MailboxInfo> all) {
        List<String> attrs = new ArrayList<>();
        String prefix = box.name().path() + MailboxName.SEPARATOR;
        attrs.add(all.stream().anyMatch(m -> m.name().path().startsWith(prefix)) ? "\\HasChildren" : "\\HasNoChildren");
        box.specialUse().ifPresent(u -> attrs.add(u.attribute()));
        return attrs;
    }
}

package dev.mailstack.imapd;

import dev.mailstack.store.MailboxInfo;
import dev.mailstack.store.MailboxName;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
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

    /**
     * {@code subscriptions}: the account's subscribed names, read only when {@link #bySubscription};
     * then they, not the mailboxes' own flags (read apart, a moment earlier), say what is subscribed.
     */
    MailboxLister(List<MailboxInfo> mailboxes, List<MailboxName> subscriptions, ImapCommand.ListMailboxes l) {
        this.l = l;
        Set<String> subscribed = new HashSet<>();
        for (MailboxName name : subscriptions) {
            subscribed.add(name.path());
            add(new Candidate(name.path(), Optional.empty(), true));
            for (Optional<MailboxName> p = name.parent(); p.isPresent(); p = p.get().parent()) {
                // a parent is listed for CHILDINFO (RFC 5258 §3.5) or as LSUB's \Noselect (RFC 3501 §6.3.9)
                add(new Candidate(p.get().path(), Optional.empty(), false));
            }
        }
        for (MailboxInfo box : mailboxes) {
            String path = box.name().path();
            add(new Candidate(path, Optional.of(box), bySubscription(l) ? subscribed.contains(path) : box.subscribed()));
        }
    }

    /** One candidate per name, whatever order names come in: a mailbox and a subscription of one name merge. */
    private void add(Candidate c) {
        candidates.merge(c.path(), c, (a, b) -> new Candidate(a.path(), a.box().or(b::box), a.subscribed() || b.subscribed()));
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
            // at, flagged \Noselect, whether or not that parent is a mailbox; only for a pattern that
            // ends in "%" (as Dovecot): LSUB "" "Work" is not asked about what lies below Work
            boolean lsubParent = l.lsub() && !c.subscribed() && patterns.stream()
                    .anyMatch(p -> p.endsInPercent() && p.matches(c.path())) && below(c.path()).stream()
                    .anyMatch(d -> d.subscribed() && patterns.stream().noneMatch(p -> p.matches(d.path())));
            if (!meets && !childInfo && !lsubParent) {
                continue;
            }
            // RFC 5819 §2: STATUS for the mailboxes that meet the selection, not for one listed only
            // for a descendant's sake (CHILDINFO, LSUB's \Noselect parent), nor for a name without one
            out.add(new Listed(c.path(), attributes(c, lsubParent), childInfo,
                    meets ? c.box().map(MailboxInfo::name) : Optional.empty()));
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
        if (children || c.box().isPresent() || l.returnChildren()) {
            attrs.add(children ? "\\HasChildren" : "\\HasNoChildren"); // RFC 3348 CHILDREN
        }
        if ((l.returnSubscribed() || l.lsub()) && c.subscribed()) {
            attrs.add("\\Subscribed");
        }
        c.box().flatMap(MailboxInfo::specialUse).ifPresent(u -> attrs.add(u.attribute()));
        return attrs;
    }

    /** The attributes of one mailbox (IMAP4rev2 SELECT's LIST response). */
    static List<String> attributes(MailboxInfo box, boolean hasChildren) {
        List<String> attrs = new ArrayList<>();
        attrs.add(hasChildren ? "\\HasChildren" : "\\HasNoChildren");
        box.specialUse().ifPresent(u -> attrs.add(u.attribute()));
        return attrs;
    }
}

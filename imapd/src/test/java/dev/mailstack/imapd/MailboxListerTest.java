package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mailstack.store.MailboxId;
import dev.mailstack.store.MailboxInfo;
import dev.mailstack.store.MailboxName;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@link MailboxLister} on its own: the rows of RFC 9051 §7.3.1's table (exists, meets the
 * selection, has a child that meets it), whatever order the mailboxes and subscriptions come in.
 */
class MailboxListerTest {
    /** LIST (SUBSCRIBED RECURSIVEMATCH) "" PATTERN, or LSUB "" PATTERN. */
    private static List<String> list(boolean lsub, String pattern, List<MailboxInfo> boxes, List<String> subscribed) {
        var l = new ImapCommand.ListMailboxes("", List.of(pattern), lsub, !lsub, false, !lsub, !lsub, false, false,
                List.of(), !lsub);
        var lister = new MailboxLister(boxes, subscribed.stream().map(MailboxName::new).toList(), l);
        return lister.list(List.of(MailboxPattern.of("", pattern))).stream()
                .map(x -> x.path() + " " + x.attributes() + (x.childInfo() ? " CHILDINFO" : "")
                        + (x.statusOf().isPresent() ? " STATUS" : ""))
                .toList();
    }

    private static MailboxInfo box(String name, boolean subscribedOnItsRow) {
        return new MailboxInfo(new MailboxId(name.hashCode()), new MailboxName(name), 1, 1, 1, Optional.empty(),
                subscribedOnItsRow, "F" + Math.abs(name.hashCode()));
    }

    @Test
    void everyRowOfTheTableWhenSelectingBySubscription() {
        List<MailboxInfo> boxes = List.of(box("Exists", false), box("Exists/Sub", true), box("Both", true),
                box("Both/Sub", true), box("Plain", false)); // Plain: exists, neither it nor a child meets: not listed
        List<String> subscribed = List.of("Both", "Both/Sub", "Exists/Sub", "Gone", "Gone/Sub", "None/Sub");
        assertEquals(List.of(
                        "Both [\\HasChildren, \\Subscribed] CHILDINFO STATUS", // exists, meets, child meets
                        "Exists [\\HasChildren] CHILDINFO", // exists, child meets: no STATUS (RFC 5819 §2)
                        "Gone [\\NonExistent, \\Subscribed] CHILDINFO", // no mailbox, meets, child meets
                        "None [\\NonExistent] CHILDINFO"), // no mailbox, only a child meets
                list(false, "%", boxes, subscribed));
        assertEquals(List.of("Gone/Sub [\\NonExistent, \\Subscribed]"), list(false, "Gone/%", boxes, subscribed));
        assertEquals(List.of(), list(false, "Nowhere", boxes, subscribed), "neither a mailbox nor a subscription");
    }

    /** The subscriptions say what is subscribed, not a mailbox row read a moment before them. */
    @Test
    void aSubscriptionCountsWhateverTheRowSaidAndWhateverTheOrder() {
        assertEquals(List.of("A [\\HasChildren, \\Subscribed] CHILDINFO STATUS", "A/B [\\HasNoChildren, \\Subscribed] STATUS"),
                list(false, "*", List.of(box("A/B", false), box("A", false)), List.of("A/B", "A")));
        assertEquals(List.of("X [\\NonExistent, \\Subscribed] CHILDINFO", "X/Y [\\NonExistent, \\Subscribed]"),
                list(false, "*", List.of(), List.of("X/Y", "X")), "a child's subscription came first");
    }

    /** RFC 3501 §6.3.9: only a "%" that stops above a subscribed name shows the parent, \Noselect. */
    @Test
    void lsubShowsAParentNoselectOnlyForAPatternEndingInPercent() {
        List<MailboxInfo> boxes = List.of(box("Work", false), box("Work/Reports", true));
        assertEquals(List.of("Work [\\Noselect, \\HasChildren]"), list(true, "W%", boxes, List.of("Work/Reports")));
        assertEquals(List.of(), list(true, "Work", boxes, List.of("Work/Reports")));
        assertEquals(List.of("Work/Reports [\\HasNoChildren, \\Subscribed] STATUS"),
                list(true, "W*", boxes, List.of("Work/Reports")));
    }
}

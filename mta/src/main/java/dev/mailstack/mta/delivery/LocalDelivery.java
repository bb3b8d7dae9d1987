package dev.mailstack.mta.delivery;

import dev.mailstack.store.Account;
import dev.mailstack.store.AccountId;
import dev.mailstack.store.DeliveryKey;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.SpecialUse;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import dev.mailstack.store.Uid;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Puts a queued message into a local account's INBOX (its Junk mailbox for mail marked as junk) by reference to the content the queue
 * already holds: no bytes copied. The delivery key makes a repeat after a crash a no-op.
 */
public final class LocalDelivery {
    /** What happened, as an SMTP-style reply line for the queue record and DSNs. */
    public sealed interface Result {
        String reply();
    }

    /** {@code uid} is the new message in the INBOX; empty when an earlier attempt already delivered it. */
    public record Delivered(String reply, Optional<Uid> uid) implements Result {
    }

    public record TryLater(String reply) implements Result {
    }

    public record Refused(String reply) implements Result {
    }

    private final MailboxStore store;

    public LocalDelivery(MailboxStore store) {
        this.store = store;
    }

    /** One local account that a claimed message goes to. */
    public record Request(QueuedMessage message, Account account) {
    }

    /**
     * Delivers many messages with one store transaction per account (one commit for a burst of
     * mail to the same user); results in request order. When a shared transaction fails (a full
     * mailbox, say), that account's messages are retried one by one so each gets its own answer.
     */
    public List<Result> deliverAll(List<Request> requests) {
        Result[] results = new Result[requests.size()];
        Map<AccountId, List<Integer>> byAccount = new LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            byAccount.computeIfAbsent(requests.get(i).account().id(), k -> new ArrayList<>()).add(i);
        }
        for (List<Integer> group : byAccount.values()) {
            List<Request> batch = group.stream().map(requests::get).toList();
            List<Result> together = batch.size() > 1 ? append(batch) : List.of();
            for (int k = 0; k < group.size(); k++) {
                results[group.get(k)] = together.size() == group.size() ? together.get(k)
                        : append(List.of(requests.get(group.get(k)))).getFirst();
            }
        }
        return List.of(results);
    }

    /** Every request's Delivered, or one failure for the whole batch. */
    private List<Result> append(List<Request> batch) {
        Account account = batch.getFirst().account();
        StoreSession session = store.open(account.id());
        try {
            // Mailboxes before the transaction: it holds a connection, and a second one could wait forever.
            var inbox = session.require(MailboxName.INBOX);
            var junk = batch.stream().anyMatch(r -> r.message().envelope().junk()) ? session.list().stream()
                    .filter(m -> m.specialUse().equals(Optional.of(SpecialUse.JUNK))).findFirst().orElse(inbox) : inbox;
            try (Transaction t = session.begin()) {
                List<Result> delivered = new ArrayList<>();
                for (Request r : batch) {
                    QueuedMessage message = r.message();
                    Optional<Uid> uid = t.appendContent((message.envelope().junk() ? junk : inbox).id(), message.content(), message.size(), Flags.NONE,
                            message.receivedAt(),
                            // Keyed by the account, not the address: alice@ and alice+tag@ in one message make one
                            // copy (Postfix's duplicate filter), and a retry after a crash makes none.
                            Optional.of(new DeliveryKey(message.id(), account.address())));
                    delivered.add(new Delivered("250 2.0.0 delivered to " + account.address(), uid));
                }
                t.commit();
                return delivered;
            }
        } catch (StoreException e) {
            return List.of(switch (e.failure()) {
                case OVER_QUOTA -> new Refused("552 5.2.2 <" + account.address() + ">: mailbox full");
                case TOO_BIG -> new Refused("552 5.3.4 <" + account.address() + ">: message too big for the mailbox");
                case NOT_FOUND, EXPUNGED, NO_PERMISSION, INVALID_NAME, ALREADY_EXISTS ->
                        new Refused("550 5.1.1 <" + account.address() + ">: mailbox unavailable");
                case TEMPORARY -> new TryLater("451 4.3.0 <" + account.address() + ">: store busy: " + e.getMessage());
            });
        }
    }
}

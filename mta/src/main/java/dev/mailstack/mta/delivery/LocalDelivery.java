package dev.mailstack.mta.delivery;

import dev.mailstack.store.Account;
import dev.mailstack.store.DeliveryKey;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import java.util.Optional;

/**
 * Puts a queued message into a local account's INBOX by reference to the content the queue
 * already holds: no bytes copied. The delivery key makes a repeat after a crash a no-op.
 */
public final class LocalDelivery {
    /** What happened, as an SMTP-style reply line for the queue record and DSNs. */
    public sealed interface Result {
        String reply();
    }

    public record Delivered(String reply) implements Result {
    }

    public record TryLater(String reply) implements Result {
    }

    public record Refused(String reply) implements Result {
    }

    private final MailboxStore store;

    public LocalDelivery(MailboxStore store) {
        this.store = store;
    }

    public Result deliver(QueuedMessage message, String recipient, Account account) {
        StoreSession session = store.open(account.id());
        try (Transaction t = session.begin()) {
            var inbox = session.require(MailboxName.INBOX);
            t.appendContent(inbox.id(), message.content(), message.size(), Flags.NONE, message.receivedAt(),
                    // Keyed by the account, not the address: alice@ and alice+tag@ in one message make one
                    // copy (Postfix's duplicate filter), and a retry after a crash makes none.
                    Optional.of(new DeliveryKey(message.id(), account.address())));
            t.commit();
            return new Delivered("250 2.0.0 delivered to " + account.address());
        } catch (StoreException e) {
            return switch (e.failure()) {
                case OVER_QUOTA -> new Refused("552 5.2.2 <" + account.address() + ">: mailbox full");
                case TOO_BIG -> new Refused("552 5.3.4 <" + account.address() + ">: message too big for the mailbox");
                case NOT_FOUND, EXPUNGED, NO_PERMISSION, INVALID_NAME, ALREADY_EXISTS ->
                        new Refused("550 5.1.1 <" + account.address() + ">: mailbox unavailable");
                case TEMPORARY -> new TryLater("451 4.3.0 <" + account.address() + ">: store busy: " + e.getMessage());
            };
        }
    }

}

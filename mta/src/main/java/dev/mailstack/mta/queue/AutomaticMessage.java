package dev.mailstack.mta.queue;

import dev.mailstack.store.AccountId;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailQueue;
import java.util.List;

/**
 * A message the server writes for an account about mail just delivered to it (RFC 3834's automatic
 * responses: a Sieve notification, RFC 5435; a vacation reply, RFC 5230), to be queued in the
 * transaction that records that delivery and only if {@code guards} allow: so it is sent with the
 * delivery, once, and not again with a retry. Signed as the account's own mail ({@code account}).
 * {@code what} names it in the log.
 */
record AutomaticMessage(AccountId account, MailEnvelope envelope, byte[] octets, String what,
                        List<MailQueue.Guard> guards) {
    AutomaticMessage {
        guards = List.copyOf(guards);
    }
}

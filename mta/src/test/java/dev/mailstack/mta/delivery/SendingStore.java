package dev.mailstack.mta.delivery;

import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.TestMessages;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The sending side of a delivery test: a store on disk that queues one message from
 * bob@example.org to alice@example.org per delivery and hands it, claimed, to a RemoteDelivery
 * as the queue runner would.
 */
final class SendingStore implements AutoCloseable {
    static final String HOSTNAME = "mx.here.test";

    private final Path dir;
    private StoreFixture f;

    SendingStore(Path dir) {
        this.dir = dir;
        this.f = StoreFixture.create(dir);
    }

    MailboxStore store() {
        return f.store();
    }

    RemoteDelivery remote(Router router) {
        return new RemoteDelivery(store(), router, HOSTNAME);
    }

    /** Going by {@code policies}: the MTA-STS cache a test keeps, on its clock or in the store. */
    RemoteDelivery remote(Router router, StsPolicies policies) {
        return new RemoteDelivery(store(), router, HOSTNAME, SmtpTimeouts.rfc5321(), RemoteDelivery.DEFAULT_CONCURRENCY,
                policies);
    }

    /** A new message to {@code domain} through {@code remote}: its one recipient's outcome. */
    RemoteDelivery.Outcome deliver(RemoteDelivery remote, String domain) throws Exception {
        QueuedMessage m = queued();
        return remote.deliver(m, domain, m.pending()).getFirst();
    }

    /** The same through a RemoteDelivery of its own on {@code router}, closed after: no session or policy kept. */
    RemoteDelivery.Outcome deliver(Router router, String domain) throws Exception {
        try (RemoteDelivery remote = remote(router)) {
            return deliver(remote, domain);
        }
    }

    /** The sender stopped and started again: its store closed, then opened over the same files. */
    void restart() {
        f.close();
        f = new StoreFixture(MailboxStore.open(dir, null), f.user());
    }

    private QueuedMessage queued() throws Exception {
        MessageSpool.Spooled m = TestMessages.spool(store(), "From: <bob@example.org>\r\nSubject: out\r\n\r\nbody\r\n");
        try {
            store().queue().enqueue(new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of("alice@example.org")),
                    Optional.empty(), Optional.empty(), false, false, Instant.now()), m, TestMessages.facts(m));
        } finally {
            m.discard();
        }
        return store().queue().claimDue(Instant.now(), Duration.ofMinutes(5)).orElseThrow();
    }

    @Override
    public void close() {
        f.close();
    }
}

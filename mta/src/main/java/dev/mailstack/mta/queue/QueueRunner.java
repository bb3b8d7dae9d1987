package dev.mailstack.mta.queue;

import dev.mailstack.mta.delivery.LocalDelivery;
import dev.mailstack.mta.delivery.RemoteDelivery;
import dev.mailstack.store.Account;
import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.RecipientOutcome;
import dev.mailstack.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Delivers what the queue holds (STYLE.md §1 steps 4-6): claims due messages with a lease,
 * delivers local recipients into mailboxes and remote ones over SMTP grouped by domain, records
 * each recipient's outcome, and sends a DSN for failures and long delays. Runs in the server's
 * process on a few worker threads; after a restart it carries on from the database.
 */
public final class QueueRunner implements AutoCloseable {
    private static final Logger LOG = System.getLogger(QueueRunner.class.getName());
    /** How often idle workers look for retries that have come due. */
    static final Duration POLL = Duration.ofSeconds(1);

    private final MailboxStore store;
    private final QueueSettings settings;
    private final LocalDelivery local;
    private final RemoteDelivery remote;
    private final Semaphore work = new Semaphore(0);
    private final List<Thread> workers = new ArrayList<>();
    private QueueIntake intake;
    private volatile boolean stopping;
    private final MailCounters counters;

    public QueueRunner(MailboxStore store, QueueSettings settings, LocalDelivery local, RemoteDelivery remote,
                       MailCounters counters) {
        this.counters = counters;
        this.store = store;
        this.settings = settings;
        this.local = local;
        this.remote = remote;
    }

    /** The intake bounces go through (built with this runner's {@link #wake()}). */
    public void useIntake(QueueIntake intake) {
        this.intake = intake;
    }

    public void start() {
        int released = store.queue().releaseLeases();
        if (released > 0) {
            LOG.log(Level.INFO, "resuming {0} message(s) claimed before the last stop", released);
        }
        for (int i = 0; i < settings.workers(); i++) {
            Thread t = Thread.ofVirtual().name("queue-" + i).start(this::work);
            workers.add(t);
        }
    }

    /** Tells the workers that something new is due now. */
    public void wake() {
        if (work.availablePermits() < settings.workers()) {
            work.release();
        }
    }

    private void work() {
        while (!stopping) {
            try {
                Optional<QueuedMessage> next = store.queue().claimDue(Instant.now(), settings.lease());
                if (next.isPresent()) {
                    deliver(next.get());
                    continue;
                }
                work.tryAcquire(POLL.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            } catch (StoreException e) {
                if (stopping) {
                    return;
                }
                LOG.log(Level.WARNING, "queue store error, retrying: " + e.getMessage());
                try {
                    work.tryAcquire(POLL.toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException ie) {
                    return;
                }
            } catch (RuntimeException e) {
                LOG.log(Level.ERROR, "queue worker failed; the message's lease will run out and it is retried", e);
            }
        }
    }

    /** One delivery attempt for every pending recipient of a claimed message. */
    void deliver(QueuedMessage message) {
        Instant now = Instant.now();
        List<RecipientOutcome> outcomes = new ArrayList<>();
        List<DeliveryReport.Entry> failures = new ArrayList<>();
        List<DeliveryReport.Entry> delays = new ArrayList<>();
        Map<String, List<QueuedMessage.PendingRecipient>> byDomain = new LinkedHashMap<>();
        for (QueuedMessage.PendingRecipient r : message.pending()) {
            String address = r.recipient().address();
            AddressResolution route = store.accounts().resolve(address);
            switch (route) {
                case AddressResolution.Deliver d -> {
                    String worst = null;
                    boolean retry = false;
                    for (Account account : d.accounts()) {
                        LocalDelivery.Result result = local.deliver(message, address, account);
                        switch (result) {
                            case LocalDelivery.Delivered ok -> LOG.log(Level.INFO, "delivered queue={0} rcpt={1} mailbox={2}",
                                    message.id(), address, account.address());
                            case LocalDelivery.TryLater later -> {
                                retry = true;
                                worst = later.reply();
                            }
                            case LocalDelivery.Refused refused -> worst = worst == null ? refused.reply() : worst;
                        }
                    }
                    if (!d.forwards().isEmpty()) {
                        forward(message, d.forwards());
                    }
                    outcomes.add(classify(message, r, worst == null ? "250 2.0.0 delivered" : worst, retry ? 451 : worst == null ? 250 : 550,
                            now, failures, delays));
                }
                case AddressResolution.NoSuchUser n -> outcomes.add(classify(message, r,
                        "550 5.1.1 <" + address + ">: no such user here", 550, now, failures, delays));
                case AddressResolution.NotLocal n -> byDomain
                        .computeIfAbsent(address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT),
                                k -> new ArrayList<>()).add(r);
            }
        }
        for (Map.Entry<String, List<QueuedMessage.PendingRecipient>> group : byDomain.entrySet()) {
            List<RemoteDelivery.Outcome> results = remote.deliver(message, group.getKey(), group.getValue());
            for (int i = 0; i < results.size(); i++) {
                RemoteDelivery.Outcome o = results.get(i);
                outcomes.add(classify(message, group.getValue().get(i), o.reply(), o.code(), now, failures, delays));
            }
        }
        store.queue().record(message.id(), outcomes);
        if (!failures.isEmpty()) {
            report(message, failures);
        }
        if (!delays.isEmpty() && !message.delayWarned()) {
            report(message, delays);
            store.queue().markDelayWarned(message.id());
        }
    }

    private RecipientOutcome classify(QueuedMessage message, QueuedMessage.PendingRecipient r, String reply, int code,
                                      Instant now, List<DeliveryReport.Entry> failures, List<DeliveryReport.Entry> delays) {
        if (code < 400) {
            counters.delivered.incrementAndGet();
            return new RecipientOutcome.Delivered(r.position(), reply);
        }
        Duration age = Duration.between(message.receivedAt(), now);
        if (code >= 500 || age.compareTo(settings.maxLifetime()) >= 0) {
            String why = code >= 500 ? reply : reply + " (gave up after " + settings.maxLifetime().toHours() + " hours)";
            LOG.log(Level.INFO, "failed queue={0} rcpt={1} reply={2}", message.id(), r.recipient().address(), why);
            if (notifies(r.recipient(), "FAILURE", true)) {
                failures.add(new DeliveryReport.Entry(r.recipient(), DeliveryReport.Action.FAILED, why));
            }
            counters.failed.incrementAndGet();
            return new RecipientOutcome.Failed(r.position(), why);
        }
        Instant next = now.plus(settings.backoff(r.attempts() + 1));
        LOG.log(Level.INFO, "deferred queue={0} rcpt={1} reply={2} next={3}", message.id(), r.recipient().address(), reply, next);
        if (!settings.delayWarning().isZero() && age.compareTo(settings.delayWarning()) >= 0
                && notifies(r.recipient(), "DELAY", true)) {
            delays.add(new DeliveryReport.Entry(r.recipient(), DeliveryReport.Action.DELAYED, reply));
        }
        counters.deferred.incrementAndGet();
        return new RecipientOutcome.Deferred(r.position(), reply, next);
    }

    /** RFC 3461 §4.1: NOTIFY=NEVER or a list without the event means no report. */
    private static boolean notifies(MailEnvelope.Recipient r, String event, boolean byDefault) {
        return r.dsnNotify().map(n -> List.of(n.split(",")).contains(event)).orElse(byDefault);
    }

    /** Sends a DSN to the sender; never for the null sender, so reports cannot loop (RFC 5321 §4.5.5). */
    private void report(QueuedMessage message, List<DeliveryReport.Entry> entries) {
        if (message.envelope().returnPath().isEmpty() || intake == null) {
            return;
        }
        try (MessageSpool spool = store.spool()) {
            try (InputStream original = store.openContent(message.contentKey(), 0)) {
                DeliveryReport.write(spool, settings.hostname(), message, entries, original);
            }
            MessageSpool.Spooled report = spool.finish();
            try {
                MailEnvelope envelope = new MailEnvelope("", List.of(MailEnvelope.Recipient.of(message.envelope().returnPath())),
                        Optional.empty(), Optional.empty(), false, true, Instant.now());
                var id = intake.accept(envelope, report);
                counters.reports.incrementAndGet();
                LOG.log(Level.INFO, "report queued queue={0} for={1} report={2}", message.id(), message.envelope().returnPath(), id);
            } finally {
                report.discard();
            }
        } catch (IOException | StoreException e) {
            LOG.log(Level.WARNING, "cannot queue a delivery report queue=" + message.id() + ": " + e.getMessage());
        }
    }

    /** Alias targets on other servers: a new queue entry with the original sender (like Postfix virtual aliases). */
    private void forward(QueuedMessage message, List<String> targets) {
        if (intake == null) {
            return;
        }
        try (InputStream in = store.openContent(message.contentKey(), 0); MessageSpool spool = store.spool()) {
            in.transferTo(spool);
            MessageSpool.Spooled copy = spool.finish();
            try {
                MailEnvelope envelope = new MailEnvelope(message.envelope().returnPath(),
                        targets.stream().map(MailEnvelope.Recipient::of).toList(), message.envelope().envId(),
                        message.envelope().ret(), message.envelope().smtpUtf8(), message.envelope().body8bit(), Instant.now());
                intake.accept(envelope, copy);
            } finally {
                copy.discard();
            }
        } catch (IOException | StoreException e) {
            LOG.log(Level.WARNING, "cannot forward queue=" + message.id() + ": " + e.getMessage());
        }
    }

    /** Stops the workers after their current message; an interrupted delivery is retried after a restart. */
    @Override
    public void close() {
        stopping = true;
        work.release(settings.workers());
        for (Thread t : workers) {
            try {
                t.join(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

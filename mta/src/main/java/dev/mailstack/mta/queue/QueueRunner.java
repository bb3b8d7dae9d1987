package dev.mailstack.mta.queue;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mime.TraceField;
import dev.mailstack.mta.delivery.EditedCopy;
import dev.mailstack.mta.delivery.LocalDelivery;
import dev.mailstack.mta.delivery.SieveFilter;
import dev.mailstack.mta.delivery.RemoteDelivery;
import dev.mailstack.store.Account;
import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailQueue;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.RecipientOutcome;
import dev.mailstack.store.StoreException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
    /** What of a header is read to count its hops: SMTP takes none longer (552 5.3.4 past a MiB). */
    private static final int MAX_HEADER_BYTES = 1024 * 1024;
    /** Messages a worker claims at once; local deliveries among them share transactions. */
    static final int BATCH = 32;
    /** Messages handed off and waiting at most; past it new mail waits in the queue for a claim. */
    static final int MAX_HANDED_OFF = 1024;

    private final MailboxStore store;
    /** Replaced on SIGHUP (retry times, lifetime, warnings); the number of workers and the lease stay. */
    private volatile QueueSettings settings;
    private final LocalDelivery local;
    private final RemoteDelivery remote;
    private final Semaphore work = new Semaphore(0);
    private final List<Thread> workers = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Messages being delivered, whose leases the keeper renews, with the time of their claim. */
    private final Map<QueueId, Instant> inFlight = new ConcurrentHashMap<>();
    private final Semaphore remoteSlots = new Semaphore(MAX_REMOTE_DELIVERIES);
    /** The remote deliveries under way, which a stop waits for as it does for the workers. */
    private final Set<Thread> remoteThreads = ConcurrentHashMap.newKeySet();
    /**
     * Messages among them deleted by an administrator meanwhile (no further domain, no report),
     * with the claim it applies to: a later claim of the same entry is another attempt.
     */
    private final Map<QueueId, Instant> deleted = new ConcurrentHashMap<>();
    /**
     * Messages the intake queued already claimed for their first attempt ({@link #handOff}),
     * waiting for a worker; their leases are renewed as any delivery's while they wait.
     */
    private final Queue<QueuedMessage> handedOff = new ConcurrentLinkedQueue<>();
    private final AtomicInteger handedOffCount = new AtomicInteger();
    private Thread leaseKeeper;
    private QueueIntake intake;
    /** Out-of-office replies to what is delivered locally; none until there is an intake to queue them. */
    private VacationResponder vacations;
    /** Sieve notifications (RFC 5435) about what is delivered locally; none until there is an intake. */
    private Notifier notifier;
    private volatile boolean stopping;
    /** Set by {@link #beginStop}: when the deliveries to other servers under way must be over; null until then. */
    private volatile Instant stopBy;
    /** Counted down by {@link #close}: what a backoff waits on, so a stop ends it at once. */
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
    private final MailCounters counters;
    private volatile SenderRewriting srs = SenderRewriting.OFF;

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
        intake.handOffTo(this);
        this.vacations = new VacationResponder(store);
        this.notifier = new Notifier(store);
    }

    /** How forwards to other servers say who sent them ({@link SenderRewriting}); off unless set. */
    public void useSenderRewriting(SenderRewriting rewriting) {
        this.srs = rewriting;
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
        leaseKeeper = Thread.ofVirtual().name("queue-leases").start(this::keepLeases);
    }

    /**
     * Renews the leases of messages being delivered every third of a lease, so none is claimed a
     * second time however long its delivery takes, and notes the ones deleted meanwhile.
     */
    private void keepLeases() {
        Duration every = settings.lease().dividedBy(3);
        while (!stopping) {
            try {
                Thread.sleep(every); // a clock, not a condition: leases age whether or not anything happens
                Map<QueueId, Instant> seen = Map.copyOf(inFlight);
                for (QueueId gone : store.queue().renewLeases(seen.keySet(), Instant.now().plus(settings.lease()))) {
                    // only for the attempt renewed: one that ended meanwhile cleared its lease, and a
                    // new claim of the same entry is another attempt, not a deleted one
                    inFlight.computeIfPresent(gone, (id, claimed) -> {
                        if (claimed.equals(seen.get(id))) {
                            deleted.put(id, claimed);
                        }
                        return claimed;
                    });
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // a keeper that died would leave long deliveries open to a second claim: go on
                LOG.log(Level.ERROR, "cannot renew queue leases, trying again in " + every.toMillis() + " ms", e);
            }
        }
    }

    /** Retries, expiry and delay warnings from now on follow these (a configuration reload). */
    public void use(QueueSettings changed) {
        QueueSettings now = settings;
        settings = new QueueSettings(changed.hostname(), changed.retryInitial(), changed.retryMax(), changed.maxLifetime(),
                changed.delayWarning(), now.workers(), now.lease());
    }

    /**
     * The lease a message being queued now is claimed with for its first attempt, in the
     * transaction that queues it, so that its delivery costs no claim of its own (a commit, most of
     * a single client's message at a time); empty when enough such messages wait already, or the
     * runner has no workers (not started, or stopping): then it waits in the queue for a worker's
     * claim, as retries do.
     */
    Optional<Duration> firstAttemptLease() {
        return workers.isEmpty() || stopping || handedOffCount.get() >= MAX_HANDED_OFF ? Optional.empty()
                : Optional.of(settings.lease());
    }

    /** A message queued already claimed ({@link #firstAttemptLease}): a worker takes it before it looks for more. */
    void handOff(QueuedMessage claimed) {
        inFlight.put(claimed.id(), claimed.claimedAt()); // from now on its lease is renewed
        handedOffCount.incrementAndGet();
        handedOff.add(claimed);
        wake();
    }

    private List<QueuedMessage> takeHandedOff() {
        List<QueuedMessage> batch = new ArrayList<>();
        QueuedMessage m;
        while (batch.size() < BATCH && (m = handedOff.poll()) != null) {
            handedOffCount.decrementAndGet();
            if (deletedDuring(m)) {
                ended(m); // an administrator deleted it while it waited: as a claim would no longer find it
            } else {
                batch.add(m);
            }
        }
        return batch;
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
                List<QueuedMessage> batch = takeHandedOff();
                if (batch.isEmpty() && stopBy == null) {
                    // once a stop has begun, claimed entries for other servers would only be dropped
                    // again, each claim a write (and a pending retry request lost): local mail only
                    batch = store.queue().claimDue(Instant.now(), settings.lease(), BATCH);
                }
                if (!batch.isEmpty()) {
                    dispatch(batch);
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

    /**
     * One delivery attempt for a batch of claimed messages. Messages for local mailboxes only are
     * delivered together (one store transaction per account, one queue update for the batch);
     * each message with a remote recipient gets its own thread, so a slow next hop holds up no
     * other message while its lease runs. Returns when all are done (tests drive the runner through
     * it); the workers {@link #dispatch} and go on.
     */
    void deliver(List<QueuedMessage> batch) {
        for (Thread remote : dispatch(batch)) {
            try {
                remote.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Delivers the batch's messages for local mailboxes now, and starts each message with a remote
     * recipient on a thread of its own, which it does not wait for: a next hop that takes minutes
     * to answer (RFC 5321 §4.5.3.2 allows ten after the final dot) must not hold a worker, or a few
     * slow servers would stop all delivery, local mail included. At most
     * {@link #MAX_REMOTE_DELIVERIES} at once; past that the worker waits for one to end.
     *
     * @return the threads started
     */
    private List<Thread> dispatch(List<QueuedMessage> batch) {
        batch.forEach(m -> inFlight.put(m.id(), m.claimedAt()));
        List<Thread> started = new ArrayList<>();
        Set<QueueId> handedOver = new HashSet<>();
        try {
            Map<String, AddressResolution> routes = new HashMap<>();
            for (QueuedMessage m : deliverLocalOnly(batch, routes)) {
                remoteSlots.acquireUninterruptibly();
                if (stopping || stopBy != null) {
                    remoteSlots.release();
                    break; // the rest wait for the next start, which releases their leases
                }
                Thread t = Thread.ofVirtual().name("queue-remote-" + m.id()).unstarted(() -> deliverRemote(m, routes));
                remoteThreads.add(t); // before it starts: a stop that looks now waits for it
                try {
                    t.start();
                } catch (RuntimeException e) {
                    remoteThreads.remove(t);
                    remoteSlots.release(); // no thread: the lease's expiry retries it
                    throw e;
                }
                started.add(t);
                handedOver.add(m.id());
            }
        } finally {
            batch.stream().filter(m -> !handedOver.contains(m.id())).forEach(this::ended); // incl. those that failed
        }
        return started;
    }

    /** How long a stop gives the deliveries under way (systemd's TimeoutStopSec in the unit leaves room for it). */
    public static final Duration STOP_BUDGET = Duration.ofSeconds(30);

    /** Remote deliveries under way at once, each on its own thread (Postfix's default_process_limit for smtp). */
    static final int MAX_REMOTE_DELIVERIES = 100;

    private void deliverRemote(QueuedMessage m, Map<String, AddressResolution> routes) {
        try {
            deliverWithRemote(m, routes);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "delivery of queue=" + m.id() + " failed; its lease will run out and it is retried", e);
        } finally {
            ended(m);
            remoteThreads.remove(Thread.currentThread());
            remoteSlots.release();
        }
    }

    /** The attempt at {@code m} is over: its lease is no longer ours to renew. */
    private void ended(QueuedMessage m) {
        inFlight.remove(m.id(), m.claimedAt());
        deleted.remove(m.id(), m.claimedAt());
    }

    private boolean deletedDuring(QueuedMessage m) {
        return m.claimedAt().equals(deleted.get(m.id()));
    }

    /** Delivers the messages of {@code batch} that have local recipients only; returns the others. */
    private List<QueuedMessage> deliverLocalOnly(List<QueuedMessage> batch, Map<String, AddressResolution> routes) {
        List<QueuedMessage> localOnly = new ArrayList<>();
        List<QueuedMessage> withRemote = new ArrayList<>();
        for (QueuedMessage m : batch) {
            boolean remote = false;
            for (QueuedMessage.PendingRecipient r : m.pending()) {
                remote |= routes.computeIfAbsent(r.recipient().address(), store.accounts()::resolve)
                        instanceof AddressResolution.NotLocal;
            }
            (remote ? withRemote : localOnly).add(m);
        }
        if (!localOnly.isEmpty()) {
            List<Attempt> attempts = deliverLocally(localOnly, routes);
            Map<QueueId, List<RecipientOutcome>> outcomes = new LinkedHashMap<>();
            attempts.forEach(a -> outcomes.put(a.message.id(), a.outcomes));
            Set<QueueId> recorded = record(outcomes,
                    localOnly.stream().map(QueuedMessage::claimedAt).max(Instant::compareTo).orElseThrow(),
                    attempts.stream().flatMap(a -> endFollowUps(a).stream()).toList());
            localOnly.forEach(this::ended);
            attempts.forEach(a -> recorded(a, recorded));
        }
        return withRemote;
    }

    /**
     * Local recipients first, then each remote domain in turn. The local deliveries (with the
     * forwards they call for), and each domain's but the last, are recorded as soon as they are
     * done, so nothing is delivered or forwarded again if the process dies before the rest is;
     * failures and deferrals wait for the end, where their reports are sent. Before each domain
     * after the first the entry is looked up again (its lease renewed), so one deleted meanwhile
     * goes no further.
     */
    private void deliverWithRemote(QueuedMessage message, Map<String, AddressResolution> routes) {
        Attempt attempt = deliverLocally(List.of(message), routes).getFirst();
        try {
            deliverWithRemote(attempt, routes);
        } finally {
            attempt.resends.forEach(FollowUpFiles::close); // what a failure left unqueued; the lease's retry prepares it again
        }
    }

    private void deliverWithRemote(Attempt attempt, Map<String, AddressResolution> routes) {
        QueuedMessage message = attempt.message;
        List<RecipientOutcome> localDone = attempt.outcomes.stream().filter(o -> o instanceof RecipientOutcome.Delivered).toList();
        attempt.outcomes.removeAll(localDone);
        recordDone(attempt, localDone);
        int left = attempt.remote.size();
        for (Map.Entry<String, List<QueuedMessage.PendingRecipient>> group : attempt.remote.entrySet()) {
            if (left < attempt.remote.size() && stopBy != null) {
                break; // a stop has begun: no new transfer (beginStop); the domains left wait for the next start
            }
            if (left < attempt.remote.size() && !store.queue().renewLeases(List.of(message.id()),
                    Instant.now().plus(settings.lease())).isEmpty()) {
                deleted.put(message.id(), message.claimedAt());
            }
            if (deletedDuring(message)) {
                break;
            }
            boolean last = --left == 0;
            List<RemoteDelivery.Outcome> results = remoteAttempt(message, group.getKey(), group.getValue());
            List<RecipientOutcome> done = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                RemoteDelivery.Outcome o = results.get(i);
                RecipientOutcome outcome = !o.attempted() ? noTurn(attempt, group.getValue().get(i), o.reply())
                        : classify(attempt, group.getValue().get(i), o.reply(), o.code(), o.said(),
                        o.nextHopReports() ? null : DeliveryReport.Action.RELAYED);
                (outcome instanceof RecipientOutcome.Delivered && !last ? done : attempt.outcomes).add(outcome);
            }
            recordDone(attempt, done);
        }
        Set<QueueId> recorded = recordAfterTransfer(message, attempt.outcomes, endFollowUps(attempt));
        ended(message);
        recorded(attempt, recorded);
    }

    /**
     * One domain's remote delivery, where a bug that throws (a RuntimeException) becomes 451 4.3.0
     * for each recipient: recorded as any temporary failure, so the attempt counts and the message
     * is retried, warned about and in the end expired and bounced like others. Left to the lease,
     * the message was tried again and again, no attempt ever counted, and never expired.
     */
    private List<RemoteDelivery.Outcome> remoteAttempt(QueuedMessage message, String domain,
                                                       List<QueuedMessage.PendingRecipient> recipients) {
        try {
            return remote.deliver(message, domain, recipients);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "remote delivery failed unexpectedly queue=" + message.id() + " domain=" + domain
                    + "; deferred as 451 4.3.0", e);
            String reply = "451 4.3.0 internal error delivering to " + domain + " (" + e.getClass().getSimpleName()
                    + "); see the server log";
            return recipients.stream().map(r -> new RemoteDelivery.Outcome(r.position(), 451, reply, false)).toList();
        }
    }

    /**
     * The end of an attempt in which other servers took the message: their 250s are recorded however
     * long the database takes to accept them (busy, a full disk), the message still in flight and its
     * lease renewed meanwhile. Left to its lease's expiry, the attempt would be made again, and the
     * servers that accepted the message would get it twice. Only a stop gives up (a duplicate then
     * is what RFC 5321 §6.1 accepts of a crash).
     */
    private Set<QueueId> recordAfterTransfer(QueuedMessage message, List<RecipientOutcome> outcomes,
                                             List<FollowUpFiles> followUps) {
        Map<QueueId, List<RecipientOutcome>> byId = Map.of(message.id(), outcomes);
        boolean accepted = outcomes.stream().anyMatch(o -> o instanceof RecipientOutcome.Delivered);
        try {
            for (Duration wait = RECORD_RETRY_FIRST; ; wait = min(wait.multipliedBy(2), RECORD_RETRY_MAX)) {
                try {
                    return recordOrSplit(byId, message.claimedAt(), followUps);
                } catch (StoreException e) {
                    if (!accepted || stopping) {
                        throw e;
                    }
                    LOG.log(Level.WARNING, "cannot record the outcome of queue={0}, which the next hop accepted;"
                            + " trying again in {1} ms: {2}", message.id(), wait.toMillis(), e.getMessage());
                    if (!pauseUnlessStopping(wait)) {
                        throw e;
                    }
                }
            }
        } finally {
            followUps.forEach(FollowUpFiles::close);
        }
    }

    private static final Duration RECORD_RETRY_FIRST = Duration.ofMillis(500);
    private static final Duration RECORD_RETRY_MAX = Duration.ofMinutes(1);

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** Waits {@code d}, or less when the runner begins to stop; false if it did. */
    private boolean pauseUnlessStopping(Duration d) {
        try {
            return !stopped.await(d.toMillis(), TimeUnit.MILLISECONDS) && !stopping;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Records the outcomes of an attempt's end and queues the reports and forwards they call for,
     * in one transaction. When those cannot be queued, a batch is recorded message by message, so
     * one message's holds back no other's; a message's outcomes then go without them, each
     * failure and each delivery that had a forward as a deferral, so that the next attempt fails
     * it again and reports it then, or forwards it then. Its other deliveries are recorded all the
     * same: one recorded late would be made again.
     */
    private Set<QueueId> record(Map<QueueId, List<RecipientOutcome>> outcomes, Instant claimedAt,
                                List<FollowUpFiles> followUps) {
        try {
            return recordOrSplit(outcomes, claimedAt, followUps);
        } finally {
            followUps.forEach(FollowUpFiles::close);
        }
    }

    private Set<QueueId> recordOrSplit(Map<QueueId, List<RecipientOutcome>> outcomes, Instant claimedAt,
                                       List<FollowUpFiles> followUps) {
        MailQueue.Recorded recorded;
        try {
            recorded = store.queue().record(outcomes, claimedAt, followUps.stream().map(FollowUpFiles::followUp).toList());
        } catch (StoreException e) {
            if (followUps.isEmpty()) {
                throw e;
            }
            if (outcomes.size() > 1) {
                Set<QueueId> queued = new HashSet<>();
                for (Map.Entry<QueueId, List<RecipientOutcome>> one : outcomes.entrySet()) {
                    queued.addAll(recordOrSplit(Map.of(one.getKey(), one.getValue()), claimedAt,
                            followUps.stream().filter(r -> r.followUp().about().equals(one.getKey())).toList()));
                }
                return queued;
            }
            QueueId id = outcomes.keySet().iterator().next();
            LOG.log(Level.WARNING, "cannot queue the reports or forwards of queue={0}, those recipients wait for the"
                    + " next attempt: {1}", id, e.getMessage());
            Instant next = Instant.now().plus(settings.retryInitial());
            Set<Integer> forwarded = forwardedPositions(followUps);
            List<RecipientOutcome> deferred = outcomes.get(id).stream().map(o -> switch (o) {
                case RecipientOutcome.Failed f -> new RecipientOutcome.Deferred(f.position(), f.reply(), next);
                case RecipientOutcome.Delivered d when forwarded.contains(d.position()) -> new RecipientOutcome.Deferred(
                        d.position(), "451 4.3.0 delivered here, but the copy to send on could not be queued; will retry", next);
                default -> o;
            }).toList();
            Set<QueueId> queued = store.queue().record(Map.of(id, deferred), claimedAt);
            if (queued.contains(id)) {
                count(deferred);
            }
            return queued;
        }
        queued(followUps, recorded.followUps());
        recorded.queued().forEach(id -> count(outcomes.get(id)));
        return recorded.queued();
    }

    /** The recipients that {@code followUps} forward for. */
    private static Set<Integer> forwardedPositions(List<FollowUpFiles> followUps) {
        Set<Integer> positions = new HashSet<>();
        followUps.forEach(f -> f.forRecipient().ifPresent(r -> positions.add(r.position())));
        return positions;
    }

    /**
     * Records deliveries while the attempt goes on, and queues the forwards and the success notices
     * they call for (RFC 3461 NOTIFY=SUCCESS) with them: those recipients are never tried again,
     * so a notice or forward left for the end of the attempt would be lost with a crash before it.
     * Ones that cannot be recorded now wait for the end.
     */
    private void recordDone(Attempt attempt, List<RecipientOutcome> done) {
        if (done.isEmpty()) {
            return;
        }
        QueueId id = attempt.message.id();
        // only the notices and forwards of these deliveries: any other goes with the outcome it follows from
        Set<Integer> positions = new HashSet<>();
        done.forEach(o -> positions.add(o.position()));
        Set<MailEnvelope.Recipient> recipients = new HashSet<>();
        attempt.message.pending().stream().filter(p -> positions.contains(p.position()))
                .forEach(p -> recipients.add(p.recipient()));
        List<DeliveryReport.Entry> noticed = attempt.successes.stream().filter(e -> recipients.contains(e.recipient())).toList();
        List<FollowUpFiles> notices = write(attempt.message, noticed, false).stream().toList();
        List<FollowUpFiles> sends = attempt.resends.stream()
                .filter(f -> positions.contains(f.forRecipient().orElseThrow().position())).toList();
        List<FollowUpFiles> followUps = new ArrayList<>(notices);
        followUps.addAll(sends);
        try {
            Optional<List<Optional<QueueId>>> recorded;
            List<RecipientOutcome> now = done;
            try {
                recorded = store.queue().recordSome(id, done, followUps.stream().map(FollowUpFiles::followUp).toList());
                recorded.ifPresent(ids -> {
                    queued(followUps, ids);
                    attempt.successes.removeAll(noticed);
                });
                sends.forEach(FollowUpFiles::close); // queued, or dropped with the deleted entry
                attempt.resends.removeAll(sends);
            } catch (StoreException e) {
                if (followUps.isEmpty()) {
                    throw e;
                }
                // the notice and the forwards go with the attempt's end instead, and so do the deliveries they are for
                LOG.log(Level.WARNING, "cannot queue a success notice or a forward yet queue={0}: {1}", id, e.getMessage());
                Set<Integer> forwarded = forwardedPositions(sends);
                now = done.stream().filter(o -> !forwarded.contains(o.position())).toList();
                recorded = now.isEmpty() || store.queue().recordSome(id, now) ? Optional.of(List.of()) : Optional.empty();
                attempt.outcomes.addAll(done.stream().filter(o -> forwarded.contains(o.position())).toList());
            }
            if (recorded.isEmpty()) {
                deleted.put(id, attempt.message.claimedAt());
            } else {
                count(now);
            }
        } catch (StoreException e) {
            LOG.log(Level.WARNING, "cannot record deliveries yet queue={0}, recording them with the rest: {1}",
                    id, e.getMessage());
            attempt.outcomes.addAll(done);
        } finally {
            notices.forEach(FollowUpFiles::close);
        }
    }

    /** Logs a message deleted while it was delivered (mailstack queue delete): nothing recorded, no report. */
    private static void recorded(Attempt a, Set<QueueId> recorded) {
        if (!recorded.contains(a.message.id())) {
            LOG.log(Level.INFO, "deleted during delivery queue={0}: nothing recorded or reported", a.message.id());
        }
    }

    /**
     * One attempt at a message: its outcomes so far, the reports and forwards they call for, its
     * remote recipients by domain.
     */
    private static final class Attempt {
        final QueuedMessage message;
        final Instant now;
        final List<RecipientOutcome> outcomes = new ArrayList<>();
        final List<DeliveryReport.Entry> failures = new ArrayList<>();
        final List<DeliveryReport.Entry> delays = new ArrayList<>();
        final List<DeliveryReport.Entry> successes = new ArrayList<>();
        final Map<String, List<QueuedMessage.PendingRecipient>> remote = new LinkedHashMap<>();
        /**
         * Sieve redirects queued in this attempt, as "account id target": alice@ and alice+tag@ (or
         * an alias of hers) in one message run her script twice, and the redirect goes once.
         */
        final Set<String> redirected = new HashSet<>();
        /** Copies sent on for delivered recipients (forwards, redirects), to be queued with their outcomes. */
        final List<FollowUpFiles> resends = new ArrayList<>();

        Attempt(QueuedMessage message, Instant now) {
            this.message = message;
            this.now = now;
        }
    }

    /** Delivers the local recipients of {@code messages}; remote ones are left in each attempt's {@code remote}. */
    private List<Attempt> deliverLocally(List<QueuedMessage> messages, Map<String, AddressResolution> routes) {
        Instant now = Instant.now();
        List<Attempt> attempts = messages.stream().map(m -> new Attempt(m, now)).toList();
        List<LocalDelivery.Request> requests = new ArrayList<>();
        for (Attempt a : attempts) {
            for (QueuedMessage.PendingRecipient r : a.message.pending()) {
                if (routes.get(r.recipient().address()) instanceof AddressResolution.Deliver d) {
                    d.accounts().forEach(account -> requests.add(
                            new LocalDelivery.Request(a.message, account, r.recipient().address())));
                }
            }
        }
        Iterator<LocalDelivery.Result> results = local.deliverAll(requests).iterator();
        try {
            resolveOutcomes(attempts, routes, results);
        } catch (RuntimeException e) {
            attempts.forEach(a -> a.resends.forEach(FollowUpFiles::close));
            throw e;
        }
        return attempts;
    }

    /** Each attempt's outcomes from the local deliveries' {@code results} (in request order), with the forwards they call for. */
    private void resolveOutcomes(List<Attempt> attempts, Map<String, AddressResolution> routes,
                                 Iterator<LocalDelivery.Result> results) {
        for (Attempt a : attempts) {
            for (QueuedMessage.PendingRecipient r : a.message.pending()) {
                String address = r.recipient().address();
                switch (routes.get(address)) {
                    case AddressResolution.Deliver d -> {
                        String worst = null;
                        boolean retry = false;
                        Map<Account, SieveFilter.Disposition> redirects = new LinkedHashMap<>();
                        Map<Account, SieveFilter.Disposition> delivered = new LinkedHashMap<>();
                        for (Account account : d.accounts()) {
                            switch (results.next()) {
                                case LocalDelivery.Delivered ok -> {
                                    for (LocalDelivery.Filed f : ok.filed()) {
                                        LOG.log(Level.INFO, "delivered queue={0} rcpt={1} user={2} mailbox=\"{3}\" uid={4}",
                                                a.message.id(), address, account.address(), f.mailbox().path(),
                                                f.uid().map(u -> Long.toString(u.value())).orElse("already-delivered"));
                                    }
                                    if (ok.filed().isEmpty()) {
                                        LOG.log(Level.INFO, "discarded queue={0} rcpt={1} user={2} by its Sieve filter",
                                                a.message.id(), address, account.address());
                                    }
                                    if (!ok.disposition().redirects().isEmpty()) {
                                        redirects.put(account, ok.disposition());
                                    }
                                    delivered.put(account, ok.disposition());
                                }
                                case LocalDelivery.TryLater later -> {
                                    retry = true;
                                    worst = later.reply();
                                }
                                case LocalDelivery.Refused refused -> worst = worst == null ? refused.reply() : worst;
                            }
                        }
                        // Forward (and redirect, RFC 5228 §4.2) only once the local copies are in, and
                        // queue them with this recipient's outcome, so a retry does not send them again.
                        List<FollowUpFiles> sends = new ArrayList<>();
                        List<String> redirectedNow = new ArrayList<>();
                        if (!retry && !d.forwards().isEmpty()) {
                            String domain = address.substring(address.lastIndexOf('@') + 1);
                            Optional<String> failed = resend(a.message, Optional.empty(), r, d.forwards(), domain, "forward",
                                    forwardedNotify(r.recipient(), d), List.of(), sends);
                            retry = failed.filter(f -> f.startsWith("4")).isPresent();
                            worst = failed.orElse(worst);
                        }
                        for (Map.Entry<Account, SieveFilter.Disposition> e : retry
                                ? List.<Map.Entry<Account, SieveFilter.Disposition>>of() : redirects.entrySet()) {
                            String own = e.getKey().address();
                            List<String> to = e.getValue().redirects();
                            List<String> keys = to.stream().map(t -> e.getKey().id().value() + " " + t).toList();
                            List<String> targets = to.stream()
                                    .filter(t -> !a.redirected.contains(e.getKey().id().value() + " " + t)).toList();
                            if (targets.isEmpty()) {
                                continue;
                            }
                            // RFC 5293 §7: the message as the account's script edited it. RFC 5228 §4.2: one
                            // redirect to a target per message, also when an earlier attempt, for another
                            // address of the account, sent it (its mark is in the queue, V20)
                            List<MailQueue.Guard> once = targets.stream().<MailQueue.Guard>map(t -> new MailQueue.Guard.Once(
                                    e.getKey().id(), "redirect\0" + t.toLowerCase(Locale.ROOT))).toList();
                            Optional<String> failed = resend(a.message, e.getValue().edited(), r, targets,
                                    own.substring(own.lastIndexOf('@') + 1), "Sieve redirect of " + own,
                                    r.recipient().dsnNotify(), once, sends);
                            retry = failed.filter(f -> f.startsWith("4")).isPresent();
                            worst = failed.orElse(worst);
                            if (failed.isEmpty()) {
                                redirectedNow.addAll(keys);
                            }
                            if (retry) {
                                break;
                            }
                        }
                        RecipientOutcome outcome = classify(a, r, worst == null ? "250 2.0.0 delivered" : worst,
                                retry ? 451 : worst == null ? 250 : 550, Optional.empty(), successAction(d));
                        a.outcomes.add(outcome);
                        if (outcome instanceof RecipientOutcome.Deferred) {
                            sends.forEach(FollowUpFiles::close); // all of them go with the attempt that delivers it
                        } else {
                            a.resends.addAll(sends);
                            a.redirected.addAll(redirectedNow);
                            a.resends.addAll(automaticReplies(a, r, delivered));
                        }
                    }
                    case AddressResolution.NoSuchUser n -> a.outcomes.add(classify(a, r,
                            "550 5.1.1 <" + address + ">: no such user here", 550, Optional.empty(), null));
                    case AddressResolution.NotLocal n -> a.remote
                            .computeIfAbsent(address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT),
                                    k -> new ArrayList<>()).add(r);
                }
            }
        }
    }

    /**
     * The vacation replies (RFC 5230) and Sieve notifications (RFC 5435) that the deliveries to
     * {@code accounts} through {@code r} call for, ready to be queued with r's outcome as its
     * redirects are: not before (a crash then would send them with nothing recorded, and the retry
     * again), not on their own (nothing would send them after a crash before the outcome), and once
     * per message and account, which their guards see to in the queue's transaction, for this
     * attempt's other addresses of the account and for later attempts alike. Ones that cannot be
     * written are logged and left out: the delivery stands.
     */
    private List<FollowUpFiles> automaticReplies(Attempt a, QueuedMessage.PendingRecipient r,
                                                 Map<Account, SieveFilter.Disposition> accounts) {
        List<FollowUpFiles> ready = new ArrayList<>();
        if (intake == null) {
            return ready;
        }
        for (Map.Entry<Account, SieveFilter.Disposition> e : accounts.entrySet()) {
            List<AutomaticMessage> written = new ArrayList<>();
            vacations.replyTo(a.message, e.getKey(), r.recipient().address(), e.getValue()).ifPresent(written::add);
            written.addAll(notifier.notificationsOf(a.message, e.getKey(), e.getValue()));
            for (AutomaticMessage m : written) {
                try {
                    QueueIntake.Ready files = intake.ready(m);
                    ready.add(new FollowUpFiles(new MailQueue.FollowUp(a.message.id(), false, files.envelope(),
                            files.source(), files.facts(), m.guards()), Optional.of(r), m.what(), files::close));
                } catch (IOException | RuntimeException ex) {
                    LOG.log(ex instanceof IOException || ex instanceof StoreException ? Level.WARNING : Level.ERROR,
                            "cannot write the " + m.what() + " queue=" + a.message.id() + ": " + ex, ex);
                }
            }
        }
        return ready;
    }

    /**
     * What an attempt's end queues with its outcomes: reports of failures, a first delay warning,
     * success notices, and the forwards not yet queued.
     */
    private List<FollowUpFiles> endFollowUps(Attempt a) {
        List<FollowUpFiles> followUps = new ArrayList<>();
        write(a.message, a.failures, false).ifPresent(followUps::add);
        if (!a.message.delayWarned()) {
            write(a.message, a.delays, true).ifPresent(followUps::add);
        }
        write(a.message, a.successes, false).ifPresent(followUps::add);
        followUps.addAll(a.resends);
        return followUps;
    }

    /** How soon a delivery that got no turn at its destination is tried again. */
    static final Duration NO_TURN_RETRY = Duration.ofMinutes(1);

    /**
     * Our own per-destination limit gave no turn: nothing was tried, so the recipient is tried again
     * shortly, without an attempt counted, a longer backoff or a delay warning (Postfix keeps such
     * mail in its active queue until the destination has a free slot).
     */
    private RecipientOutcome noTurn(Attempt a, QueuedMessage.PendingRecipient r, String reply) {
        Instant next = a.now.plus(NO_TURN_RETRY);
        LOG.log(Level.INFO, "postponed queue={0} rcpt={1} reply={2} next={3}", a.message.id(), r.recipient().address(), reply, next);
        return new RecipientOutcome.Deferred(r.position(), reply, next, false);
    }

    /**
     * {@code said}: the next hop's own reply, which {@code reply} is or quotes (none for local
     * delivery's and our own);
     * {@code success}: what a success notice would say (null: none is ours to send).
     */
    private RecipientOutcome classify(Attempt a, QueuedMessage.PendingRecipient r, String reply, int code,
                                      Optional<RemoteDelivery.HostReply> said, DeliveryReport.Action success) {
        QueuedMessage message = a.message;
        if (code < 200 || code >= 600 || code / 100 == 3) {
            // only 2yz is success (RFC 5321 §4.2.1); anything else a delivery passes on is a fault
            // of ours or the next hop's, and waits for a retry, never counting as delivered
            reply = "451 4.5.0 unexpected reply (" + reply + ")";
            code = 451;
            said = Optional.empty(); // our account of it now, no reply SMTP allows
        }
        if (code < 300) {
            // RFC 3461 §4.1: NOTIFY=SUCCESS asks for a notice on delivery; without NOTIFY, none.
            if (success != null && notifies(r.recipient(), "SUCCESS", false)) {
                a.successes.add(new DeliveryReport.Entry(r.recipient(), success, reply, said));
            }
            return new RecipientOutcome.Delivered(r.position(), reply);
        }
        Duration age = Duration.between(message.receivedAt(), a.now);
        if (code >= 500 || age.compareTo(settings.maxLifetime()) >= 0) {
            String why = code >= 500 ? reply : reply + " (gave up after " + settings.maxLifetime().toHours() + " hours)";
            LOG.log(Level.INFO, "failed queue={0} rcpt={1} reply={2}", message.id(), r.recipient().address(), why);
            if (notifies(r.recipient(), "FAILURE", true)) {
                a.failures.add(new DeliveryReport.Entry(r.recipient(), DeliveryReport.Action.FAILED, why, said));
            }
            return new RecipientOutcome.Failed(r.position(), why);
        }
        Instant next = a.now.plus(settings.backoff(r.attempts() + 1));
        LOG.log(Level.INFO, "deferred queue={0} rcpt={1} reply={2} next={3}", message.id(), r.recipient().address(), reply, next);
        if (!settings.delayWarning().isZero() && age.compareTo(settings.delayWarning()) >= 0
                && notifies(r.recipient(), "DELAY", true)) {
            a.delays.add(new DeliveryReport.Entry(r.recipient(), DeliveryReport.Action.DELAYED, reply, said));
        }
        return new RecipientOutcome.Deferred(r.position(), reply, next);
    }

    /**
     * The success notice an address that resolved to {@code d} gives (RFC 3461 §5.2.7): none for an
     * alias that only forwards, to one address (the next hop reports, as the sender's NOTIFY goes
     * on with the copy); "expanded" for one that also goes to more (its copies then ask for no
     * success notice of their own); "delivered" for mailboxes here only.
     */
    private static DeliveryReport.Action successAction(AddressResolution.Deliver d) {
        if (d.forwards().isEmpty()) {
            return DeliveryReport.Action.DELIVERED;
        }
        return d.accounts().isEmpty() && d.forwards().size() == 1 ? null : DeliveryReport.Action.EXPANDED;
    }

    /**
     * The NOTIFY an alias's forwards carry (RFC 3461 §5.2.7): the sender's, for a single forward
     * that stands in for the address; without SUCCESS where the address expanded to several, which
     * the "expanded" notice here has answered (NEVER when nothing is left).
     */
    private static Optional<String> forwardedNotify(MailEnvelope.Recipient via, AddressResolution.Deliver d) {
        if (successAction(d) != DeliveryReport.Action.EXPANDED || via.dsnNotify().isEmpty()) {
            return via.dsnNotify();
        }
        List<String> rest = List.of(via.dsnNotify().get().split(",")).stream().filter(n -> !n.equals("SUCCESS")).toList();
        return Optional.of(rest.isEmpty() ? "NEVER" : String.join(",", rest));
    }

    /** RFC 3461 §4.1: NOTIFY=NEVER or a list without the event means no report. */
    private static boolean notifies(MailEnvelope.Recipient r, String event, boolean byDefault) {
        return r.dsnNotify().map(n -> List.of(n.split(",")).contains(event)).orElse(byDefault);
    }

    /**
     * A DSN to the sender, written to a spool and prepared for the queue, to be queued with the
     * outcomes it reports. Never for the null sender, so reports cannot loop (RFC 5321 §4.5.5).
     * Empty when there is nothing to report, or it cannot be written (then logged: the outcomes
     * are recorded all the same).
     */
    private Optional<FollowUpFiles> write(QueuedMessage message, List<DeliveryReport.Entry> entries, boolean delay) {
        if (entries.isEmpty() || message.envelope().returnPath().isEmpty() || intake == null) {
            return Optional.empty();
        }
        MessageSpool.Spooled written = null;
        try (MessageSpool spool = store.spool()) {
            String to = reportTo(message.envelope().returnPath());
            try (InputStream original = store.openContent(message.contentKey(), 0)) {
                DeliveryReport.write(spool, settings.hostname(), message, to, List.copyOf(entries), original);
            }
            written = spool.finish();
            // RFC 6531 §3.4: a UTF-8 address (the sender's, in the envelope and the report's To)
            // needs SMTPUTF8 all the way, as VacationResponder's replies do
            MailEnvelope envelope = new MailEnvelope("", List.of(MailEnvelope.Recipient.of(to)),
                    Optional.empty(), Optional.empty(), !isAscii(to), true, Instant.now());
            QueueIntake.Prepared prepared = intake.prepare(envelope, written);
            return Optional.of(FollowUpFiles.of(
                    new MailQueue.FollowUp(message.id(), delay, envelope, prepared.source(), prepared.facts()),
                    Optional.empty(), "report", written, prepared));
        } catch (IOException | RuntimeException e) {
            // RuntimeException too: this runs before the outcomes are recorded, and a delivery left
            // unrecorded by a bug in writing its report would be made again when the lease runs out
            LOG.log(e instanceof IOException || e instanceof StoreException ? Level.WARNING : Level.ERROR,
                    "cannot write a delivery report queue=" + message.id() + ": " + e, e);
            if (written != null) {
                written.discard();
            }
            return Optional.empty();
        }
    }

    /**
     * Where a report about a message goes: its sender, or for a forward we sent from an SRS
     * address (an alias's domain is ours, so that address has no mailbox here), the sender it stands for.
     */
    private String reportTo(String returnPath) {
        int at = returnPath.lastIndexOf('@');
        if (at > 0 && store.accounts().isLocalDomain(returnPath.substring(at + 1))) {
            return srs.reverse(returnPath).orElse(returnPath);
        }
        return returnPath;
    }

    /** Metrics count outcomes once recorded: none of an entry deleted while it was delivered. */
    private void count(List<RecipientOutcome> outcomes) {
        for (RecipientOutcome o : outcomes) {
            (switch (o) {
                case RecipientOutcome.Delivered d -> counters.delivered;
                case RecipientOutcome.Deferred d -> counters.deferred;
                case RecipientOutcome.Failed f -> counters.failed;
            }).incrementAndGet();
        }
    }

    /** Reports and forwards committed with their outcomes ({@code ids} in the same order; empty: not queued). */
    private void queued(List<FollowUpFiles> followUps, List<Optional<QueueId>> ids) {
        int count = 0;
        for (int i = 0; i < ids.size(); i++) { // none when the outcomes went without them
            if (ids.get(i).isEmpty()) {
                if (!followUps.get(i).followUp().guards().isEmpty()) {
                    LOG.log(Level.INFO, "{0} not queued queue={1}: sent already, or not due", followUps.get(i).what(),
                            followUps.get(i).followUp().about());
                }
                continue;
            }
            FollowUpFiles f = followUps.get(i);
            MailQueue.FollowUp r = f.followUp();
            count++;
            if (f.forRecipient().isEmpty()) {
                counters.reports.incrementAndGet();
                LOG.log(Level.INFO, "report queued queue={0} for={1} report={2}", r.about(),
                        r.envelope().recipients().getFirst().address(), ids.get(i).get());
            } else {
                LOG.log(Level.INFO, "{0} queued queue={1} rcpt={2} to={3} as={4}", f.what(), r.about(),
                        f.forRecipient().get().recipient().address(),
                        r.envelope().recipients().stream().map(MailEnvelope.Recipient::address).toList(), ids.get(i).get());
            }
        }
        if (count > 0) {
            intake.queued(count);
        }
    }

    /**
     * A message ready to queue with outcomes — a report, or one that the delivery to {@code
     * forRecipient} calls for ({@code what}: "forward", "Sieve redirect of ...", "Sieve notification
     * of ...", "vacation reply of ...") — and what deletes its spool files once it is queued (or not).
     */
    private record FollowUpFiles(MailQueue.FollowUp followUp, Optional<QueuedMessage.PendingRecipient> forRecipient,
                                 String what, Runnable discard) {
        static FollowUpFiles of(MailQueue.FollowUp followUp, Optional<QueuedMessage.PendingRecipient> forRecipient,
                                String what, MessageSpool.Spooled written, QueueIntake.Prepared prepared) {
            return new FollowUpFiles(followUp, forRecipient, what, () -> {
                if (prepared != null) {
                    prepared.close();
                }
                written.discard();
            });
        }

        void close() {
            discard.run();
        }
    }

    /**
     * Sends the message on to {@code targets} as a new queue entry: an alias's targets on other
     * servers (like Postfix virtual aliases) or a Sieve script's redirects (RFC 5228 §4.2),
     * prepared in {@code sends} to be queued with the outcome of {@code recipient}. It leaves from
     * the original sender, or with SRS from an address of {@code domain} when the sender is
     * someone else's (their SPF does not list us), with a Received field of ours on top (RFC 5321
     * §4.4), whose count ends a loop (§6.3). {@code guards}: what keeps it to one (a redirect is sent
     * once per message and account). Empty when prepared; else the reply for the recipient: 451 to
     * try again, 554 for a loop.
     */
    private Optional<String> resend(QueuedMessage message, Optional<EditedCopy> edited,
                                    QueuedMessage.PendingRecipient recipient, List<String> targets,
                                    String domain, String what, Optional<String> notify, List<MailQueue.Guard> guards,
                                    List<FollowUpFiles> sends) {
        if (intake == null) {
            return Optional.empty();
        }
        MailEnvelope.Recipient via = recipient.recipient();
        try {
            int hops;
            try (InputStream in = new BufferedInputStream(open(message, edited))) {
                hops = (int) HeaderFields.read(in, MAX_HEADER_BYTES).stream()
                        .filter(f -> HeaderFields.name(f).equals("received")).count();
            } catch (HeaderFields.TooLong e) {
                hops = TraceField.MAX_HOPS; // a header SMTP would not take: no further
            }
            if (hops >= TraceField.MAX_HOPS) {
                LOG.log(Level.WARNING, "mail loop: {0} not sent queue={1} rcpt={2} received={3}", what, message.id(),
                        via.address(), hops);
                return Optional.of("554 5.4.6 <" + via.address() + ">: too many hops (" + hops
                        + " Received fields), a mail loop: " + what + " not sent");
            }
            try (InputStream in = open(message, edited); MessageSpool spool = store.spool()) {
                TraceField.write(in, "Received: by " + settings.hostname() + " (mailstack) id " + message.id()
                        + "\r\n\tfor <" + via.address() + ">; " + ZonedDateTime.now(ZoneId.systemDefault()).format(DeliveryReport.DATE)
                        + "\r\n", spool);
                MessageSpool.Spooled copy = spool.finish();
                boolean prepared = false;
                try {
                    String sender = message.envelope().returnPath();
                    int at = sender.lastIndexOf('@');
                    if (at > 0 && !store.accounts().isLocalDomain(sender.substring(at + 1))) {
                        sender = srs.forward(sender, domain);
                    }
                    // RFC 3461 §5.2.7: the NOTIFY chosen for it goes with the forward, and ORCPT names what it wrote
                    Optional<String> orcpt = Optional.of(via.orcpt().orElse("rfc822;" + Xtext.encode(via.address())));
                    // RFC 6531 §3.4: a target with a UTF-8 address needs SMTPUTF8, whatever the message came with
                    boolean utf8 = message.envelope().smtpUtf8() || !isAscii(sender) || !targets.stream().allMatch(QueueRunner::isAscii);
                    MailEnvelope envelope = new MailEnvelope(sender,
                            targets.stream().map(to -> new MailEnvelope.Recipient(to, notify, orcpt)).toList(),
                            message.envelope().envId(),
                            message.envelope().ret(), utf8, message.envelope().body8bit(), Instant.now(),
                            message.envelope().junk());
                    QueueIntake.Prepared ready = intake.prepare(envelope, copy);
                    sends.add(FollowUpFiles.of(new MailQueue.FollowUp(message.id(), false, envelope, ready.source(),
                            ready.facts(), guards), Optional.of(recipient), what, copy, ready));
                    prepared = true;
                    return Optional.empty();
                } finally {
                    if (!prepared) {
                        copy.discard();
                    }
                }
            }
        } catch (IOException | StoreException e) {
            LOG.log(Level.WARNING, "cannot queue the " + what + " queue=" + message.id() + ", will retry: " + e.getMessage());
            return Optional.of("451 4.3.0 <" + via.address() + ">: cannot queue the " + what + ", will retry");
        }
    }

    /** The octets to send on: the queued message, or the copy a Sieve script edited (RFC 5293). */
    private InputStream open(QueuedMessage message, Optional<EditedCopy> edited) throws IOException {
        return edited.isPresent() ? edited.get().open(store, message.contentKey()) : store.openContent(message.contentKey(), 0);
    }

    private static boolean isAscii(String address) {
        return StandardCharsets.US_ASCII.newEncoder().canEncode(address);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static void join(Thread t, Instant deadline) {
        try {
            t.join(Duration.between(Instant.now(), deadline).isNegative() ? Duration.ofMillis(1)
                    : Duration.between(Instant.now(), deadline));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A stop's first step, taken as the listeners begin to drain: no delivery to another server
     * starts from now on, and those under way have {@code budget} from now ({@link #close} keeps to
     * it), beside the sessions' grace rather than after it: one after the other, the two outlasted
     * systemd's TimeoutStopSec, whose SIGKILL left a delivery the next hop had taken unrecorded, to
     * be made again. Local delivery goes on for the mail the sessions still finish.
     */
    public void beginStop(Duration budget) {
        if (stopBy == null) {
            stopBy = Instant.now().plus(budget);
        }
    }

    /** Stops the workers after their current message; an interrupted delivery is retried after a restart. */
    @Override
    public void close() {
        stopping = true;
        stopped.countDown();
        work.release(settings.workers());
        if (leaseKeeper != null) {
            leaseKeeper.interrupt();
        }
        Instant begun = stopBy;
        // the workers' current local batch gets a few seconds even when the remote budget is spent
        Instant deadline = begun == null ? Instant.now().plus(STOP_BUDGET) : max(begun, Instant.now().plusSeconds(5));
        List<Thread> running = new ArrayList<>(workers);
        for (Thread t : running) {
            join(t, deadline);
        }
        for (Thread t : List.copyOf(remoteThreads)) { // the workers have stopped: no more start
            join(t, deadline);
        }
        remote.close(); // the sessions kept for the next message say QUIT
    }
}

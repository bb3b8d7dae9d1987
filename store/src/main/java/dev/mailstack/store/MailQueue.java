package dev.mailstack.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The outbound and local-delivery queue. {@link #enqueue} returns only after the message and its
 * recipients are committed with no write delay: the moment SMTP may say 250 (STYLE.md R10).
 * Recipient state is kept per recipient, so retries go only to those still pending.
 */
public final class MailQueue {
    enum State { PENDING, DELIVERED, FAILED }

    private static final System.Logger LOG = System.getLogger(MailQueue.class.getName());
    /** Entries committed together at most; the rest wait for the next group. */
    static final int MAX_GROUP = 64;

    private final MailboxStore store;
    private final ReentrantLock committer = new ReentrantLock();
    private final Queue<Entry> waiting = new ConcurrentLinkedQueue<>();

    MailQueue(MailboxStore store) {
        this.store = store;
    }

    public QueueId enqueue(MailEnvelope envelope, MessageSource source, MessageFacts facts) {
        return enqueue(envelope, source, facts, Optional.empty()).id();
    }

    /**
     * A message queued, and with {@code claimFor}, claimed in the same transaction for its first
     * attempt: the caller hands it to a worker at once, and no claim costs another commit. A
     * process that dies with it unattempted leaves the lease, which a restart releases.
     *
     * @param claimed the claim, when one was asked for
     */
    public record Enqueued(QueueId id, Optional<QueuedMessage> claimed) {
    }

    public Enqueued enqueue(MailEnvelope envelope, MessageSource source, MessageFacts facts, Optional<Duration> claimFor) {
        store.contentWriters().lock();
        try {
            return enqueueHolding(envelope, source, facts, claimFor);
        } finally {
            store.contentWriters().unlock();
        }
    }

    /** From the content file to the committed row, under the shared hold on contents. */
    private Enqueued enqueueHolding(MailEnvelope envelope, MessageSource source, MessageFacts facts, Optional<Duration> claimFor) {
        CompletableFuture<Void> durable;
        try {
            durable = store.contents().putStarted(source);
        } catch (IOException e) {
            throw new StoreException(StoreFailure.TEMPORARY, "cannot write message content: " + e.getMessage(), e);
        }
        Entry entry = new Entry(envelope, source, facts, durable, claimFor);
        waiting.add(entry);
        // Group commit: whoever holds the lock commits every entry waiting by then in one
        // transaction, so 32 SMTP sessions finishing DATA together cost one commit, not 32. A group
        // is at most MAX_GROUP from the head of the line, and the lock is not taken in the order
        // entries joined it: commit until this entry's group is done, never return before it.
        committer.lock();
        try {
            while (!entry.done) {
                List<Entry> group = drainWaiting();
                if (group.isEmpty()) { // taken by a commit that died of an Error before it got an answer
                    fail(entry, new StoreException(StoreFailure.TEMPORARY, "enqueue was interrupted; try again"));
                    break;
                }
                commitGroup(group);
            }
        } finally {
            committer.unlock();
        }
        if (entry.failure != null) {
            throw entry.failure;
        }
        return new Enqueued(entry.id, Optional.ofNullable(entry.claimed));
    }

    /** A message waiting for the group commit; written and read under {@link #committer}. */
    private static final class Entry {
        final MailEnvelope envelope;
        final MessageSource source;
        final MessageFacts facts;
        /** The content's syncs, awaited before the commit that makes the message count. */
        final CompletableFuture<Void> durable;
        final Optional<Duration> claimFor;
        boolean done;
        QueueId id;
        QueuedMessage claimed;
        StoreException failure;

        Entry(MailEnvelope envelope, MessageSource source, MessageFacts facts, CompletableFuture<Void> durable,
              Optional<Duration> claimFor) {
            this.envelope = envelope;
            this.source = source;
            this.facts = facts;
            this.durable = durable;
            this.claimFor = claimFor;
        }
    }

    private List<Entry> drainWaiting() {
        List<Entry> group = new ArrayList<>();
        Entry e;
        while (group.size() < MAX_GROUP && (e = waiting.poll()) != null) {
            group.add(e);
        }
        return group;
    }

    /**
     * Commits a group; when a statement fails, each entry alone, so one bad entry cannot fail the
     * others. Without a connection (database busy or closed) every entry gets that answer at once.
     */
    private void commitGroup(List<Entry> group) {
        try (Connection c = store.db().connect()) {
            c.setAutoCommit(false);
            try {
                List<QueuedMessage> inserted = new ArrayList<>();
                for (Entry e : group) {
                    inserted.add(insert(c, e));
                }
                for (Entry e : group) { // the content on disk before the rows that point at it
                    try {
                        BackgroundSync.await(e.durable);
                    } catch (IOException failed) {
                        throw new UncheckedIOException("cannot sync message content: " + failed.getMessage(), failed);
                    }
                }
                c.commit();
                for (int i = 0; i < group.size(); i++) {
                    Entry e = group.get(i);
                    e.id = inserted.get(i).id();
                    e.claimed = e.claimFor.isPresent() ? inserted.get(i) : null;
                    e.done = true;
                }
                syncCommitted(c);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (StoreException e) {
            group.forEach(one -> fail(one, e));
        } catch (SQLException | RuntimeException e) {
            if (group.stream().anyMatch(one -> one.done)) {
                return; // committed; only giving the connection back failed
            }
            if (group.size() > 1) {
                group.forEach(one -> commitGroup(List.of(one)));
                return;
            }
            fail(group.getFirst(), e instanceof SQLException sql ? store.db().failure(sql, "enqueue")
                    : new StoreException(StoreFailure.TEMPORARY, "enqueue failed: " + e.getMessage(), e));
        }
    }

    /**
     * Before anyone hears 250: durable against a power cut, not only a killed process. The rows are
     * committed either way, so a failed sync is reported in the log, not to the client, who would
     * otherwise send the message again.
     */
    private void syncCommitted(Connection c) {
        try {
            store.db().dialect().syncCommitted(c);
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot sync the database to disk; queued mail survives a crash of"
                    + " the server but maybe not a power cut: " + e.getMessage());
        }
    }

    private static void fail(Entry entry, StoreException failure) {
        entry.failure = failure;
        entry.done = true;
    }

    /** The entry's rows; what a claim made with them reads (claimDue's read() of the same rows). */
    private QueuedMessage insert(Connection c, Entry entry) throws SQLException {
        MailEnvelope envelope = entry.envelope;
        ContentId content = store.ensureContent(c, entry.source, entry.facts);
        Instant now = Instant.now();
        long id;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO queue_messages (content_id, return_path, envid,"
                + " ret, smtputf8, body_8bit, received_at, next_attempt_at, junk, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                Statement.RETURN_GENERATED_KEYS)) {
            ps.setLong(1, content.value());
            ps.setString(2, envelope.returnPath());
            ps.setString(3, envelope.envId().orElse(null));
            ps.setString(4, envelope.ret().orElse(null));
            ps.setBoolean(5, envelope.smtpUtf8());
            ps.setBoolean(6, envelope.body8bit());
            ps.setTimestamp(7, Timestamp.from(envelope.receivedAt()));
            ps.setTimestamp(8, Timestamp.from(envelope.receivedAt()));
            ps.setBoolean(9, envelope.junk());
            ps.setTimestamp(10, entry.claimFor.map(lease -> Timestamp.from(now.plus(lease))).orElse(null));
            ps.executeUpdate();
            try (ResultSet rs = ps.getGeneratedKeys()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        List<QueuedMessage.PendingRecipient> pending = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO queue_recipients"
                + " (queue_id, position, address, orcpt, notify, state) VALUES (?, ?, ?, ?, ?, ?)")) {
            int position = 0;
            for (MailEnvelope.Recipient r : envelope.recipients()) {
                pending.add(new QueuedMessage.PendingRecipient(position, r, 0, null));
                ps.setLong(1, id);
                ps.setInt(2, position++);
                ps.setString(3, r.address());
                ps.setString(4, r.orcpt().orElse(null));
                ps.setString(5, r.dsnNotify().orElse(null));
                ps.setString(6, State.PENDING.name());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return new QueuedMessage(new QueueId(id), envelope, pending, content, entry.source.sha256(), entry.facts.size(), false, now);
    }

    /** Claims the oldest due message, if any ({@link #claimDue(Instant, Duration, int)} for one). */
    public Optional<QueuedMessage> claimDue(Instant now, Duration lease) {
        return claimDue(now, lease, 1).stream().findFirst();
    }

    /**
     * Claims up to {@code max} due messages, oldest first, for {@code lease}, in one transaction; a
     * runner that dies leaves the leases to run out, and the messages are claimed again after a restart.
     */
    public List<QueuedMessage> claimDue(Instant now, Duration lease, int max) {
        try (Connection c = store.db().connect()) {
            c.setAutoCommit(false);
            try {
                List<Long> due = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM queue_messages WHERE next_attempt_at <= ?"
                        + " AND (lease_until IS NULL OR lease_until < ?) AND held = FALSE ORDER BY next_attempt_at, id FETCH FIRST ? ROWS ONLY")) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setTimestamp(2, Timestamp.from(now));
                    ps.setInt(3, max);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            due.add(rs.getLong(1));
                        }
                    }
                }
                List<QueuedMessage> claimed = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET lease_until = ?, retry_asked = FALSE WHERE id = ?"
                        + " AND (lease_until IS NULL OR lease_until < ?) AND held = FALSE AND next_attempt_at <= ?")) {
                    for (long id : due) {
                        ps.setTimestamp(1, Timestamp.from(now.plus(lease)));
                        ps.setLong(2, id);
                        ps.setTimestamp(3, Timestamp.from(now));
                        ps.setTimestamp(4, Timestamp.from(now));
                        // zero rows: another runner claimed it, or it was held or rescheduled, between our SELECT and UPDATE
                        if (ps.executeUpdate() == 1) {
                            claimed.add(read(c, id, now));
                        }
                    }
                }
                c.commit();
                return claimed;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "claim queue entries");
        }
    }

    /**
     * Records outcomes for some recipients. When none is left pending the entry is removed;
     * otherwise it is due again at the earliest deferral's next attempt.
     */
    public void record(QueueId id, List<RecipientOutcome> outcomes) {
        record(Map.of(id, outcomes), null);
    }

    /**
     * {@link #record(QueueId, List)} for several entries claimed at {@code claimedAt}, in one
     * transaction, ending their leases. An entry made due by {@link #retryNow} or {@link #release}
     * after the claim stays due now instead of taking the attempt's retry time; with
     * {@code claimedAt} null the attempt's time always wins.
     *
     * @return the entries still queued when the outcomes were recorded; one missing was deleted
     *         ({@link #delete}) while it was delivered, and nothing was recorded for it
     */
    public Set<QueueId> record(Map<QueueId, List<RecipientOutcome>> outcomesById, Instant claimedAt) {
        return record(outcomesById, claimedAt, List.of()).queued();
    }

    /**
     * A message that outcomes of {@code about} call for — a delivery status notification, or a copy
     * sent on for a recipient (an alias's forward, a Sieve redirect) — queued in the same
     * transaction as those outcomes, so that a crash can neither lose it after they are recorded
     * nor send it twice before. Dropped with the outcomes when {@code about} was deleted meanwhile.
     * A {@code delayWarning} marks {@code about} as warned in that transaction: one warning per message.
     */
    public record FollowUp(QueueId about, boolean delayWarning, MailEnvelope envelope, MessageSource source,
                         MessageFacts facts, List<Guard> guards) {
        public FollowUp {
            guards = List.copyOf(guards);
        }

        /** One that its outcomes always call for: a report, an alias's forward. */
        public FollowUp(QueueId about, boolean delayWarning, MailEnvelope envelope, MessageSource source, MessageFacts facts) {
            this(about, delayWarning, envelope, source, facts, List.of());
        }
    }

    /**
     * What must hold for a follow-up to be queued, checked and written down in the transaction that
     * would queue it, so that it is queued once and its mark is never written without it.
     */
    public sealed interface Guard {
        /**
         * Sent once for the account per queue entry ({@code action} names it: "redirect" and its
         * targets, say): the entry reaches the account through several recipients (alice@,
         * alice+tag@, an alias of hers), each attempted on its own and each running the account's
         * Sieve script, and the first whose delivery is recorded sends it (V20's follow_ups_sent).
         */
        record Once(AccountId account, String action) implements Guard {
            public Once {
                Objects.requireNonNull(action, "action");
            }

            /** The action as the table keeps it: SHA-256, hex, a fixed size for a target or URI of any length. */
            String hash() {
                try {
                    return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                            .digest(action.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException("every JDK has SHA-256", e);
                }
            }
        }

        /**
         * RFC 5230 §4.6, RFC 3834 §2: a vacation reply, sent only when the account's action
         * {@code handle} has not answered {@code sender} within {@code interval}; the claim is
         * written with the reply queued, so a reply that cannot be queued claims nothing.
         */
        record VacationReply(AccountId account, String sender, String handle, Duration interval) implements Guard {
        }
    }

    /** What {@link #record(Map, Instant, List)} did: the entries still queued, and each follow-up's new entry. */
    public record Recorded(Set<QueueId> queued, List<Optional<QueueId>> followUps) {
    }

    /**
     * {@link #record(Map, Instant)}, queuing {@code followUps} in the same transaction.
     *
     * @return the entries still queued, and for each follow-up (in order) its queue id, or empty
     *         when the entry it follows from was deleted, or its guards held it back, and it was not queued
     */
    public Recorded record(Map<QueueId, List<RecipientOutcome>> outcomesById, Instant claimedAt, List<FollowUp> followUps) {
        return holdingContentsFor(followUps, () -> recordHolding(outcomesById, claimedAt, followUps));
    }

    /** As enqueue: with follow-ups to write, no sweep of their files before their rows commit. */
    private <T> T holdingContentsFor(List<FollowUp> followUps, java.util.function.Supplier<T> work) {
        if (followUps.isEmpty()) {
            return work.get();
        }
        store.contentWriters().lock();
        try {
            return work.get();
        } finally {
            store.contentWriters().unlock();
        }
    }

    /**
     * Makes the transaction the one writer ({@link AccountWriters}) of each account whose vacation
     * replies a follow-up claims (those rows are the account's), until the caller's {@link
     * #unlock}: taken once it holds its connection, as AccountWriters asks, and in the order of the
     * accounts' ids, so two recorders cannot wait on each other.
     */
    private List<AccountId> lockClaiming(List<FollowUp> followUps) {
        List<AccountId> claiming = followUps.stream().flatMap(f -> f.guards().stream())
                .flatMap(g -> g instanceof Guard.VacationReply v ? Stream.of(v.account()) : Stream.empty())
                .distinct().sorted(java.util.Comparator.comparingLong(AccountId::value)).toList();
        List<AccountId> locked = new ArrayList<>();
        try {
            for (AccountId a : claiming) {
                store.accountWriters().lock(a);
                locked.add(a);
            }
            return locked;
        } catch (RuntimeException e) {
            unlock(locked);
            throw e;
        }
    }

    private void unlock(List<AccountId> locked) {
        for (AccountId a : locked.reversed()) {
            store.accountWriters().unlock(a);
        }
    }

    private Recorded recordHolding(Map<QueueId, List<RecipientOutcome>> outcomesById, Instant claimedAt, List<FollowUp> followUps) {
        try (Connection c = store.db().connect()) {
            c.setAutoCommit(false);
            List<AccountId> locked = lockClaiming(followUps);
            try {
                updateRecipients(c, outcomesById);
                List<Boolean> due = guardsHold(c, followUps); // before an entry done with goes, and its marks with it
                Set<QueueId> queued = new HashSet<>();
                try (PreparedStatement count = c.prepareStatement("SELECT COUNT(*),"
                        + " COALESCE(SUM(CASE WHEN state = ? THEN 1 ELSE 0 END), 0) FROM queue_recipients WHERE queue_id = ?");
                     PreparedStatement delete = c.prepareStatement("DELETE FROM queue_messages WHERE id = ?");
                     PreparedStatement reschedule = c.prepareStatement("UPDATE queue_messages SET lease_until = NULL,"
                             + " next_attempt_at = CASE WHEN retry_asked AND ? THEN next_attempt_at"
                             + " ELSE COALESCE(?, next_attempt_at) END, retry_asked = FALSE WHERE id = ?")) {
                    for (Map.Entry<QueueId, List<RecipientOutcome>> entry : outcomesById.entrySet()) {
                        long id = entry.getKey().value();
                        count.setString(1, State.PENDING.name());
                        count.setLong(2, id);
                        long all;
                        long left;
                        try (ResultSet rs = count.executeQuery()) {
                            rs.next();
                            all = rs.getLong(1);
                            left = rs.getLong(2);
                        }
                        if (all == 0) {
                            continue; // deleted meanwhile: its recipients went with it (ON DELETE CASCADE)
                        }
                        queued.add(entry.getKey());
                        if (left == 0) {
                            delete.setLong(1, id);
                            delete.addBatch();
                        } else {
                            Instant next = entry.getValue().stream()
                                    .flatMap(o -> o instanceof RecipientOutcome.Deferred d ? Stream.of(d.nextAttempt()) : Stream.empty())
                                    .min(Instant::compareTo).orElse(null);
                            reschedule.setBoolean(1, claimedAt != null);
                            reschedule.setTimestamp(2, next == null ? null : Timestamp.from(next));
                            reschedule.setLong(3, id);
                            reschedule.addBatch();
                        }
                    }
                    delete.executeBatch();
                    reschedule.executeBatch();
                }
                List<Optional<QueueId>> ids = insertFollowUps(c, followUps, due, queued::contains);
                c.commit();
                return new Recorded(queued, ids);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                unlock(locked);
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "record delivery outcome");
        }
    }

    /**
     * Writes the contents of the follow-ups of entries that {@code kept} and inserts them. Called
     * once the outcomes' updates hold the entries' rows, so none of them can be deleted before the
     * commit and no follow-up's file is written for an entry that is gone.
     */
    private List<Optional<QueueId>> insertFollowUps(Connection c, List<FollowUp> followUps, List<Boolean> due,
                                                    Predicate<QueueId> kept) throws SQLException {
        List<CompletableFuture<Void>> durable = new ArrayList<>();
        for (int i = 0; i < followUps.size(); i++) {
            FollowUp r = followUps.get(i);
            try {
                durable.add(kept.test(r.about()) && due.get(i) ? store.contents().putStarted(r.source()) : null);
            } catch (IOException e) {
                throw new StoreException(StoreFailure.TEMPORARY, "cannot write a message to queue: " + e.getMessage(), e);
            }
        }
        List<Optional<QueueId>> ids = new ArrayList<>();
        for (int i = 0; i < followUps.size(); i++) {
            FollowUp r = followUps.get(i);
            if (durable.get(i) == null) {
                ids.add(Optional.empty());
                continue;
            }
            try {
                BackgroundSync.await(durable.get(i));
            } catch (IOException failed) {
                throw new StoreException(StoreFailure.TEMPORARY, "cannot sync a message to queue: " + failed.getMessage(), failed);
            }
            ids.add(Optional.of(insert(c, new Entry(r.envelope(), r.source(), r.facts(), durable.get(i), Optional.empty())).id()));
            if (r.delayWarning()) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET delay_warned = TRUE WHERE id = ?")) {
                    ps.setLong(1, r.about().value());
                    ps.executeUpdate();
                }
            }
        }
        return ids;
    }

    /**
     * For each follow-up, whether its guards let it be queued now; the marks of those that do are
     * written in {@code c}'s transaction, so they commit with them or not at all. Run before the
     * outcomes delete an entry done with (its marks go with it), and only for entries still there:
     * a vacation reply to a message deleted meanwhile claims nothing.
     */
    private static List<Boolean> guardsHold(Connection c, List<FollowUp> followUps) throws SQLException {
        List<Boolean> due = new ArrayList<>();
        Set<String> sentNow = new HashSet<>();
        for (FollowUp r : followUps) {
            due.add(r.guards().isEmpty() || entryExists(c, r.about()) && due(c, r, sentNow));
        }
        return due;
    }

    private static boolean entryExists(Connection c, QueueId id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM queue_messages WHERE id = ?")) {
            ps.setLong(1, id.value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * The key of a once-guard as follow_ups_sent's primary key has it: entry, account and action. A
     * batch records many entries in one transaction, each with its own redirect to the same target
     * (alice forwards all her mail): without the entry, the second message's was taken for sent.
     */
    private static String onceKey(FollowUp r, Guard.Once o, String hash) {
        return r.about().value() + " " + o.account().value() + " " + hash;
    }

    /** {@code sentNow}: the once-keys of this transaction's follow-ups so far. */
    private static boolean due(Connection c, FollowUp r, Set<String> sentNow) throws SQLException {
        List<Guard.Once> once = r.guards().stream().flatMap(g -> g instanceof Guard.Once o ? Stream.of(o) : Stream.empty()).toList();
        try (PreparedStatement find = c.prepareStatement(
                "SELECT 1 FROM follow_ups_sent WHERE queue_id = ? AND account_id = ? AND action_hash = ?")) {
            for (Guard.Once o : once) {
                String hash = o.hash();
                if (sentNow.contains(onceKey(r, o, hash))) {
                    return false;
                }
                find.setLong(1, r.about().value());
                find.setLong(2, o.account().value());
                find.setString(3, hash);
                try (ResultSet rs = find.executeQuery()) {
                    if (rs.next()) {
                        return false;
                    }
                }
            }
        }
        Instant now = Instant.now();
        for (Guard g : r.guards()) {
            if (g instanceof Guard.VacationReply v
                    && !Accounts.claimVacationReply(c, v.account(), v.sender(), v.handle(), now, v.interval())) {
                return false;
            }
        }
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO follow_ups_sent (queue_id, account_id, action_hash) VALUES (?, ?, ?)")) {
            for (Guard.Once o : once) {
                String hash = o.hash();
                sentNow.add(onceKey(r, o, hash));
                insert.setLong(1, r.about().value());
                insert.setLong(2, o.account().value());
                insert.setString(3, hash);
                insert.executeUpdate();
            }
        }
        return true;
    }

    /**
     * Records outcomes of some recipients of an entry still being delivered, keeping its lease: a
     * message to several domains is marked delivered at each one as soon as it has it, so a crash or
     * a lost lease before the last domain does not send it to the first ones again.
     *
     * @return false when the entry is gone (deleted while it was delivered)
     */
    public boolean recordSome(QueueId id, List<RecipientOutcome> outcomes) {
        return recordSome(id, outcomes, List.of()).isPresent();
    }

    /**
     * {@link #recordSome(QueueId, List)}, queuing {@code followUps} (the success notices and
     * forwards these deliveries call for) in the same transaction.
     *
     * @return the follow-ups' queue ids, in order (empty for one its guards held back); empty when
     *         the entry is gone and nothing was recorded
     */
    public Optional<List<Optional<QueueId>>> recordSome(QueueId id, List<RecipientOutcome> outcomes, List<FollowUp> followUps) {
        return holdingContentsFor(followUps, () -> recordSomeHolding(id, outcomes, followUps));
    }

    private Optional<List<Optional<QueueId>>> recordSomeHolding(QueueId id, List<RecipientOutcome> outcomes, List<FollowUp> followUps) {
        try (Connection c = store.db().connect()) {
            c.setAutoCommit(false);
            List<AccountId> locked = lockClaiming(followUps);
            try {
                int updated = updateRecipients(c, Map.of(id, outcomes));
                if (updated == 0 && !outcomes.isEmpty()) {
                    c.rollback();
                    return Optional.empty();
                }
                List<Optional<QueueId>> ids = insertFollowUps(c, followUps, guardsHold(c, followUps), about -> true);
                c.commit();
                return Optional.of(ids);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                unlock(locked);
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "record delivery outcome");
        }
    }

    /** The recipients' new states; the number of rows changed. */
    private static int updateRecipients(Connection c, Map<QueueId, List<RecipientOutcome>> outcomesById) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE queue_recipients SET state = ?,"
                + " attempts = attempts + ?, last_reply = ? WHERE queue_id = ? AND position = ?")) {
            for (Map.Entry<QueueId, List<RecipientOutcome>> entry : outcomesById.entrySet()) {
                for (RecipientOutcome o : entry.getValue()) {
                    String[] stateAndReply = switch (o) {
                        case RecipientOutcome.Delivered d -> new String[]{State.DELIVERED.name(), d.reply()};
                        case RecipientOutcome.Deferred d -> new String[]{State.PENDING.name(), d.reply()};
                        case RecipientOutcome.Failed f -> new String[]{State.FAILED.name(), f.reply()};
                    };
                    ps.setString(1, stateAndReply[0]);
                    ps.setInt(2, o instanceof RecipientOutcome.Deferred d && !d.attempted() ? 0 : 1);
                    ps.setString(3, truncate(stateAndReply[1]));
                    ps.setLong(4, entry.getKey().value());
                    ps.setInt(5, o.position());
                    ps.addBatch();
                }
            }
            return IntStream.of(ps.executeBatch()).map(n -> Math.max(n, 0)).sum();
        }
    }

    /**
     * Extends the leases of entries being delivered, so a delivery that outlasts one lease (slow
     * hosts, each with RFC 5321's long timeouts) is not claimed and sent a second time.
     *
     * @return the entries among {@code ids} that are gone (deleted while delivered) or no longer leased
     */
    public Set<QueueId> renewLeases(Collection<QueueId> ids, Instant until) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET lease_until = ?"
                     + " WHERE id = ? AND lease_until IS NOT NULL")) {
            List<QueueId> order = List.copyOf(ids);
            for (QueueId id : order) {
                ps.setTimestamp(1, Timestamp.from(until));
                ps.setLong(2, id.value());
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            Set<QueueId> gone = new HashSet<>();
            for (int i = 0; i < order.size(); i++) {
                if (counts[i] == 0) {
                    gone.add(order.get(i));
                }
            }
            return gone;
        } catch (SQLException e) {
            throw store.db().failure(e, "renew queue leases");
        }
    }

    /**
     * Frees every lease. Called when the queue runner starts: one process owns a data folder (the
     * database is locked to it), so a lease still set was held by a process that died, and
     * waiting for it to expire would only delay mail that local delivery makes safe to retry.
     */
    public int releaseLeases() {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("UPDATE queue_messages SET lease_until = NULL WHERE lease_until IS NOT NULL")) {
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw store.db().failure(e, "release queue leases");
        }
    }

    /**
     * Makes an entry due now (mailstack queue flush, retry); false when there is none or it is held.
     * A lease is left alone: clearing it while a worker delivers the message would let a second
     * worker claim it and send it to a remote server twice; that attempt, when it ends, leaves the
     * entry due now instead of setting its own retry time.
     */
    public boolean retryNow(QueueId id) {
        return dueNow("UPDATE queue_messages SET next_attempt_at = ?, retry_asked = TRUE WHERE id = ? AND held = FALSE", id);
    }

    /**
     * Keeps an entry from being claimed until {@link #release}; false when there is none. One being
     * delivered at this moment finishes that attempt.
     */
    public boolean hold(QueueId id) {
        return update("UPDATE queue_messages SET held = TRUE WHERE id = ?", id);
    }

    /** Ends a hold, making the entry due now; false when there is none or it was not held. */
    public boolean release(QueueId id) {
        return dueNow("UPDATE queue_messages SET held = FALSE, next_attempt_at = ?, retry_asked = TRUE WHERE id = ?"
                + " AND held = TRUE", id);
    }

    /**
     * Runs {@code sql} with the present time as its first parameter; the statement also sets
     * retry_asked, which {@link #record(Map, Instant)} reads as "retry at once" for an attempt
     * under way (a claim clears it).
     */
    private boolean dueNow(String sql, QueueId id) {
        try (Connection c = store.db().connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(Instant.now()));
            ps.setLong(2, id.value());
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw store.db().failure(e, "update queue entry");
        }
    }

    /**
     * Removes an entry and its recipients without a bounce (Postfix's postsuper -d); false when
     * there is none. A worker delivering it at this moment learns of it at its next lease renewal or
     * record, sends it to no further domain and no report about it; the content goes with the next
     * sweep once nothing else uses it.
     */
    public boolean delete(QueueId id) {
        return update("DELETE FROM queue_messages WHERE id = ?", id);
    }

    private boolean update(String sql, QueueId id) {
        try (Connection c = store.db().connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id.value());
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw store.db().failure(e, "update queue entry");
        }
    }

    /** Everything {@code mailstack queue show} prints; empty when there is no such entry. */
    public Optional<QueueDetails> details(QueueId id) {
        try (Connection c = store.db().connect()) {
            Optional<QueueEntry> entry = entries(c, id).stream().findFirst();
            if (entry.isEmpty()) {
                return Optional.empty();
            }
            List<QueueDetails.Recipient> recipients = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT address, state, attempts, last_reply"
                    + " FROM queue_recipients WHERE queue_id = ? ORDER BY position")) {
                ps.setLong(1, id.value());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        recipients.add(new QueueDetails.Recipient(rs.getString(1),
                                rs.getString(2).toLowerCase(java.util.Locale.ROOT), rs.getInt(3), rs.getString(4)));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT q.envid, q.ret, q.lease_until, ct.sha256"
                    + " FROM queue_messages q JOIN contents ct ON ct.id = q.content_id WHERE q.id = ?")) {
                ps.setLong(1, id.value());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty(); // delivered or deleted between the two reads
                    }
                    Timestamp lease = rs.getTimestamp(3);
                    return Optional.of(new QueueDetails(entry.get(), Optional.ofNullable(rs.getString(1)),
                            Optional.ofNullable(rs.getString(2)), lease != null && lease.toInstant().isAfter(Instant.now()),
                            recipients, rs.getString(4).trim()));
                }
            }
        } catch (SQLException e) {
            throw store.db().failure(e, "read queue entry");
        }
    }

    /** Every entry, oldest first (mailstack queue list, the metrics). */
    public List<QueueEntry> list() {
        try (Connection c = store.db().connect()) {
            return entries(c, null);
        } catch (SQLException e) {
            throw store.db().failure(e, "list queue");
        }
    }

    /** How many messages wait, how many of them are held, and when the oldest came. */
    public QueueTotals totals() {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT COUNT(*), COUNT(CASE WHEN held THEN 1 END), MIN(received_at) FROM queue_messages");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            java.sql.Timestamp oldest = rs.getTimestamp(3);
            return new QueueTotals(rs.getLong(1), rs.getLong(2), Optional.ofNullable(oldest).map(java.sql.Timestamp::toInstant));
        } catch (SQLException e) {
            throw store.db().failure(e, "count queue");
        }
    }

    /** One entry, or with {@code id} null all of them. */
    private static List<QueueEntry> entries(Connection c, QueueId id) throws SQLException {
        List<QueueEntry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT q.id, q.return_path, q.received_at, q.next_attempt_at, ct.size,"
                + " (SELECT COUNT(*) FROM queue_recipients r WHERE r.queue_id = q.id AND r.state = 'PENDING'),"
                + " (SELECT MAX(r.last_reply) FROM queue_recipients r WHERE r.queue_id = q.id), q.held"
                + " FROM queue_messages q JOIN contents ct ON ct.id = q.content_id"
                + (id == null ? "" : " WHERE q.id = ?") + " ORDER BY q.received_at, q.id")) {
            if (id != null) {
                ps.setLong(1, id.value());
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new QueueEntry(new QueueId(rs.getLong(1)), rs.getString(2), rs.getTimestamp(3).toInstant(),
                            rs.getTimestamp(4).toInstant(), rs.getLong(5), rs.getInt(6), rs.getString(7), rs.getBoolean(8)));
                }
            }
        }
        return out;
    }

    private QueuedMessage read(Connection c, long id, Instant claimedAt) throws SQLException {
        MailEnvelope envelope;
        ContentId content;
        String key;
        long size;
        boolean warned;
        List<MailEnvelope.Recipient> all = new ArrayList<>();
        List<QueuedMessage.PendingRecipient> pending = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT position, address, notify, orcpt, state, attempts, last_reply"
                + " FROM queue_recipients WHERE queue_id = ? ORDER BY position")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    MailEnvelope.Recipient r = new MailEnvelope.Recipient(rs.getString(2),
                            Optional.ofNullable(rs.getString(3)), Optional.ofNullable(rs.getString(4)));
                    all.add(r);
                    if (State.PENDING.name().equals(rs.getString(5))) {
                        pending.add(new QueuedMessage.PendingRecipient(rs.getInt(1), r, rs.getInt(6), rs.getString(7)));
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT q.return_path, q.envid, q.ret, q.smtputf8, q.body_8bit,"
                + " q.received_at, q.content_id, ct.sha256, ct.size, q.delay_warned, q.junk"
                + " FROM queue_messages q JOIN contents ct ON ct.id = q.content_id WHERE q.id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                envelope = new MailEnvelope(rs.getString(1), all, Optional.ofNullable(rs.getString(2)),
                        Optional.ofNullable(rs.getString(3)), rs.getBoolean(4), rs.getBoolean(5),
                        rs.getTimestamp(6).toInstant(), rs.getBoolean(11));
                content = new ContentId(rs.getLong(7));
                key = rs.getString(8).trim();
                size = rs.getLong(9);
                warned = rs.getBoolean(10);
            }
        }
        return new QueuedMessage(new QueueId(id), envelope, pending, content, key, size, warned, claimedAt);
    }

    private static String truncate(String reply) {
        return reply == null || reply.length() <= 1000 ? reply : reply.substring(0, 1000);
    }
}

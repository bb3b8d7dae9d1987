package dev.mailstack.mta.delivery;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.Account;
import dev.mailstack.store.AccountId;
import dev.mailstack.store.DeliveryKey;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxId;
import dev.mailstack.store.MailboxInfo;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.QuotaChange;
import dev.mailstack.store.SpecialUse;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreFailure;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import dev.mailstack.store.Uid;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Puts a queued message into a local account's INBOX (its Junk mailbox for mail marked as junk),
 * or where the account's Sieve script says ({@link SieveFilter}), by reference to the content the
 * queue already holds: no bytes copied. The delivery key makes a repeat after a crash a no-op.
 * A delivery that takes the account past a configured share of its quota also puts a warning
 * into its INBOX ({@link QuotaWarnings}), in the same transaction.
 */
public final class LocalDelivery {
    private static final Logger LOG = System.getLogger(LocalDelivery.class.getName());
    /** What of a Sieve reject's reason goes into the reply: one line of a queue record and a DSN. */
    private static final int MAX_REASON_CHARS = 300;
    /** What happened, as an SMTP-style reply line for the queue record and DSNs. */
    public sealed interface Result {
        String reply();
    }

    /**
     * {@code filed}: each mailbox it went into (none when a script discarded it); {@code
     * disposition}: what the account's script asked for besides, redirects and a vacation reply.
     */
    public record Delivered(String reply, List<Filed> filed, SieveFilter.Disposition disposition) implements Result {
        public Delivered {
            filed = List.copyOf(filed);
        }

        /** A new copy went in, or none was wanted: false for a repeat of an earlier attempt's delivery. */
        public boolean fresh() {
            return filed.isEmpty() || filed.stream().anyMatch(f -> f.uid().isPresent());
        }
    }

    /** A copy in {@code mailbox}; {@code uid} empty when an earlier attempt already put it there. */
    public record Filed(MailboxName mailbox, Optional<Uid> uid) {
    }

    public record TryLater(String reply) implements Result {
    }

    public record Refused(String reply) implements Result {
    }

    private final MailboxStore store;
    /** Turns of the accounts whose filters test for duplicates, a few locks shared by all accounts. */
    private final ReentrantLock[] duplicateTurns = turns(16);
    private final SieveFilter filter;
    /** How a copy a Sieve script edited (RFC 5293), or a quota warning, is parsed for its own MIME summary. */
    private final MimeLimits limits;
    /** This server's name, for the Message-ID of a quota warning ("" when unknown). */
    private final String hostname;
    /** Replaced whole on SIGHUP; read once per transaction. */
    private volatile QuotaWarnings quotaWarnings = QuotaWarnings.OFF;

    public LocalDelivery(MailboxStore store) {
        this(store, "");
    }

    /** {@code hostname}: this server's name, as Sieve's environment test shows it ("" when unknown). */
    public LocalDelivery(MailboxStore store, String hostname) {
        this(store, hostname, MimeLimits.defaults());
    }

    /** {@code limits}: the mime.* limits edited copies are parsed with, as the queue parses messages. */
    public LocalDelivery(MailboxStore store, String hostname, MimeLimits limits) {
        this.store = store;
        this.filter = new SieveFilter(store, hostname);
        this.limits = limits;
        this.hostname = hostname;
    }

    /**
     * The site's Sieve settings for deliveries from now on: the administrator's scripts that run
     * before and after every account's own (Pigeonhole's sieve_before and sieve_after), and where
     * include :global finds scripts.
     */
    public void use(SieveSettings settings) {
        filter.use(settings);
    }

    /**
     * The shares of an account's quota at which deliveries from now on warn the user
     * (mailbox.quota_warning_percent); {@link QuotaWarnings#OFF} until the server sets them.
     */
    public void use(QuotaWarnings warnings) {
        quotaWarnings = warnings;
    }

    /** One local account that a claimed message goes to, through the envelope recipient {@code recipient}. */
    public record Request(QueuedMessage message, Account account, String recipient) {
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
            List<Result> together = batch.size() > 1 ? appendInTurn(batch) : List.of();
            for (int k = 0; k < group.size(); k++) {
                results[group.get(k)] = together.size() == group.size() ? together.get(k)
                        : appendInTurn(List.of(requests.get(group.get(k)))).getFirst();
            }
        }
        return List.of(results);
    }

    private static ReentrantLock[] turns(int count) {
        ReentrantLock[] locks = new ReentrantLock[count];
        for (int i = 0; i < count; i++) {
            locks[i] = new ReentrantLock();
        }
        return locks;
    }

    /**
     * {@link #append}, taking turns with other deliveries to the account when its filters may test
     * for duplicates (RFC 7352): from the run that asks whether an ID was seen to the record of the
     * IDs, so that two copies of one message delivered at the same moment by two queue workers
     * (a list's copy and the sender's own) do not both pass. Taken before the store's writer lock,
     * never while holding it.
     */
    private List<Result> appendInTurn(List<Request> batch) {
        Account account = batch.getFirst().account();
        if (!filter.mayTestDuplicates(account)) {
            return append(batch);
        }
        ReentrantLock turn = duplicateTurns[Math.floorMod(account.id().hashCode(), duplicateTurns.length)];
        turn.lock();
        try {
            return append(batch);
        } finally {
            turn.unlock();
        }
    }

    /** Every request's Delivered, or one failure for the whole batch. */
    private List<Result> append(List<Request> batch) {
        Account account = batch.getFirst().account();
        StoreSession session = store.open(account.id());
        List<SieveFilter.Disposition> dispositions = new ArrayList<>();
        // the IDs the batch's earlier messages will be remembered by, with the messages: two copies of
        // one message in a batch (a list's and the sender's own) are duplicates although neither is
        // recorded yet, while one message to two addresses of the account is none of itself (RFC 7352 §3)
        Map<String, Set<QueueId>> earlier = new HashMap<>();
        try {
            for (Request r : batch) {
                SieveFilter.Disposition d = filter.decide(r.message(), account, r.recipient(), session, earlier);
                dispositions.add(d);
                if (d.rejection().isEmpty()) {
                    d.duplicates().forEach(m -> earlier.computeIfAbsent(SieveFilter.duplicateKey(m.handle(), m.id()),
                            k -> new HashSet<>()).add(r.message().id()));
                }
            }
            try {
                return file(batch, dispositions, session);
            } catch (StoreException e) {
                if (e.failure() != StoreFailure.OVER_QUOTA || batch.size() > 1
                        || dispositions.getFirst().placements().size() < 2) {
                    throw e;
                }
                // The script's copies do not fit, one may: its actions fail, and RFC 5228 §2.10.6
                // falls back to the implicit keep (as Pigeonhole does) rather than refusing them all.
                LOG.log(Level.INFO, "mailbox nearly full queue={0} user={1}: the Sieve filter''s {2} copies do not"
                        + " fit, keeping one", batch.getFirst().message().id(), account.address(),
                        dispositions.getFirst().placements().size());
                return file(batch, List.of(dispositions.getFirst().keepOnly()), session);
            }
        } catch (IOException e) {
            // the script needs the header, and the content cannot be read now
            return List.of(new TryLater("451 4.3.0 <" + account.address() + ">: cannot read the message to filter it: "
                    + e.getMessage()));
        } catch (StoreException e) {
            boolean named = dispositions.stream().flatMap(d -> d.placements().stream()).anyMatch(p -> p.mailbox().isPresent());
            if (e.failure() == StoreFailure.NOT_FOUND && named) {
                // a mailbox the script files into was deleted between its lookup and the append: the
                // next attempt looks again (and keeps the message if it is gone, RFC 5228 §4.1)
                return List.of(new TryLater("451 4.2.0 <" + account.address() + ">: a mailbox was deleted meanwhile"));
            }
            return List.of(switch (e.failure()) {
                case OVER_QUOTA -> new Refused("552 5.2.2 <" + account.address() + ">: mailbox full");
                case TOO_BIG -> new Refused("552 5.3.4 <" + account.address() + ">: message too big for the mailbox");
                case NOT_FOUND, EXPUNGED, NO_PERMISSION, HAS_CHILDREN, INVALID_NAME, ALREADY_EXISTS, LIMIT ->
                        new Refused("550 5.1.1 <" + account.address() + ">: mailbox unavailable");
                case TEMPORARY -> new TryLater("451 4.3.0 <" + account.address() + ">: store busy: " + e.getMessage());
            });
        }
    }

    /**
     * Puts each message where its disposition says, in one transaction of the account's. A message
     * the account's script edited (RFC 5293) is stored as a content of its own, written and parsed
     * before the transaction; the delivery key is the same as for an unedited copy, so a retry finds
     * the copy already there (whatever its content) and stores none.
     */
    private List<Result> file(List<Request> batch, List<SieveFilter.Disposition> dispositions, StoreSession session)
            throws IOException {
        List<Optional<ParsedSource>> edited = new ArrayList<>();
        try {
            for (int i = 0; i < batch.size(); i++) {
                Optional<EditedCopy> copy = dispositions.get(i).placements().isEmpty() ? Optional.empty()
                        : dispositions.get(i).edited();
                edited.add(copy.isEmpty() ? Optional.empty()
                        : Optional.of(write(batch.get(i).message(), copy.get())));
            }
            return file(batch, dispositions, edited, session);
        } finally {
            for (Optional<ParsedSource> e : edited) {
                if (e.isPresent()) {
                    e.get().spooled().discard(); // stored by now (moved into place) or not to be
                }
            }
        }
    }

    /**
     * A message we store as a content of its own (an edited copy, a quota warning), spooled and
     * parsed: its octets and its own MIME summary ("parse once" for this content).
     */
    private record ParsedSource(MessageSpool.Spooled spooled, MessageFacts facts) {
    }

    private ParsedSource write(QueuedMessage message, EditedCopy copy) throws IOException {
        try (InputStream in = copy.open(store, message.contentKey())) {
            return write(in);
        }
    }

    private ParsedSource write(InputStream content) throws IOException {
        MessageSpool.Spooled spooled;
        try (MessageSpool spool = store.spool()) {
            content.transferTo(spool);
            spooled = spool.finish();
        }
        try (InputStream in = spooled.open()) {
            MessageSummary.ParsedMessage p = MessageSummary.parse(in, limits);
            return new ParsedSource(spooled, new MessageFacts(p.size(), p.headerSize(), p.bodyLines(), p.summary().encode()));
        } catch (IOException | RuntimeException e) {
            spooled.discard();
            throw e;
        }
    }

    private List<Result> file(List<Request> batch, List<SieveFilter.Disposition> dispositions,
                              List<Optional<ParsedSource>> edited, StoreSession session) {
        Account account = batch.getFirst().account();
        // Mailboxes before the transaction: it holds a connection, and a second one could wait forever.
        List<Map<MailboxId, Flags>> targets = new ArrayList<>();
        Mailboxes boxes = new Mailboxes(session);
        for (int i = 0; i < batch.size(); i++) {
            Map<MailboxId, Flags> into = new LinkedHashMap<>(); // two placements in one mailbox make one copy
            for (SieveFilter.Placement p : dispositions.get(i).placements()) {
                into.merge(boxes.resolve(p, batch.get(i).message().envelope().junk()).id(), p.flags(), Flags::with);
            }
            targets.add(into);
        }
        QuotaWarnings warnings = quotaWarnings;
        Optional<MailboxId> warnInto = warnings.off() || account.quotaBytes().isEmpty() ? Optional.empty()
                : Optional.of(boxes.inbox().id());
        Optional<QuotaWarning> warned = Optional.empty();
        // edited copies synced before the transaction: meanwhile the account's mail and flags go on
        List<MessageSpool.Spooled> copies = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            if (dispositions.get(i).rejection().isEmpty() && edited.get(i).isPresent()) {
                copies.add(edited.get(i).get().spooled());
            }
        }
        try (Transaction t = session.begin(copies)) {
            List<Result> delivered = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                QueuedMessage message = batch.get(i).message();
                Optional<String> rejection = dispositions.get(i).rejection();
                if (rejection.isPresent()) {
                    delivered.add(refusal(account, rejection.get()));
                    continue;
                }
                List<Filed> filed = new ArrayList<>();
                for (Map.Entry<MailboxId, Flags> into : targets.get(i).entrySet()) {
                    // Keyed by the account, not the address: alice@ and alice+tag@ in one message make one
                    // copy (Postfix's duplicate filter), and a retry after a crash makes none.
                    Optional<DeliveryKey> key = Optional.of(new DeliveryKey(message.id(), account.address()));
                    Optional<Uid> uid = edited.get(i).isPresent()
                            ? t.append(into.getKey(), edited.get(i).get().spooled(), edited.get(i).get().facts(),
                                    into.getValue(), message.receivedAt(), key)
                            : t.appendContent(into.getKey(), message.content(), message.size(), into.getValue(),
                                    message.receivedAt(), key);
                    filed.add(new Filed(boxes.name(into.getKey()), uid));
                }
                delivered.add(new Delivered(filed.isEmpty() ? "250 2.0.0 discarded by the Sieve filter of " + account.address()
                        : "250 2.0.0 delivered to " + account.address(), filed, dispositions.get(i)));
                // RFC 7352 §3: the IDs its duplicate tests looked at are kept once it is delivered
                // (discarded by the script counts; refused does not), with the copy or not at all
                t.trackDuplicates(dispositions.get(i).duplicates(), message.id(), Instant.now());
            }
            boolean stored = delivered.stream().anyMatch(r -> r instanceof Delivered d
                    && d.filed().stream().anyMatch(f -> f.uid().isPresent()));
            if (warnInto.isPresent() && stored) {
                warned = warnIfFilling(t, account, warnInto.get(), warnings);
            }
            t.commit();
            if (warned.isPresent()) {
                LOG.log(Level.INFO, "quota warning delivered queue={0} user={1} percent={2} used={3} limit={4}",
                        batch.getFirst().message().id(), account.address(), warned.get().percent(),
                        warned.get().usedBytes(), warned.get().limitBytes());
            }
            return delivered;
        }
    }

    /**
     * Dovecot's quota_warning: when this transaction's deliveries took the account's use past one of
     * the configured shares of its quota, a warning into its INBOX, in the same transaction. So it is
     * stored with the deliveries or not at all (a delivery refused for quota rolls back and warns of
     * nothing), a retry that finds its delivery key stores nothing and so crosses nothing, and two
     * deliveries at once cannot both warn of one crossing: the use before and after is read as the
     * account's one writer, which the transaction is from its first append to its commit. A burst
     * of mail delivered in one transaction is one delivery here. The warning is counted in the use
     * but never refused for the quota ({@link Transaction#appendPastQuota}). Mail the user saves
     * (IMAP APPEND, COPY) does not warn: that user is at their mail program, which shows the quota.
     */
    private Optional<QuotaWarning> warnIfFilling(Transaction t, Account account, MailboxId inbox, QuotaWarnings warnings) {
        QuotaChange change = t.quotaChange();
        OptionalInt crossed = warnings.crossed(change);
        if (crossed.isEmpty()) {
            return Optional.empty();
        }
        QuotaWarning warning = new QuotaWarning(crossed.getAsInt(), change.usedAfter(), change.limitBytes().getAsLong());
        ParsedSource source;
        try {
            // written inside the transaction, which only now knows the use: a small file, no network
            source = write(new ByteArrayInputStream(warning.write(account.address(), hostname,
                    ZonedDateTime.now(ZoneId.systemDefault()))));
        } catch (IOException e) {
            // the deliveries matter more than their warning: they go in without it
            LOG.log(Level.WARNING, "quota warning not written user={0}: {1}", account.address(), e.getMessage());
            return Optional.empty();
        }
        try {
            t.appendPastQuota(inbox, source.spooled(), source.facts(), Flags.NONE, Instant.now());
        } finally {
            source.spooled().discard(); // moved into place by now, or not to be
        }
        return Optional.of(warning);
    }

    /**
     * A Sieve reject (RFC 5429): the script runs after the message was accepted, so it cannot be
     * refused in SMTP (ereject's first choice, §2.1); the recipient fails instead and the sender
     * gets the reason in a delivery status notification (§2.1.1, §2.2.1), unless there is no sender.
     */
    private static Refused refusal(Account account, String reason) {
        String line = reason.replaceAll("\\s+", " ").strip();
        if (line.codePointCount(0, line.length()) > MAX_REASON_CHARS) {
            line = line.substring(0, line.offsetByCodePoints(0, MAX_REASON_CHARS)) + "...";
        }
        return new Refused("550 5.7.1 <" + account.address() + ">: refused by the recipient's filter: "
                + (line.isEmpty() ? "no reason given" : line));
    }

    /** The account's mailboxes as placements name them, each looked up once per batch. */
    private static final class Mailboxes {
        private final StoreSession session;
        private final Map<Optional<MailboxName>, MailboxInfo> found = new HashMap<>();
        private final Map<MailboxId, MailboxName> names = new HashMap<>();
        private MailboxInfo junk;

        Mailboxes(StoreSession session) {
            this.session = session;
        }

        MailboxInfo resolve(SieveFilter.Placement p, boolean junkMail) {
            if (p.mailbox().isEmpty()) {
                return junkMail ? junk() : inbox();
            }
            MailboxInfo known = found.get(p.mailbox());
            if (known != null) {
                return known;
            }
            Optional<MailboxInfo> box = session.find(p.mailbox().get());
            if (box.isEmpty() && p.create()) {
                try {
                    // RFC 5490 §3.2; RFC 8579 §4: with the special-use attribute no mailbox had
                    box = Optional.of(session.create(p.mailbox().get(), p.specialUse()));
                    // subscribed too, as Dovecot's lda_mailbox_autosubscribe does: Thunderbird shows
                    // only subscribed folders, and a filter's new folder must not hide its mail
                    session.subscribe(p.mailbox().get(), true);
                } catch (StoreException e) {
                    if (e.failure() == StoreFailure.TEMPORARY) {
                        throw e; // the delivery is tried again
                    }
                    box = session.find(p.mailbox().get()); // made meanwhile by another session, or not to be made
                }
            }
            // RFC 5228 §4.1: a fileinto to a mailbox that is not there goes where keep would
            MailboxInfo target = box.orElseGet(() -> junkMail ? junk() : inbox());
            found.put(p.mailbox(), target);
            return named(target);
        }

        MailboxName name(MailboxId id) {
            return names.get(id);
        }

        private MailboxInfo named(MailboxInfo box) {
            names.put(box.id(), box.name());
            return box;
        }

        MailboxInfo inbox() {
            return named(found.computeIfAbsent(Optional.empty(), k -> session.require(MailboxName.INBOX)));
        }

        private MailboxInfo junk() {
            if (junk == null) {
                junk = session.list().stream().filter(m -> m.specialUse().equals(Optional.of(SpecialUse.JUNK)))
                        .findFirst().orElseGet(this::inbox);
            }
            return named(junk);
        }
    }
}

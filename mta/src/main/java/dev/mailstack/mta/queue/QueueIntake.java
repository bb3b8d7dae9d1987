package dev.mailstack.mta.queue;

import dev.mailstack.mime.AddressList;
import dev.mailstack.mime.MessageNormalizer;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.mime.SevenBitDowngrade;
import dev.mailstack.mta.dkim.DkimKey;
import dev.mailstack.mta.dkim.DkimSigner;
import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailQueue;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageSource;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueueId;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.Charset;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where every message enters the queue (SMTP, bounces, forwards): raw 8-bit mail without MIME
 * labels is labelled (mime.MessageNormalizer), the message is parsed once for the summary IMAP
 * needs, committed durably, and the runner woken. When this returns the message is safe (R10).
 */
public final class QueueIntake {
    private static final System.Logger LOG = System.getLogger(QueueIntake.class.getName());
    private final MailboxStore store;
    private final MimeLimits limits;
    private final List<Charset> fallbackCharsets;
    private final Runnable wake;
    private final MailCounters counters;
    private final DkimSigner signer;
    /** Where a message goes for its first attempt straight from here ({@link QueueRunner#handOff}); none: woken to claim it. */
    private volatile QueueRunner runner;

    public QueueIntake(MailboxStore store, MimeLimits limits, List<Charset> fallbackCharsets, Runnable wake,
                       MailCounters counters) {
        this(store, limits, fallbackCharsets, wake, counters, DkimSigner.OFF);
    }

    public QueueIntake(MailboxStore store, MimeLimits limits, List<Charset> fallbackCharsets, Runnable wake,
                       MailCounters counters, DkimSigner signer) {
        this.signer = signer;
        this.counters = counters;
        this.store = store;
        this.limits = limits;
        this.fallbackCharsets = List.copyOf(fallbackCharsets);
        this.wake = wake;
    }

    /** From now on what is queued here is handed to {@code runner}'s workers claimed, without a claim of their own. */
    void handOffTo(QueueRunner runner) {
        this.runner = runner;
    }

    /** The running totals this intake counts into, which the SMTP server adds its refusals to. */
    public MailCounters counters() {
        return counters;
    }

    public QueueId accept(MailEnvelope envelope, MessageSource message) throws IOException {
        return accept(envelope, message, new Origin.Outside());
    }

    /**
     * Mail from inside ({@link Origin}) From: a domain with a DKIM key is queued signed; when
     * signing fails it goes unsigned rather than not at all (logged).
     */
    public QueueId accept(MailEnvelope envelope, MessageSource message, Origin origin) throws IOException {
        try (Prepared prepared = prepare(envelope, message)) {
            List<DkimKey> keys = signingKeys(origin, prepared.facts());
            try (Signed signed = keys.isEmpty() ? Signed.as(envelope, prepared) : sign(envelope, prepared, keys)) {
                QueueRunner to = runner;
                MailQueue.Enqueued queued = store.queue().enqueue(signed.envelope(), signed.source(), signed.facts(),
                        to == null ? Optional.empty() : to.firstAttemptLease());
                counters.received.incrementAndGet();
                if (queued.claimed().isPresent()) {
                    to.handOff(queued.claimed().get());
                } else {
                    wake.run();
                }
                return queued.id();
            }
        }
    }

    /**
     * {@code message} spooled, labelled and signed as {@link #accept(MailEnvelope, MessageSource,
     * Origin)} would queue it from its account, to be queued with the outcome that calls for it.
     * Closing it deletes its files (once queued, the queue holds its own).
     */
    Ready ready(AutomaticMessage message) throws IOException {
        List<MessageSpool.Spooled> files = new ArrayList<>();
        try {
            try (MessageSpool spool = store.spool()) {
                spool.write(message.octets());
                files.add(spool.finish());
            }
            Prepared prepared = prepare(message.envelope(), files.getFirst());
            prepared.labelled().ifPresent(files::add);
            List<DkimKey> keys = signingKeys(new Origin.LoggedIn(message.account()), prepared.facts());
            Signed signed = keys.isEmpty() ? Signed.as(message.envelope(), prepared) : sign(message.envelope(), prepared, keys);
            files.addAll(signed.copies());
            return new Ready(signed.envelope(), signed.source(), signed.facts(), files);
        } catch (IOException | RuntimeException e) {
            files.forEach(MessageSpool.Spooled::discard);
            throw e;
        }
    }

    /** A message ready for the queue ({@link #ready}) and the spool files that go when it is closed. */
    record Ready(MailEnvelope envelope, MessageSource source, MessageFacts facts, List<MessageSpool.Spooled> files)
            implements AutoCloseable {
        @Override
        public void close() {
            files.forEach(MessageSpool.Spooled::discard);
        }
    }

    /** The keys to sign with, when the message is ours to vouch for and its From: domain has any. */
    private List<DkimKey> signingKeys(Origin origin, MessageFacts facts) {
        if (origin instanceof Origin.Outside) {
            return List.of();
        }
        String from = MessageSummary.decode(facts.summary()).envelope().from();
        List<AddressList.Address> addresses = from == null ? List.of() : AddressList.parse(from);
        if (addresses.isEmpty() || addresses.getFirst().mailbox() == null || addresses.getFirst().host() == null) {
            return List.of();
        }
        // the first From address: where the signature's d= must be for DMARC (RFC 7489 §3.1.1)
        AddressList.Address first = addresses.getFirst();
        List<DkimKey> keys = signer.keysFor(first.host()); // first: most mail has none, and this asks no database
        if (!keys.isEmpty() && origin instanceof Origin.LoggedIn in && !(store.accounts().resolve(first.mailbox() + "@" + first.host())
                instanceof AddressResolution.Deliver d && d.accounts().stream().anyMatch(a -> a.id().equals(in.account())))) {
            return List.of(); // another account's address, or a domain not hosted here: not this login's to sign
        }
        return keys;
    }

    /** What goes into the queue: the prepared message, or its signed copy (deleted on close). */
    private record Signed(MailEnvelope envelope, MessageSource source, MessageFacts facts, List<MessageSpool.Spooled> copies)
            implements AutoCloseable {
        static Signed as(MailEnvelope envelope, Prepared prepared) {
            return new Signed(envelope, prepared.source(), prepared.facts(), List.of());
        }

        @Override
        public void close() {
            copies.forEach(MessageSpool.Spooled::discard);
        }
    }

    /**
     * RFC 6376 §5.3: 8-bit content is made 7-bit before signing, since a next hop without 8BITMIME
     * would have it re-encoded (RFC 6152 §3) and the signature broken; SMTPUTF8 mail stays as it is.
     * A failure (a damaged key, a header past the signer's limit) leaves the message as prepared.
     */
    private Signed sign(MailEnvelope envelope, Prepared prepared, List<DkimKey> keys) {
        List<MessageSpool.Spooled> copies = new ArrayList<>();
        try {
            MessageSource source = prepared.source();
            MailEnvelope sent = envelope;
            if (envelope.body8bit() && !envelope.smtpUtf8()) {
                try (MessageSpool spool = store.spool()) {
                    MessageSource from = source;
                    SevenBitDowngrade.write(offset -> open(from, offset), MessageSummary.decode(prepared.facts().summary()),
                            source.size(), spool);
                    copies.add(spool.finish());
                }
                source = copies.getLast();
                sent = new MailEnvelope(envelope.returnPath(), envelope.recipients(), envelope.envId(), envelope.ret(),
                        envelope.smtpUtf8(), false, envelope.receivedAt(), envelope.junk());
            }
            try (MessageSpool spool = store.spool()) {
                signer.writeSigned(keys, source, spool, Instant.now());
                copies.add(spool.finish());
            }
            MessageSpool.Spooled signed = copies.getLast();
            MessageSummary.ParsedMessage parsed = parse(signed, limits);
            if (!sent.body8bit() && parsed.eightBit()) {
                // 8-bit octets the conversion could not encode (an address, a line that is no field):
                // still 8-bit mail, for RemoteDelivery to send only where 8BITMIME is announced
                sent = new MailEnvelope(envelope.returnPath(), envelope.recipients(), envelope.envId(), envelope.ret(),
                        envelope.smtpUtf8(), true, envelope.receivedAt(), envelope.junk());
            }
            return new Signed(sent, signed, facts(parsed), copies);
        } catch (IOException | RuntimeException e) {
            copies.forEach(MessageSpool.Spooled::discard);
            LOG.log(Level.WARNING, "dkim: queued unsigned, signing failed domain={0}: {1}", keys.getFirst().domain(), e.toString());
            return Signed.as(envelope, prepared);
        }
    }
    /**
     * A message labelled where it needs it and parsed, ready to be queued by {@link
     * dev.mailstack.store.MailQueue} together with something else (a delivery report with the
     * outcomes it reports); {@link #queued} once it is. Closing it deletes a labelled copy.
     */
    Prepared prepare(MailEnvelope envelope, MessageSource message) throws IOException {
        MessageSummary.ParsedMessage parsed = parse(message, limits);
        // RFC 6532: with SMTPUTF8, raw UTF-8 is the message's own form; it travels unchanged to hops
        // that announce SMTPUTF8, so it is not turned into encoded-words here. Mail that only claims
        // SMTPUTF8 and carries another charset is labelled like any other.
        if (!MessageNormalizer.needsLabels(parsed)
                || (envelope.smtpUtf8() && MessageNormalizer.isUtf8(offset -> open(message, offset), parsed))) {
            return new Prepared(message, facts(parsed), Optional.empty());
        }
        try (MessageSpool spool = store.spool()) {
            MessageNormalizer.label(offset -> open(message, offset), parsed, fallbackCharsets, spool);
            MessageSpool.Spooled labelled = spool.finish();
            try {
                return new Prepared(labelled, facts(parse(labelled, limits)), Optional.of(labelled));
            } catch (IOException | RuntimeException e) {
                labelled.discard();
                throw e;
            }
        }
    }

    /** {@code count} prepared messages were committed to the queue: counted, and the runner woken. */
    void queued(int count) {
        if (count > 0) {
            counters.received.addAndGet(count);
            wake.run();
        }
    }

    /** What {@link #prepare} made: the octets to queue, their facts, and the labelled copy to delete after. */
    record Prepared(MessageSource source, MessageFacts facts, Optional<MessageSpool.Spooled> labelled)
            implements AutoCloseable {
        @Override
        public void close() {
            labelled.ifPresent(MessageSpool.Spooled::discard);
        }
    }

    private static MessageFacts facts(MessageSummary.ParsedMessage parsed) {
        return new MessageFacts(parsed.size(), parsed.headerSize(), parsed.bodyLines(), parsed.summary().encode());
    }

    static MessageSummary.ParsedMessage parse(MessageSource message, MimeLimits limits) throws IOException {
        try (InputStream in = message.open()) {
            return MessageSummary.parse(in, limits);
        }
    }

    private static InputStream open(MessageSource message, long offset) throws IOException {
        InputStream in = message.open();
        in.skipNBytes(offset);
        return in;
    }

}

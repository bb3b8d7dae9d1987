package dev.mailstack.mta.queue;

import dev.mailstack.mime.MessageNormalizer;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageSource;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueueId;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.util.List;
import java.util.Optional;

/**
 * Where every message enters the queue (SMTP, bounces, forwards): raw 8-bit mail without MIME
 * labels is labelled (mime.MessageNormalizer), the message is parsed once for the summary IMAP
 * needs, committed durably, and the runner woken. When this returns the message is safe (R10).
 */
public final class QueueIntake {
    private final MailboxStore store;
    private final MimeLimits limits;
    private final List<Charset> fallbackCharsets;
    private final Runnable wake;
    private final MailCounters counters;

    public QueueIntake(MailboxStore store, MimeLimits limits, List<Charset> fallbackCharsets, Runnable wake,
                       MailCounters counters) {
        this.counters = counters;
        this.store = store;
        this.limits = limits;
        this.fallbackCharsets = List.copyOf(fallbackCharsets);
        this.wake = wake;
    }

    public QueueId accept(MailEnvelope envelope, MessageSource message) throws IOException {
        try (Prepared prepared = prepare(envelope, message)) {
            QueueId id = store.queue().enqueue(envelope, prepared.source(), prepared.facts());
            queued(1);
            return id;
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
        public void close() throws IOException {
            if (labelled.isPresent()) {
                labelled.get().discard();
            }
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

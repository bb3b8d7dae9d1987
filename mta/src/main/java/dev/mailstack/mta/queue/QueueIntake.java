package dev.mailstack.mta.queue;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailQueue;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageSource;
import dev.mailstack.store.QueueId;
import java.io.IOException;
import java.io.InputStream;

/**
 * Where every message enters the queue (SMTP, bounces): parse once for the summary IMAP needs,
 * commit durably, then wake the runner. When this returns the message is safe (STYLE.md R10).
 */
public final class QueueIntake {
    private final MailQueue queue;
    private final MimeLimits limits;
    private final Runnable wake;

    public QueueIntake(MailQueue queue, MimeLimits limits, Runnable wake) {
        this.queue = queue;
        this.limits = limits;
        this.wake = wake;
    }

    public QueueId accept(MailEnvelope envelope, MessageSource message) throws IOException {
        MessageFacts facts = facts(message, limits);
        QueueId id = queue.enqueue(envelope, message, facts);
        wake.run();
        return id;
    }

    /** The parse-once summary of a message, as the store keeps it. */
    public static MessageFacts facts(MessageSource message, MimeLimits limits) throws IOException {
        try (InputStream in = message.open()) {
            MessageSummary.ParsedMessage parsed = MessageSummary.parse(in, limits);
            return new MessageFacts(parsed.size(), parsed.headerSize(), parsed.bodyLines(), parsed.summary().encode());
        }
    }
}

package dev.mailstack.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The SMTP envelope of a queued message. {@code returnPath} is empty for the null sender
 * ({@code MAIL FROM:<>}); the DSN fields (RFC 3461) are kept as the client sent them. {@code junk}:
 * local recipients get it in their Junk mailbox (the sender's domain asked for quarantine).
 */
public record MailEnvelope(String returnPath, List<Recipient> recipients, Optional<String> envId,
                           Optional<String> ret, boolean smtpUtf8, boolean body8bit, Instant receivedAt, boolean junk) {
    public MailEnvelope {
        recipients = List.copyOf(recipients);
        if (recipients.isEmpty()) {
            throw new IllegalArgumentException("an envelope needs at least one recipient");
        }
    }

    /** Mail for the INBOX. */
    public MailEnvelope(String returnPath, List<Recipient> recipients, Optional<String> envId,
                        Optional<String> ret, boolean smtpUtf8, boolean body8bit, Instant receivedAt) {
        this(returnPath, recipients, envId, ret, smtpUtf8, body8bit, receivedAt, false);
    }

    public MailEnvelope asJunk() {
        return new MailEnvelope(returnPath, recipients, envId, ret, smtpUtf8, body8bit, receivedAt, true);
    }

    /** One RCPT TO, with its RFC 3461 NOTIFY (e.g. "FAILURE,DELAY") and ORCPT when given. */
    public record Recipient(String address, Optional<String> dsnNotify, Optional<String> orcpt) {
        public static Recipient of(String address) {
            return new Recipient(address, Optional.empty(), Optional.empty());
        }
    }
}

package dev.mailstack.sieve;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One thing the delivery side must do for the message after a run. There is no discard: a
 * message is discarded when the outcome holds no {@link Keep}, {@link FileInto}, {@link Redirect}
 * or {@link Reject} (RFC 5228 §4.5: discard only cancels the implicit keep).
 */
public sealed interface SieveAction {

    /** Store in the user's INBOX with these IMAP flags (RFC 5228 §4.3; flags from RFC 5232). */
    record Keep(List<String> flags) implements SieveAction {
        public Keep {
            flags = List.copyOf(flags);
        }
    }

    /**
     * Store in {@code mailbox}: UTF-8, '/' between hierarchy levels, never INBOX (that is a
     * {@link Keep}). {@code create}: make the mailbox if it is missing (RFC 5490 §3.2); without it
     * a missing mailbox means the deliverer files into INBOX instead, as RFC 5228 §4.1 suggests.
     * {@code specialUse} (RFC 8579 §4, fileinto :specialuse with :create): no mailbox had that
     * special-use attribute (e.g. "\\Junk"), so the one made gets it; empty otherwise.
     */
    record FileInto(String mailbox, List<String> flags, boolean create, Optional<String> specialUse)
            implements SieveAction {
        public FileInto {
            flags = List.copyOf(flags);
            Objects.requireNonNull(specialUse, "specialUse");
        }

        public FileInto(String mailbox, List<String> flags, boolean create) {
            this(mailbox, flags, create, Optional.empty());
        }
    }

    /**
     * Resend the message unchanged to {@code address} (local@domain) with the original envelope
     * sender (RFC 5228 §4.2). {@code copy} says the script also kept a copy (RFC 3894), which the
     * outcome shows as a separate keep or fileinto; the deliverer needs it only for logging.
     */
    record Redirect(String address, boolean copy) implements SieveAction {
    }

    /**
     * Refuse the message, telling its sender {@code reason} (RFC 5429): at the SMTP level when the
     * deliverer still can, else with a delivery status notification. {@code extended} is ereject,
     * which §2.1 requires to refuse in the protocol whenever possible. The outcome holds no other
     * action with it but a discard's absence of one: §2.2 makes it incompatible with storing,
     * sending on or answering the message; only {@link Notify}, which tells the user, may go with it.
     */
    record Reject(String reason, boolean extended) implements SieveAction {
    }

    /**
     * Send an auto-reply (RFC 5230) unless one went to this sender for this {@code handle} within
     * {@code period}. The deliverer still applies §4.5's rules (no reply to the null sender, to
     * lists or to auto-submitted mail; only when the user's address is in a recipient field,
     * counting {@code addresses}) and §5's reply format. {@code subject} and {@code from} are
     * empty when the script gave none; {@code mime} says {@code reason} is a MIME entity, not text.
     */
    record Vacation(String reason, Optional<String> subject, Optional<String> from, List<String> addresses,
            Duration period, boolean mime, String handle) implements SieveAction {
        public Vacation {
            addresses = List.copyOf(addresses);
        }
    }

    /**
     * Tell someone about the message through an enotify method (RFC 5435 §3): {@code method} a
     * URI, so far always a "mailto:" one that {@link MailtoUri#parse} reads (RFC 5436).
     * {@code from}: who the notification says it is from, as the script wrote it, empty when it
     * gave none; the deliverer still checks it is the user's own. {@code importance} 1 (high) to 3
     * (low), 2 by default (§3.4); {@code options} method-specific, none for mailto (RFC 5436 §2.5);
     * {@code message} the script's short text, empty for the method's default (§3.5). The
     * deliverer sends nothing about mail that is itself automatic (RFC 5436 §2.7).
     */
    record Notify(String method, Optional<String> from, int importance, List<String> options, Optional<String> message)
            implements SieveAction {
        public Notify {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(message, "message");
            options = List.copyOf(options);
            if (importance < 1 || importance > 3) {
                throw new IllegalArgumentException("importance is 1, 2 or 3, not " + importance);
            }
        }

        /** RFC 5435 §3.4: :importance "1", "2" or "3"; empty for anything else. */
        static OptionalInt importance(String text) {
            return switch (text) {
                case "1" -> OptionalInt.of(1);
                case "2" -> OptionalInt.of(2);
                case "3" -> OptionalInt.of(3);
                default -> OptionalInt.empty();
            };
        }
    }
}

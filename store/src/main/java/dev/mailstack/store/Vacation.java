package dev.mailstack.store;

import java.time.Instant;
import java.util.Optional;

/**
 * An account's out-of-office reply (RFC 5230's vacation action, set by the administrator): the
 * subject of the replies (empty: "Auto: " and the subject of the message answered, RFC 5230
 * §4.3), their text, and when the replies stop (none: when cleared).
 */
public record Vacation(String subject, String body, Optional<Instant> endsAt) {
    /** The subject column's size: RFC 5322 §2.1.1's line limit, a bound no sensible subject meets. */
    public static final int MAX_SUBJECT_CHARS = 998;
    /** The body column's size; an out-of-office note is a few lines. */
    public static final int MAX_BODY_CHARS = 65_536;

    public Vacation {
        if (subject.length() > MAX_SUBJECT_CHARS) {
            throw new IllegalArgumentException("a vacation subject is at most " + MAX_SUBJECT_CHARS + " characters");
        }
        // It becomes a header field: a line break in it would start another field of the reply.
        if (subject.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
            throw new IllegalArgumentException("a vacation subject is one line, without control characters");
        }
        if (body.isBlank()) {
            throw new IllegalArgumentException("a vacation message needs some text"); // RFC 5230 §4: reason is required
        }
        if (body.length() > MAX_BODY_CHARS) {
            throw new IllegalArgumentException("a vacation message is at most " + MAX_BODY_CHARS + " characters");
        }
    }

    /** Whether replies go out at {@code now}: none from its end on. */
    public boolean activeAt(Instant now) {
        return endsAt.map(now::isBefore).orElse(true);
    }
}

package dev.mailstack.pop3d;

import java.util.Objects;
import java.util.Optional;

/**
 * One status line of a POP3 reply (RFC 1939 §3): {@code +OK} or {@code -ERR}, an optional
 * response code in brackets (RFC 2449 §8, RFC 3206) and a text for people.
 */
record Pop3Reply(boolean ok, Optional<Code> code, String text) {
    /** The response codes we send; the wire spelling is RFC 2449 §8.1 / RFC 3206 §3-4. */
    enum Code {
        /** RFC 2449 §8.1.2: another session holds the maildrop. */
        IN_USE("IN-USE"),
        /** RFC 3206 §5: the credentials were wrong (sent with AUTH-RESP-CODE). */
        AUTH("AUTH"),
        /** RFC 3206 §4: a temporary server problem; the client may retry later. */
        SYS_TEMP("SYS/TEMP"),
        /** RFC 3206 §4: a permanent server problem; retrying will not help. */
        SYS_PERM("SYS/PERM");

        private final String wire;

        Code(String wire) {
            this.wire = wire;
        }

        String wire() {
            return wire;
        }
    }

    Pop3Reply {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(text, "text");
        if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("reply text must be one line: " + text);
        }
    }

    static Pop3Reply ok(String text) {
        return new Pop3Reply(true, Optional.empty(), text);
    }

    static Pop3Reply err(String text) {
        return new Pop3Reply(false, Optional.empty(), text);
    }

    static Pop3Reply err(Code code, String text) {
        return new Pop3Reply(false, Optional.of(code), text);
    }

    /** The same status and code with another text. */
    Pop3Reply withText(String other) {
        return new Pop3Reply(ok, code, other);
    }

    /** The line as sent, without CRLF. */
    String line() {
        StringBuilder sb = new StringBuilder(ok ? "+OK" : "-ERR");
        code.ifPresent(c -> sb.append(" [").append(c.wire()).append(']'));
        if (!text.isEmpty()) {
            sb.append(' ').append(text);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return line();
    }
}

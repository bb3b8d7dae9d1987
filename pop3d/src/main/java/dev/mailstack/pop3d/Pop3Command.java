package dev.mailstack.pop3d;

import java.util.Optional;

/**
 * A parsed POP3 command (RFC 1939 §§4-7, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH). Message
 * numbers are 1-based and at least 1; whether they exist is the session's business.
 */
sealed interface Pop3Command {
    record User(String name) implements Pop3Command {
    }

    /** The rest of the line after "PASS ": a password may contain spaces (RFC 1939 §7 note). */
    record Pass(String password) implements Pop3Command {
        @Override
        public String toString() {
            return "Pass[***]"; // never log a password
        }
    }

    /** AUTH with no mechanism lists them; the initial response is RFC 5034 §4's optional argument. */
    record Auth(Optional<String> mechanism, Optional<String> initialResponse) implements Pop3Command {
        @Override
        public String toString() {
            return "Auth[" + mechanism.orElse("") + (initialResponse.isPresent() ? " ***" : "") + "]";
        }
    }

    record Apop() implements Pop3Command {
    }

    record Stls() implements Pop3Command {
    }

    record Capa() implements Pop3Command {
    }

    record Quit() implements Pop3Command {
    }

    record Stat() implements Pop3Command {
    }

    /** LIST, for one message or (empty) all of them. */
    record List(Optional<Integer> message) implements Pop3Command {
    }

    record Uidl(Optional<Integer> message) implements Pop3Command {
    }

    record Retr(int message) implements Pop3Command {
    }

    record Top(int message, long lines) implements Pop3Command {
        public Top {
            if (lines < 0) {
                throw new IllegalArgumentException("negative line count " + lines);
            }
        }
    }

    record Dele(int message) implements Pop3Command {
    }

    record Noop() implements Pop3Command {
    }

    record Rset() implements Pop3Command {
    }
}

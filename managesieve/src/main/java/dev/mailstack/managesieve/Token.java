package dev.mailstack.managesieve;

/** One word of a ManageSieve command line as the client sent it (RFC 5804 §4). */
sealed interface Token {
    /** A bare word: a command name or a number. */
    record Atom(String text) implements Token {
    }

    /** A quoted string or a literal, decoded from UTF-8; which of the two it was does not matter (§4 string). */
    record Str(String text) implements Token {
        @Override
        public String toString() {
            return "Str[" + text.length() + " chars]"; // may be a password or a script: never logged
        }
    }
}

package dev.mailstack.sieve;

import java.util.List;

/** One argument as written in the script (RFC 5228 §2.6): a tag, a number, or a string or string list. */
sealed interface Argument {
    int line();

    /** A tag such as {@code :contains}, its name lower-cased and without the colon. */
    record Tag(String name, int line) implements Argument {
    }

    /** A number with its K/M/G quantifier already applied. */
    record Number(long value, int line) implements Argument {
    }

    /**
     * A string ({@code bracketed} false, one value) or a string list in brackets. A single string
     * may stand wherever a string list is wanted, not the other way round (§2.4.2.1).
     */
    record Strings(List<String> values, boolean bracketed, int line) implements Argument {
        public Strings {
            values = List.copyOf(values);
        }
    }
}

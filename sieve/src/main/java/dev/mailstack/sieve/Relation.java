package dev.mailstack.sieve;

import java.util.Optional;

/** The relational operators of :value and :count (RFC 5231 §5). */
enum Relation {
    GT, GE, LT, LE, EQ, NE;

    static Optional<Relation> named(String name) {
        for (Relation r : values()) {
            if (r.name().equalsIgnoreCase(name)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** Whether a comparison result (value against key) satisfies this relation. */
    boolean holds(int comparison) {
        return switch (this) {
            case GT -> comparison > 0;
            case GE -> comparison >= 0;
            case LT -> comparison < 0;
            case LE -> comparison <= 0;
            case EQ -> comparison == 0;
            case NE -> comparison != 0;
        };
    }
}

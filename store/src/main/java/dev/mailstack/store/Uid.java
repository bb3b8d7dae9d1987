package dev.mailstack.store;

/** A message's unique id within one mailbox (RFC 3501 §2.3.1.1: a non-zero 32-bit number). */
public record Uid(long value) implements Comparable<Uid> {
    public static final long MAX = 0xFFFF_FFFFL;

    public Uid {
        if (value < 1 || value > MAX) {
            throw new IllegalArgumentException("uid out of range: " + value);
        }
    }

    @Override
    public int compareTo(Uid other) {
        return Long.compare(value, other.value);
    }
}

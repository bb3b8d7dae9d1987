package dev.mailstack.store;

import java.util.Arrays;

/**
 * What the parse at delivery learned about a message. {@code summary} is opaque here: the mime
 * module writes it once and the protocols read it back (STYLE.md §1, Dovecot's mail cache).
 */
public record MessageFacts(long size, long headerSize, long bodyLines, byte[] summary) {
    public MessageFacts {
        if (size < 0 || headerSize < 0 || headerSize > size || bodyLines < 0) {
            throw new IllegalArgumentException("inconsistent sizes: size=" + size + " header=" + headerSize);
        }
        summary = summary.clone();
    }

    @Override
    public byte[] summary() {
        return summary.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MessageFacts f && f.size == size && f.headerSize == headerSize
                && f.bodyLines == bodyLines && Arrays.equals(f.summary, summary);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(size) * 31 + Arrays.hashCode(summary);
    }

    @Override
    public String toString() {
        return "MessageFacts[size=" + size + ", headerSize=" + headerSize + ", bodyLines=" + bodyLines
                + ", summary=" + summary.length + " bytes]";
    }
}

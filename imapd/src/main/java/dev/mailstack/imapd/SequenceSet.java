package dev.mailstack.imapd;

import java.util.ArrayList;
import java.util.List;

/**
 * A sequence set (RFC 3501 §9 "sequence-set"): ranges of message numbers or UIDs, where
 * {@code *} is the largest one in use. Stored unresolved; the session resolves it against its view.
 */
record SequenceSet(List<Range> ranges) {
    static final long STAR = -1;

    record Range(long from, long to) {
        long low(long max) {
            long a = from == STAR ? max : from;
            long b = to == STAR ? max : to;
            return Math.min(a, b);
        }

        long high(long max) {
            long a = from == STAR ? max : from;
            long b = to == STAR ? max : to;
            return Math.max(a, b);
        }
    }

    SequenceSet {
        ranges = List.copyOf(ranges);
    }

    boolean contains(long n, long max) {
        for (Range r : ranges) {
            if (n >= r.low(max) && n <= r.high(max)) {
                return true;
            }
        }
        return false;
    }

    static SequenceSet parse(String text) throws ImapSyntaxException {
        List<Range> out = new ArrayList<>();
        if (text.isEmpty()) {
            throw new ImapSyntaxException("empty sequence set");
        }
        for (String part : text.split(",", -1)) {
            int colon = part.indexOf(':');
            if (colon < 0) {
                long n = number(part);
                out.add(new Range(n, n));
            } else {
                out.add(new Range(number(part.substring(0, colon)), number(part.substring(colon + 1))));
            }
        }
        return new SequenceSet(out);
    }

    private static long number(String s) throws ImapSyntaxException {
        if (s.equals("*")) {
            return STAR;
        }
        if (s.isEmpty() || s.length() > 10 || !s.chars().allMatch(Character::isDigit)) {
            throw new ImapSyntaxException("bad sequence number '" + s + "'");
        }
        long n = Long.parseLong(s);
        if (n == 0 || n > 0xFFFF_FFFFL) {
            throw new ImapSyntaxException("sequence numbers run from 1 to 4294967295");
        }
        return n;
    }
}

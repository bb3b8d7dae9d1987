package dev.mailstack.imapd;

import java.util.ArrayList;
import java.util.List;

/**
 * A sequence set (RFC 3501 §9 "sequence-set"): ranges of message numbers or UIDs, where
 * {@code *} is the largest one in use; or {@code $} (RFC 5182 §2.2 seq-last-command), the
 * result the last SEARCH RETURN (SAVE) saved, with {@code saved} true and no ranges. Stored
 * unresolved; the selected mailbox resolves it against its view and its saved result.
 */
record SequenceSet(List<Range> ranges, boolean saved) {
    static final long STAR = -1;
    /** RFC 5182 §2.2: "$". */
    static final SequenceSet SAVED = new SequenceSet(List.of(), true);

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
        if (saved && !ranges.isEmpty()) {
            throw new IllegalArgumentException("$ stands alone (RFC 5182 section 3)");
        }
    }

    SequenceSet(List<Range> ranges) {
        this(ranges, false);
    }

    /**
     * Exactly these UIDs, ascending and as ranges of consecutive values: a range never takes in a
     * UID that was not one of them, so it stays exact whatever comes into the mailbox later.
     */
    static SequenceSet ofUids(long[] uids) {
        long[] sorted = uids.clone();
        java.util.Arrays.sort(sorted);
        List<Range> out = new ArrayList<>();
        for (int i = 0; i < sorted.length; ) {
            int j = i;
            while (j + 1 < sorted.length && sorted[j + 1] <= sorted[j] + 1) {
                j++;
            }
            out.add(new Range(sorted[i], sorted[j]));
            i = j + 1;
        }
        return new SequenceSet(out);
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

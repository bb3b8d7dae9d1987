package dev.mailstack.sieve;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code :matches} glob of RFC 5228 §2.7.1: {@code *} any run of characters, {@code ?} one
 * character, {@code \} takes the next character literally. The pattern is cut at each {@code *}
 * into segments; the first must match at the start, the last at the end, and each one between at
 * its leftmost place after the one before. Leftmost placement never loses a match, so nothing is
 * ever retried: the cost is at most subject length times pattern length, whatever the stars.
 *
 * <p>The captured wildcards are what RFC 5229 §3.2 calls match variables: each {@code *} takes the
 * shortest run that lets the rest match, except the last, which takes what is left (so
 * {@code "[*] *"} against {@code "[a] [b] c"} gives "a" and "[b] c", as in the RFC's example).
 */
final class GlobMatcher {
    /** A '?' inside a segment. */
    private static final int ANY = -1;

    private final List<int[]> segments;

    private GlobMatcher(List<int[]> segments) {
        this.segments = segments;
    }

    static GlobMatcher compile(String pattern) {
        List<int[]> segments = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        int[] cps = pattern.codePoints().toArray();
        for (int i = 0; i < cps.length; i++) {
            int c = cps[i];
            if (c == '\\' && i + 1 < cps.length) {
                current.add(cps[++i]);
            } else if (c == '*') {
                segments.add(toArray(current));
                current.clear();
            } else if (c == '?') {
                current.add(ANY);
            } else {
                current.add(c);
            }
        }
        segments.add(toArray(current));
        return new GlobMatcher(segments);
    }

    /**
     * Matches the whole subject. On success returns the match variables: the subject itself, then
     * what each wildcard ({@code *} or {@code ?}) matched, in pattern order.
     */
    Optional<List<String>> match(String subject, Comparator comparator) {
        return match(subject.codePoints().toArray(), subject, comparator);
    }

    /** As {@link #match(String, Comparator)}, with the subject's code points already taken out. */
    Optional<List<String>> match(int[] s, String subject, Comparator comparator) {
        int n = segments.size();
        int[] first = segments.get(0);
        if (n == 1) {
            if (s.length != first.length || !matchesAt(first, s, 0, comparator)) {
                return Optional.empty();
            }
            return Optional.of(captures(subject, s, new int[] {0}));
        }
        int[] last = segments.get(n - 1);
        int lastStart = s.length - last.length;
        if (lastStart < first.length || !matchesAt(first, s, 0, comparator)
                || !matchesAt(last, s, lastStart, comparator)) {
            return Optional.empty();
        }
        int[] starts = new int[n];
        starts[0] = 0;
        starts[n - 1] = lastStart;
        int pos = first.length;
        for (int k = 1; k < n - 1; k++) {
            int[] seg = segments.get(k);
            int found = -1;
            for (int at = pos; at + seg.length <= lastStart; at++) {
                if (matchesAt(seg, s, at, comparator)) {
                    found = at;
                    break;
                }
            }
            if (found < 0) {
                return Optional.empty();
            }
            starts[k] = found;
            pos = found + seg.length;
        }
        return Optional.of(captures(subject, s, starts));
    }

    private static boolean matchesAt(int[] seg, int[] s, int at, Comparator comparator) {
        for (int k = 0; k < seg.length; k++) {
            if (seg[k] != ANY && comparator.fold(seg[k]) != comparator.fold(s[at + k])) {
                return false;
            }
        }
        return true;
    }

    /** Walks the segments at their found places, collecting '?' characters and the runs between. */
    private List<String> captures(String subject, int[] s, int[] starts) {
        List<String> out = new ArrayList<>();
        out.add(subject);
        for (int k = 0; k < segments.size(); k++) {
            int[] seg = segments.get(k);
            if (k > 0) {
                int starEnd = starts[k];
                int starStart = starts[k - 1] + segments.get(k - 1).length;
                out.add(new String(s, starStart, starEnd - starStart));
            }
            for (int i = 0; i < seg.length; i++) {
                if (seg[i] == ANY) {
                    out.add(new String(s, starts[k] + i, 1));
                }
            }
        }
        return out;
    }

    private static int[] toArray(List<Integer> list) {
        int[] a = new int[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = list.get(i);
        }
        return a;
    }
}

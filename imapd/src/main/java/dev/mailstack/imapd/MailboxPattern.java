package dev.mailstack.imapd;

import java.util.HashMap;
import java.util.Map;

/**
 * A LIST or LSUB pattern (RFC 3501 §6.3.8): '*' matches anything, '%' anything but the hierarchy
 * separator '/', every other character itself; a leading INBOX in any case stands for INBOX.
 * <p>Matched by following every position of the pattern at once, one bit each, so a name costs
 * its length times the pattern's length in 64-bit words, whatever the wildcards. A backtracking
 * regular expression (what this replaces) tried every split of the name between the wildcards:
 * ten '%' and a 60-character name held a carrier thread for over a minute, and a few such LISTs
 * stopped every session of the server.
 */
final class MailboxPattern {
    private final int length;
    /** Positions holding '*', '%', and either. */
    private final long[] star;
    private final long[] percent;
    private final long[] wild;
    /** For each character of the pattern, the positions holding it. */
    private final Map<Character, long[]> literal = new HashMap<>();

    private MailboxPattern(String pattern) {
        length = pattern.length();
        int words = (length + 1 + 63) / 64; // one bit per position, and one for "all of it matched"
        star = new long[words];
        percent = new long[words];
        wild = new long[words];
        for (int i = 0; i < length; i++) {
            char c = pattern.charAt(i);
            long[] bits = c == '*' ? star : c == '%' ? percent : literal.computeIfAbsent(c, k -> new long[words]);
            bits[i >>> 6] |= 1L << i;
            if (c == '*' || c == '%') {
                wild[i >>> 6] |= 1L << i;
            }
        }
    }

    /** The pattern of LIST {@code reference} {@code pattern}, the two joined as RFC 3501 §6.3.8 has it. */
    static MailboxPattern of(String reference, String pattern) {
        String full = reference.isEmpty() || pattern.startsWith("/") ? pattern
                : reference.endsWith("/") ? reference + pattern : reference + "/" + pattern;
        if (full.regionMatches(true, 0, "INBOX", 0, 5) && (full.length() == 5 || "/*%".indexOf(full.charAt(5)) >= 0)) {
            full = "INBOX" + full.substring(5);
        }
        return new MailboxPattern(collapsed(full));
    }

    /** Runs of wildcards as one: "%%" is "%", and a run with a '*' in it is "*". Same matches, fewer positions. */
    private static String collapsed(String pattern) {
        StringBuilder out = new StringBuilder(pattern.length());
        for (int i = 0; i < pattern.length(); ) {
            char c = pattern.charAt(i);
            if (c != '*' && c != '%') {
                out.append(c);
                i++;
                continue;
            }
            boolean anyStar = false;
            for (; i < pattern.length() && (pattern.charAt(i) == '*' || pattern.charAt(i) == '%'); i++) {
                anyStar |= pattern.charAt(i) == '*';
            }
            out.append(anyStar ? '*' : '%');
        }
        return out.toString();
    }

    boolean matches(String name) {
        long[] at = new long[star.length];
        at[0] = 1L; // nothing of the name read, nothing of the pattern used
        orShifted(at, at, wild); // a wildcard may match nothing
        for (int k = 0; k < name.length(); k++) {
            char c = name.charAt(k);
            long[] next = new long[at.length];
            boolean any = false;
            for (int w = 0; w < at.length; w++) {
                next[w] = at[w] & star[w] | (c == '/' ? 0 : at[w] & percent[w]); // a wildcard takes c, stays
            }
            long[] same = literal.get(c);
            if (same != null) {
                orShifted(next, at, same); // a position holding c takes it, moves on
            }
            orShifted(next, next, wild); // no two wildcards in a row (collapsed): one step reaches past them
            for (long word : next) {
                any |= word != 0;
            }
            if (!any) {
                return false;
            }
            at = next;
        }
        return (at[length >>> 6] & 1L << length) != 0;
    }

    /** {@code into} |= ({@code from} & {@code mask}) moved one position on. */
    private static void orShifted(long[] into, long[] from, long[] mask) {
        long carry = 0;
        for (int w = 0; w < into.length; w++) {
            long moving = from[w] & mask[w];
            into[w] |= moving << 1 | carry;
            carry = moving >>> 63;
        }
    }
}

package dev.mailstack.imapd;

import dev.mailstack.store.MailboxName;
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
    /**
     * A name has at most this many UTF-16 units (the store's limit of code points, each at most
     * two): a pattern with more characters than that besides its wildcards matches no name.
     */
    private static final int MAX_NAME_UNITS = 2 * MailboxName.MAX_LENGTH;
    /** The pattern that matches nothing. */
    private static final MailboxPattern NONE = new MailboxPattern("\0", true);

    private final int length;
    private final boolean none;
    /** Whether the pattern's last character is '%': LSUB's parent rule is for such a pattern (RFC 3501 §6.3.9). */
    private final boolean endsInPercent;
    /** Positions holding '*', '%', and either. */
    private final long[] star;
    private final long[] percent;
    private final long[] wild;
    /**
     * For each character of the pattern, the positions holding it: all of them together as many as
     * the pattern is long (a bit mask per character would cost the pattern's length for each of
     * its distinct characters: megabytes for a long pattern of many scripts), its mask made when a
     * name's character asks for it.
     */
    private final Map<Character, int[]> literal = new HashMap<>();

    private MailboxPattern(String pattern, boolean none) {
        this.none = none;
        length = pattern.length();
        endsInPercent = !none && pattern.endsWith("%");
        int words = (length + 1 + 63) / 64; // one bit per position, and one for "all of it matched"
        star = new long[words];
        percent = new long[words];
        wild = new long[words];
        Map<Character, Integer> counts = new HashMap<>();
        for (int i = 0; i < length; i++) {
            char c = pattern.charAt(i);
            if (c == '*' || c == '%') {
                (c == '*' ? star : percent)[i >>> 6] |= 1L << i;
                wild[i >>> 6] |= 1L << i;
            } else {
                counts.merge(c, 1, Integer::sum);
            }
        }
        Map<Character, Integer> filled = new HashMap<>();
        for (int i = 0; i < length; i++) {
            char c = pattern.charAt(i);
            if (c != '*' && c != '%') {
                int[] at = literal.computeIfAbsent(c, k -> new int[counts.get(k)]);
                at[filled.merge(c, 1, Integer::sum) - 1] = i;
            }
        }
    }

    boolean endsInPercent() {
        return endsInPercent;
    }

    /** The pattern of LIST {@code reference} {@code pattern}, the two joined as RFC 3501 §6.3.8 has it. */
    static MailboxPattern of(String reference, String pattern) {
        String full = reference.isEmpty() || pattern.startsWith("/") ? pattern
                : reference.endsWith("/") ? reference + pattern : reference + "/" + pattern;
        if (MailboxName.startsWithInbox(full) && (full.length() == 5 || "/*%".indexOf(full.charAt(5)) >= 0)) {
            full = "INBOX" + full.substring(5);
        }
        String compact = collapsed(full);
        long literals = compact.chars().filter(c -> c != '*' && c != '%').count();
        return literals > MAX_NAME_UNITS ? NONE : new MailboxPattern(compact, false);
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
        if (none) {
            return false;
        }
        long[] same = new long[star.length];
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
            int[] positions = literal.get(c);
            if (positions != null) {
                java.util.Arrays.fill(same, 0L);
                for (int i : positions) {
                    same[i >>> 6] |= 1L << i;
                }
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

package dev.mailstack.sieve;

import java.math.BigInteger;
import java.util.Optional;

/**
 * The comparators a script may name with {@code :comparator} (RFC 5228 §2.7.3, RFC 4790). Strings
 * are compared by Unicode code point, which orders them as their UTF-8 octets would.
 */
enum Comparator {
    /** RFC 4790 §9.3: octet by octet. */
    OCTET("i;octet", null),
    /** RFC 4790 §9.2: octets, with a-z folded to A-Z; the default (RFC 5228 §2.7.3). */
    ASCII_CASEMAP("i;ascii-casemap", null),
    /**
     * RFC 4790 §9.1: the leading digits as a number; a string that does not start with a digit
     * is positive infinity. Offers equality and ordering only, no substring match.
     */
    ASCII_NUMERIC("i;ascii-numeric", "comparator-i;ascii-numeric");

    final String wireName;
    /** What a script must require to use it; null for the two every script has. */
    final String extension;

    Comparator(String wireName, String extension) {
        this.wireName = wireName;
        this.extension = extension;
    }

    static Optional<Comparator> named(String name) {
        for (Comparator c : values()) {
            if (c.wireName.equalsIgnoreCase(name)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Whether this comparator can do substring and glob matching (:contains, :matches). */
    boolean matchesSubstrings() {
        return this != ASCII_NUMERIC;
    }

    /** Negative, zero or positive as {@code a} sorts before, equal to or after {@code b}. */
    int compare(String a, String b) {
        if (this == ASCII_NUMERIC) {
            BigInteger x = numericValue(a);
            BigInteger y = numericValue(b);
            if (x == null || y == null) {
                return x == null ? (y == null ? 0 : 1) : -1;
            }
            return x.compareTo(y);
        }
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = fold(a.codePointAt(i));
            int cb = fold(b.codePointAt(j));
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(a.codePointAt(i));
            j += Character.charCount(b.codePointAt(j));
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    boolean equal(String a, String b) {
        return compare(a, b) == 0;
    }

    /** One character compared as this comparator sees it (glob and substring matching). */
    int fold(int codePoint) {
        if (this == ASCII_CASEMAP && codePoint >= 'a' && codePoint <= 'z') {
            return codePoint - ('a' - 'A');
        }
        return codePoint;
    }

    /** RFC 5228 §2.7.1 :contains. */
    boolean contains(String haystack, String needle) {
        return contains(haystack.codePoints().toArray(), needle.codePoints().toArray());
    }

    /** :contains on code points, for callers that test one value against many keys. */
    boolean contains(int[] h, int[] n) {
        outer:
        for (int start = 0; start + n.length <= h.length; start++) {
            for (int k = 0; k < n.length; k++) {
                if (fold(h[start + k]) != fold(n[k])) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** The number a string stands for, or null for positive infinity. */
    private static BigInteger numericValue(String s) {
        int end = 0;
        while (end < s.length() && s.charAt(end) >= '0' && s.charAt(end) <= '9') {
            end++;
        }
        return end == 0 ? null : new BigInteger(s.substring(0, end));
    }
}

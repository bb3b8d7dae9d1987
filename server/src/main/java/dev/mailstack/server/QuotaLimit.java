package dev.mailstack.server;

import java.util.Locale;
import java.util.OptionalLong;

/**
 * A storage limit as an administrator types it: bytes, or with K, M, G or T (powers of 1024, as
 * Dovecot's quota rules read them), or "none". Clients see it over IMAP (RFC 9208 QUOTA).
 */
record QuotaLimit(OptionalLong bytes) {
    static final String FORMS = "bytes, or a number with K, M, G or T (1024-based; e.g. 500M, 2G), or none";

    static QuotaLimit parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.equals("NONE")) {
            return new QuotaLimit(OptionalLong.empty());
        }
        if (t.endsWith("B") && t.length() > 1 && "KMGT".indexOf(t.charAt(t.length() - 2)) >= 0) {
            t = t.substring(0, t.length() - 1); // 500MB reads as 500M
        }
        int shift = t.isEmpty() ? 0 : switch (t.charAt(t.length() - 1)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            case 'T' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("not a quota: \"" + text + "\" (" + FORMS + ")");
        }
        long n = Long.parseLong(digits);
        if (n > Long.MAX_VALUE >> shift) {
            throw new IllegalArgumentException("quota too large: " + text);
        }
        return new QuotaLimit(OptionalLong.of(n << shift));
    }

    @Override
    public String toString() {
        if (bytes.isEmpty()) {
            return "none";
        }
        String shown = exact(bytes.getAsLong());
        return Character.isDigit(shown.charAt(shown.length() - 1)) ? shown + " bytes" : shown;
    }

    /** A limit as user quota takes it back: the largest of T, G, M, K that divides it exactly (2G), else bytes. */
    static String exact(long bytes) {
        for (int shift = 40; shift >= 10; shift -= 10) {
            if (bytes > 0 && bytes % (1L << shift) == 0) {
                return (bytes >> shift) + "KMGT".substring(shift / 10 - 1, shift / 10);
            }
        }
        return Long.toString(bytes);
    }

    /** A size to read, not to type back: 1.5M, 23M, 900K, 512 (bytes), with the same 1024-based letters. */
    static String approximate(long bytes) {
        if (bytes < 1024) {
            return Long.toString(bytes);
        }
        int shift = 10;
        while (shift < 40 && bytes >= 1L << (shift + 10)) {
            shift += 10;
        }
        double n = (double) bytes / (1L << shift);
        String unit = "KMGT".substring(shift / 10 - 1, shift / 10);
        return (n < 10 ? String.format(Locale.ROOT, "%.1f", n) : Long.toString(Math.round(n))) + unit;
    }
}

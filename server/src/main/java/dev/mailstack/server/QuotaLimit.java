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
        return bytes.isPresent() ? bytes.getAsLong() + " bytes" : "none";
    }
}

package dev.mailstack.imapd;

import java.text.Normalizer;

/**
 * The i;unicode-casemap collation (RFC 5051), which RFC 5256 §7 requires for SORT and THREAD
 * (I18NLEVEL=1 of RFC 5255): each character to its simple titlecase, the result canonically
 * decomposed, then keys compared code point by code point (the order of their UTF-8 octets).
 * So "re" and "RE" are one key, "Zoë" written precomposed or with a combining diaeresis too.
 */
final class UnicodeCasemap {
    /**
     * Keys are cut to this many UTF-16 units: a sort holds one key per message and criterion, and
     * a header may be up to a MiB long. Two keys alike this far count as equal (the next
     * criterion or the sequence number decides), which real subjects and addresses never meet;
     * THREAD, which groups by subject, also compares a digest of the whole key.
     */
    static final int MAX_KEY_CHARS = 256;

    private UnicodeCasemap() {
    }

    static String key(String text) {
        return key(text, MAX_KEY_CHARS);
    }

    /** The key cut to {@code maxChars}; THREAD digests the whole key ({@code Integer.MAX_VALUE}) beside the cut one. */
    static String key(String text, int maxChars) {
        if (text == null || text.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(Math.min(text.length(), maxChars) + 8);
        for (int i = 0; i < text.length() && sb.length() < maxChars; ) {
            int cp = text.codePointAt(i);
            sb.appendCodePoint(Character.toTitleCase(cp));
            i += Character.charCount(cp);
        }
        String titled = sb.toString();
        String key = Normalizer.isNormalized(titled, Normalizer.Form.NFD) ? titled
                : Normalizer.normalize(titled, Normalizer.Form.NFD);
        if (key.length() > maxChars) {
            int cut = maxChars;
            if (Character.isHighSurrogate(key.charAt(cut - 1))) {
                cut--;
            }
            key = key.substring(0, cut);
        }
        return key;
    }

    /** Code point order, which is UTF-8 octet order; String.compareTo would put U+E000..U+FFFF after supplementary characters. */
    static int compare(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                if (Character.isSurrogate(x) == Character.isSurrogate(y)) {
                    return x - y;
                }
                return Character.isSurrogate(x) ? 1 : -1;
            }
        }
        return a.length() - b.length();
    }
}

package dev.mailstack.imapd;

import java.io.ByteArrayOutputStream;
import java.util.List;

/** BODY[HEADER.FIELDS (...)] and .NOT (RFC 3501 §6.4.5): whole fields, folding kept, then a blank line. */
final class HeaderFields {
    private HeaderFields() {
    }

    static byte[] filter(byte[] header, List<String> names, boolean not) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(header.length, 4096));
        int i = 0;
        boolean keep = false;
        while (i < header.length) {
            int end = i;
            while (end < header.length && header[end] != '\n') {
                end++;
            }
            int next = Math.min(end + 1, header.length);
            boolean blank = end - i == 0 || (end - i == 1 && header[i] == '\r');
            if (blank) {
                break;
            }
            if (header[i] != ' ' && header[i] != '\t') {
                int colon = i;
                while (colon < end && header[colon] != ':') {
                    colon++;
                }
                keep = named(header, i, colon, names) != not && colon < end;
            }
            if (keep) {
                out.write(header, i, next - i);
            }
            i = next;
        }
        out.write('\r');
        out.write('\n');
        return out.toByteArray();
    }

    /**
     * Whether the field name in {@code header[from, to)}, blanks around it ignored, is one of the
     * upper-case {@code names}; compared in place, since a header sync asks this of every line
     * of every message.
     */
    private static boolean named(byte[] header, int from, int to, List<String> names) {
        while (from < to && (header[from] == ' ' || header[from] == '\t')) {
            from++;
        }
        while (to > from && (header[to - 1] == ' ' || header[to - 1] == '\t')) {
            to--;
        }
        for (String name : names) {
            if (name.length() == to - from && sameLetters(header, from, name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameLetters(byte[] header, int from, String upper) {
        for (int k = 0; k < upper.length(); k++) {
            int b = header[from + k] & 0xff;
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            }
            if (b != upper.charAt(k)) {
                return false;
            }
        }
        return true;
    }
}

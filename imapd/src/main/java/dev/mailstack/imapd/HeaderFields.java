package dev.mailstack.imapd;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

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
                String name = new String(header, i, colon - i, StandardCharsets.ISO_8859_1).strip().toUpperCase(Locale.ROOT);
                keep = names.contains(name) != not && colon < end;
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
}

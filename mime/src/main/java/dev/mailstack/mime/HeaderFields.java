package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A message's header fields as written, read up to the blank line: what DKIM hashes (signing and
 * verifying alike), and what the inbound checks, vacation replies and Sieve look up by name.
 */
public final class HeaderFields {
    private HeaderFields() {
    }

    /** A header that does not end within the limit. */
    public static final class TooLong extends IOException {
        TooLong(String message) {
            super(message);
        }
    }

    /**
     * The header's fields as written (folding kept, CRLF dropped), as ISO-8859-1 so 8-bit octets
     * stay as they are; {@code in} is left at the first octet of the body. A header longer than
     * {@code maxBytes} gives {@link TooLong}.
     */
    public static List<String> read(InputStream in, int maxBytes) throws IOException {
        List<String> fields = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        StringBuilder field = null;
        long read = 0;
        for (int b; ; ) {
            b = in.read();
            if (b < 0 && line.size() == 0) {
                break;
            }
            if (++read > maxBytes) {
                throw new TooLong("header over " + maxBytes + " bytes");
            }
            if (b >= 0 && b != '\n') {
                line.write(b);
                continue;
            }
            String text = line.toString(StandardCharsets.ISO_8859_1);
            line.reset();
            if (text.endsWith("\r")) {
                text = text.substring(0, text.length() - 1);
            }
            if (text.isEmpty()) {
                break; // the blank line: the body follows
            }
            if ((text.charAt(0) == ' ' || text.charAt(0) == '\t') && field != null) {
                field.append("\r\n").append(text);
            } else {
                if (field != null) {
                    fields.add(field.toString());
                }
                field = text.indexOf(':') > 0 ? new StringBuilder(text) : null; // not a field: never signed
            }
            if (b < 0) {
                break;
            }
        }
        if (field != null) {
            fields.add(field.toString());
        }
        return fields;
    }

    /**
     * The field's name in lower case, without the white space RFC 5322 §4.5.3's obsolete syntax
     * allows before the colon: as DKIM's h= lists compare it (RFC 6376 §3.5), and as every lookup by
     * name does.
     */
    public static String name(String field) {
        return field.substring(0, field.indexOf(':')).strip().toLowerCase(Locale.ROOT);
    }
}

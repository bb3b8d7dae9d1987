package dev.mailstack.mime;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * Adds a field at the top of a message's header, where trace fields go (RFC 5322 §3.6.7), after
 * a leading Return-Path, which stays first (RFC 5321 §4.4); all else is copied byte for byte, but
 * for the header fields {@code drop} names (RFC 8601 §5: Authentication-Results that claim to be ours).
 */
public final class TraceField {
    /** A field longer than this is copied without being offered to {@code drop}. */
    private static final int MAX_FIELD = 64 * 1024;

    private TraceField() {
    }

    /**
     * @param field the complete field with its CRLF
     * @param drop  given each header field (folding kept, CRLFs included, as ISO-8859-1), says whether to leave it out
     */
    public static void write(InputStream message, String field, Predicate<String> drop, OutputStream out) throws IOException {
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        ByteArrayOutputStream current = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        boolean first = true;
        boolean written = false;
        while (true) {
            line.reset();
            int b;
            while ((b = in.read()) >= 0) {
                line.write(b);
                if (b == '\n' || line.size() > MAX_FIELD) {
                    break;
                }
            }
            boolean continuation = line.size() > 0 && (line.toByteArray()[0] == ' ' || line.toByteArray()[0] == '\t');
            if (continuation && current.size() > 0 && current.size() <= MAX_FIELD) {
                line.writeTo(current);
                continue;
            }
            // the field so far is complete: the first one (a Return-Path) goes before ours
            if (current.size() > 0) {
                String text = current.toString(StandardCharsets.ISO_8859_1);
                if (first && text.regionMatches(true, 0, "Return-Path:", 0, 12)) {
                    current.writeTo(out);
                } else {
                    if (!written) {
                        out.write(field.getBytes(StandardCharsets.UTF_8));
                        written = true;
                    }
                    if (current.size() > MAX_FIELD || !drop.test(text)) {
                        current.writeTo(out);
                    }
                }
                first = false;
                current.reset();
            }
            boolean endOfHeader = line.size() == 0 || isBlank(line.toByteArray()) || line.size() > MAX_FIELD
                    || continuation;
            if (endOfHeader) {
                if (!written) {
                    out.write(field.getBytes(StandardCharsets.UTF_8));
                }
                line.writeTo(out);
                in.transferTo(out);
                return;
            }
            line.writeTo(current);
        }
    }

    private static boolean isBlank(byte[] line) {
        return line.length == 1 && line[0] == '\n' || line.length == 2 && line[0] == '\r' && line[1] == '\n';
    }
}

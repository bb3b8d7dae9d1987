package dev.mailstack.mime;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Adds a field at the top of a message's header, where trace fields go (RFC 5322 §3.6.7), after
 * a leading Return-Path line, which stays first (RFC 5321 §4.4); all else is copied byte for byte.
 */
public final class TraceField {
    private static final byte[] RETURN_PATH = "return-path:".getBytes(StandardCharsets.US_ASCII);
    /**
     * Received fields past which a message is taken to be going round in a loop: RFC 5321 §6.3
     * asks for a large threshold, "normally at least 100 Received entries".
     */
    public static final int MAX_HOPS = 100;

    private TraceField() {
    }

    /** {@code field}: the complete field with its CRLF. */
    public static void write(InputStream message, String field, OutputStream out) throws IOException {
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        in.mark(RETURN_PATH.length);
        byte[] head = in.readNBytes(RETURN_PATH.length);
        in.reset();
        if (new String(head, StandardCharsets.US_ASCII).equalsIgnoreCase("Return-Path:")) {
            for (int b; (b = in.read()) >= 0; ) {
                out.write(b);
                if (b == '\n') {
                    break;
                }
            }
        }
        out.write(field.getBytes(StandardCharsets.UTF_8));
        in.transferTo(out);
    }
}

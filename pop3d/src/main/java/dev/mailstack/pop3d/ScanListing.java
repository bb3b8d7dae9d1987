package dev.mailstack.pop3d;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A multi-line LIST or UIDL reply (RFC 1939 §7): the status line, one scan line "n value" per
 * message not marked deleted, then ".". A maildrop of 10,000 messages makes about 200 KB of it,
 * so the lines are put together as ASCII digits in one buffer and handed to the connection in
 * large pieces: no String, formatter or charset encoder per line (issue 6: UIDL of 10,000 at
 * least as fast as Dovecot's).
 */
final class ScanListing {
    /** Longer than any one line: a status line is a short reply; a scan line at most ~50 bytes. */
    private static final int LINE_ROOM = 512;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;
    private final byte[] buffer;
    private int length;

    ScanListing(OutputStream out, int chunkSize) {
        this.out = out;
        this.buffer = new byte[Math.max(chunkSize, 2 * LINE_ROOM)];
    }

    /** Starts the reply with its status line. */
    ScanListing status(Pop3Reply first) throws IOException {
        room();
        ascii(first.line());
        crlf();
        return this;
    }

    /** A LIST line: message number and size in octets. */
    void size(int number, long octets) throws IOException {
        room();
        decimal(number);
        buffer[length++] = ' ';
        decimal(octets);
        crlf();
    }

    /**
     * A UIDL line: message number, then {@code prefix} (the same for every message of the
     * maildrop) and the UID in lower-case hex, as {@link Maildrop#uniqueId} spells it.
     */
    void uniqueId(int number, byte[] prefix, long uid) throws IOException {
        room();
        decimal(number);
        buffer[length++] = ' ';
        System.arraycopy(prefix, 0, buffer, length, prefix.length);
        length += prefix.length;
        hex(uid);
        crlf();
    }

    /** Ends the reply with the "." line and writes what is left; the caller flushes. */
    void finish() throws IOException {
        room();
        buffer[length++] = '.';
        crlf();
        out.write(buffer, 0, length);
        length = 0;
    }

    /** Hands the buffer over when a line might not fit. */
    private void room() throws IOException {
        if (length > buffer.length - LINE_ROOM) {
            out.write(buffer, 0, length);
            length = 0;
        }
    }

    private void ascii(String s) {
        // status lines are ours and ASCII; the UTF-8 bytes of anything else would not fit LINE_ROOM
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > LINE_ROOM - 2) {
            throw new IllegalArgumentException("status line too long: " + s);
        }
        System.arraycopy(b, 0, buffer, length, b.length);
        length += b.length;
    }

    private void decimal(long v) {
        if (v < 0) {
            throw new IllegalArgumentException("negative: " + v);
        }
        int digits = 1;
        for (long rest = v / 10; rest > 0; rest /= 10) {
            digits++;
        }
        for (int i = length + digits - 1; i >= length; i--) {
            buffer[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        length += digits;
    }

    private void hex(long v) {
        int digits = Math.max(1, (64 - Long.numberOfLeadingZeros(v) + 3) / 4);
        for (int i = length + digits - 1; i >= length; i--) {
            buffer[i] = HEX[(int) (v & 0xf)];
            v >>>= 4;
        }
        length += digits;
    }

    private void crlf() {
        buffer[length++] = '\r';
        buffer[length++] = '\n';
    }
}

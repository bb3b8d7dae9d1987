package dev.mailstack.mta.smtp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The message as it arrives (DATA lines or BDAT chunks), on its way to the spool:
 * <ul>
 *   <li>bare LF and bare CR become CRLF, and are noted (RFC 5321 §2.3.8; SMTP smuggling);</li>
 *   <li>headers listed in {@code addIfMissing} (Date, Message-ID on submission, RFC 6409 §8) are
 *       added at the end of the header when absent; text that starts without a header gets a blank
 *       line first, so it is all body;</li>
 *   <li>octets past {@code maxBytes} are counted and dropped (the session replies 552 at the end);</li>
 *   <li>8-bit octets are noted, for BODY=8BITMIME checks and downgrades;</li>
 *   <li>header fields {@code forged} names are left out: Authentication-Results in this server's
 *       name, which only its own checks may write (RFC 8601 §5), whoever the client is.</li>
 * </ul>
 */
final class IncomingMessage extends OutputStream {
    private static final int MAX_HEADER_LINE = 64 * 1024;
    /** Past this much, a held field is dropped unread. */
    private static final int MAX_HELD = 64 * 1024;
    private static final byte[] HELD_NAME = "authentication-results".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream spool;
    private final long maxBytes;
    private final Map<String, String> missing;
    private long size;
    private boolean overflow;
    private boolean bareNewline;
    private boolean eightBit;
    private boolean pendingCr;
    private boolean inHeader = true;
    private byte[] line = new byte[256];
    private int lineLength;
    private final Predicate<String> forged;
    /** An Authentication-Results field being read, held back until it is known whether it is forged. */
    private ByteArrayOutputStream held;
    /** The continuation lines of a field found forged are left out too. */
    private boolean dropping;
    /** Received fields the client sent: hops already taken (RFC 5321 §6.3). */
    private int received;

    /**
     * {@code addIfMissing}: lower-case header name to the complete header line (without CRLF);
     * {@code forged}: given an Authentication-Results field (ISO-8859-1, folding kept), whether to leave it out.
     */
    IncomingMessage(OutputStream spool, long maxBytes, Map<String, String> addIfMissing, Predicate<String> forged) {
        this.spool = spool;
        this.maxBytes = maxBytes;
        this.missing = new LinkedHashMap<>(addIfMissing);
        this.forged = forged;
    }

    @Override
    public void write(int b) throws IOException {
        accept((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int i = off;
        int end = off + len;
        while (i < end) {
            if (inHeader || pendingCr) {
                accept(b[i++]);
                continue;
            }
            // Body fast path: copy runs without CR or LF in one go.
            int start = i;
            while (i < end && b[i] != '\r' && b[i] != '\n') {
                if (b[i] < 0) {
                    eightBit = true;
                }
                i++;
            }
            if (i > start) {
                emit(b, start, i - start);
            }
            if (i == end) {
                break;
            }
            if (b[i] == '\r' && i + 1 < end && b[i + 1] == '\n') {
                emit(CRLF, 0, 2);
                i += 2;
                continue;
            }
            accept(b[i++]);
        }
    }

    private void accept(byte b) throws IOException {
        if (pendingCr) {
            pendingCr = false;
            if (b == '\n') {
                lineEnd();
                return;
            }
            bareNewline = true; // a CR not followed by LF
            lineEnd();
        }
        if (b == '\r') {
            pendingCr = true;
            return;
        }
        if (b == '\n') {
            bareNewline = true;
            lineEnd();
            return;
        }
        if (b < 0) {
            eightBit = true;
        }
        if (inHeader) {
            if (lineLength == line.length) {
                if (line.length >= MAX_HEADER_LINE) {
                    // no header line is this long: it and what follows are body, after the blank
                    // line that makes them so (else the next reader would take it for a field)
                    endHeader(false);
                    emit(CRLF, 0, 2);
                    emit(line, 0, lineLength);
                    lineLength = 0;
                    emit(new byte[]{b}, 0, 1);
                    return;
                }
                line = Arrays.copyOf(line, line.length * 2);
            }
            line[lineLength++] = b;
        } else {
            emit(new byte[]{b}, 0, 1);
        }
    }

    private static final byte[] CRLF = {'\r', '\n'};

    private void lineEnd() throws IOException {
        if (!inHeader) {
            emit(CRLF, 0, 2);
            return;
        }
        if (lineLength == 0) {
            endHeader(true);
            emit(CRLF, 0, 2);
            return;
        }
        if (!looksLikeHeader()) {
            endHeader(false);
            emit(CRLF, 0, 2); // the blank line that makes what follows body
        } else if (line[0] == ' ' || line[0] == '\t') {
            if (held != null || dropping) {
                hold();
                return;
            }
        } else {
            release();
            dropping = false; // a new field: whatever was dropped ended with the last one
            if (startsWithName(HELD_NAME)) {
                held = new ByteArrayOutputStream();
                hold();
                return;
            }
            noteHeader();
        }
        emit(line, 0, lineLength);
        emit(CRLF, 0, 2);
        lineLength = 0;
    }

    /**
     * Adds the line to the held field (or drops it, after a forged one). A field past {@link
     * #MAX_HELD} is dropped whatever it says: a comment could hide whose it is past what we read,
     * and no real one is that long.
     */
    private void hold() {
        if (held != null) {
            held.write(line, 0, lineLength);
            held.write(CRLF, 0, 2);
            if (held.size() > MAX_HELD) {
                held = null;
                dropping = true;
            }
        }
        lineLength = 0;
    }

    /** Ends the held field: left out when forged (and its further continuation lines with it), else written. */
    private void release() throws IOException {
        if (held == null) {
            return;
        }
        byte[] field = held.toByteArray();
        held = null;
        dropping = forged.test(new String(field, StandardCharsets.ISO_8859_1));
        if (!dropping) {
            emit(field, 0, field.length);
        }
    }

    /** Whether the line is a field of this (lower-case) name: the name, optional spaces, a colon. */
    private boolean startsWithName(byte[] name) {
        if (lineLength <= name.length) {
            return false;
        }
        for (int i = 0; i < name.length; i++) {
            if (Character.toLowerCase(line[i]) != name[i]) {
                return false;
            }
        }
        int i = name.length;
        while (i < lineLength && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        return i < lineLength && line[i] == ':';
    }

    private boolean looksLikeHeader() {
        if (line[0] == ' ' || line[0] == '\t') {
            return true; // folded continuation
        }
        for (int i = 0; i < lineLength; i++) {
            byte c = line[i];
            if (c == ':') {
                return i > 0;
            }
            if (c <= ' ' || c >= 127) {
                return false;
            }
        }
        return false;
    }

    private void noteHeader() {
        int colon = 0;
        while (colon < lineLength && line[colon] != ':') {
            colon++;
        }
        if (colon < lineLength) {
            String name = new String(line, 0, colon, StandardCharsets.US_ASCII).strip().toLowerCase(Locale.ROOT);
            missing.remove(name);
            if (name.equals("received")) {
                received++;
            }
        }
    }

    /** Leaves the header: adds the missing fields; the caller writes the separating CRLF. */
    private void endHeader(boolean blankLineFollows) throws IOException {
        release();
        dropping = false;
        inHeader = false;
        for (String header : missing.values()) {
            byte[] h = header.getBytes(StandardCharsets.UTF_8);
            emit(h, 0, h.length);
            emit(CRLF, 0, 2);
        }
        missing.clear();
    }

    private void emit(byte[] b, int off, int len) throws IOException {
        size += len;
        if (size > maxBytes) {
            overflow = true;
            return;
        }
        spool.write(b, off, len);
    }

    /** Ends the message: a header-only message gets its missing fields too. */
    void finish() throws IOException {
        if (pendingCr) {
            pendingCr = false;
            bareNewline = true;
            lineEnd();
        }
        if (inHeader) {
            if (lineLength > 0) {
                if (looksLikeHeader()) {
                    lineEnd();
                } else {
                    endHeader(false);
                    emit(CRLF, 0, 2);
                    emit(line, 0, lineLength);
                }
                lineLength = 0;
            }
            if (inHeader) {
                endHeader(false);
            }
        }
    }

    long size() {
        return size;
    }

    /** How many Received fields the client's header holds. */
    int receivedFields() {
        return received;
    }

    boolean overflow() {
        return overflow;
    }

    boolean sawBareNewline() {
        return bareNewline;
    }

    boolean eightBit() {
        return eightBit;
    }
}

package dev.mailstack.net;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Buffered reading of a connection: command lines with a length limit (CRLF or bare LF, for
 * telnet and netcat users), raw lines that report their terminator (for SMTP DATA, where a bare
 * LF must not end the message), and exact byte counts (IMAP literals, BDAT chunks).
 */
public final class LineReader {
    /** How a raw line ended. */
    public enum Ending { CRLF, LF, NONE }

    /** A raw line: {@code bytes[0..length)} without its terminator. */
    public record RawLine(byte[] bytes, int length, Ending ending) {
        public boolean is(String ascii) {
            return length == ascii.length() && new String(bytes, 0, length, StandardCharsets.ISO_8859_1).equals(ascii);
        }
    }

    /** How much of the end of a dropped over-long line {@link LineTooLongException#tail()} keeps. */
    public static final int TAIL_BYTES = 64;

    private final InputStream in;
    private final int maxLineBytes;
    private final byte[] buffer = new byte[16 * 1024];
    private int pos;
    private int limit;
    private Ending lastEnding = Ending.CRLF;
    private boolean lastLineUtf8 = true;

    public LineReader(InputStream in, int maxLineBytes) {
        this.in = in;
        this.maxLineBytes = maxLineBytes;
    }

    /**
     * A command line decoded as UTF-8 (ASCII commands read the same), without its terminator.
     * Null at end of stream. Over the limit, the line is consumed and LineTooLongException thrown.
     */
    public String readLine() throws IOException {
        RawLine line = readRaw(maxLineBytes, true);
        if (line == null) {
            return null;
        }
        lastEnding = line.ending();
        int len = line.length();
        if (line.ending() == Ending.LF && len > 0 && line.bytes()[len - 1] == '\r') {
            len--;
        }
        String text = new String(line.bytes(), 0, len, StandardCharsets.UTF_8);
        // the decoding above puts U+FFFD for what is not UTF-8; only then is a strict look needed
        lastLineUtf8 = text.indexOf('\uFFFD') < 0 || isUtf8(line.bytes(), len);
        return text;
    }

    /**
     * Whether the last command line from {@link #readLine()} was UTF-8. Its text has U+FFFD where it
     * was not, which would otherwise pass unseen into a name (a script, a mailbox) that the client
     * never sent; a protocol whose strings must be UTF-8 refuses such a line instead.
     */
    public boolean lastLineUtf8() {
        return lastLineUtf8;
    }

    private static boolean isUtf8(byte[] bytes, int length) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, length));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    /**
     * A line of message data, up to {@code max} bytes before its terminator. A CR not followed by
     * LF stays in the line's bytes; the caller decides what bare CR and LF mean. Null at end of
     * stream; the last line of a stream may end with {@link Ending#NONE}.
     */
    public RawLine readRawLine(int max) throws IOException {
        return readRaw(max, false);
    }

    private RawLine readRaw(int max, boolean strict) throws IOException {
        byte[] out = new byte[Math.min(256, max + 2)];
        int n = 0;
        boolean tooLong = false;
        byte[] tail = null; // once too long: the line's last TAIL_BYTES bytes, a ring written at tailCount
        long tailCount = 0;
        while (true) {
            if (pos == limit && !fill()) {
                if (n == 0 && !tooLong) {
                    return null;
                }
                if (tooLong) {
                    throw new LineTooLongException(max, tailText(tail, tailCount), Ending.NONE);
                }
                return new RawLine(out, n, Ending.NONE);
            }
            byte b = buffer[pos++];
            if (b == '\n') {
                if (tooLong) {
                    boolean crlf = tail[(int) ((tailCount - 1) % TAIL_BYTES)] == '\r';
                    throw new LineTooLongException(max, tailText(tail, tailCount), crlf ? Ending.CRLF : Ending.LF);
                }
                if (n > 0 && out[n - 1] == '\r') {
                    return new RawLine(out, n - 1, Ending.CRLF);
                }
                return new RawLine(out, n, Ending.LF);
            }
            if (tooLong) {
                tail[(int) (tailCount++ % TAIL_BYTES)] = b;
                continue;
            }
            if (n >= max + 1) {
                // keep one byte of room for a CR that may precede the LF
                tooLong = true;
                tail = new byte[TAIL_BYTES];
                for (int i = Math.max(0, n - TAIL_BYTES); i < n; i++) {
                    tail[(int) (tailCount++ % TAIL_BYTES)] = out[i];
                }
                tail[(int) (tailCount++ % TAIL_BYTES)] = b;
                continue;
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, Math.min(out.length * 2, max + 2));
            }
            out[n++] = b;
        }
    }

    private static String tailText(byte[] ring, long count) {
        int len = (int) Math.min(count, TAIL_BYTES);
        byte[] ordered = new byte[len];
        for (int i = 0; i < len; i++) {
            ordered[i] = ring[(int) ((count - len + i) % TAIL_BYTES)];
        }
        if (len > 0 && ordered[len - 1] == '\r') {
            len--;
        }
        return new String(ordered, 0, len, StandardCharsets.ISO_8859_1);
    }

    /** How the last command line from {@link #readLine()} ended: bare LF marks a netcat-style client. */
    public Ending lastEnding() {
        return lastEnding;
    }

    /** Reads exactly {@code count} bytes into {@code out}; EOFException if the stream ends first. */
    public void readExactly(long count, OutputStream out) throws IOException {
        long left = count;
        while (left > 0) {
            if (pos == limit && !fill()) {
                throw new EOFException("connection closed with " + left + " of " + count + " bytes unread");
            }
            int n = (int) Math.min(left, limit - pos);
            out.write(buffer, pos, n);
            pos += n;
            left -= n;
        }
    }

    /** Reads and drops {@code count} bytes. */
    public void skip(long count) throws IOException {
        readExactly(count, OutputStream.nullOutputStream());
    }

    /** Drops what was read ahead but not consumed, returning how much (CVE-2011-0411, before a TLS upgrade). */
    public int discardBuffered() {
        int n = limit - pos;
        pos = limit;
        return n;
    }

    /** Hands over what was read ahead, for a layer that takes over the stream (COMPRESS). */
    public byte[] takeBuffered() {
        byte[] rest = Arrays.copyOfRange(buffer, pos, limit);
        pos = limit;
        return rest;
    }

    /**
     * Whether a whole next line is already read ahead: a pipelining client's next command. Replies
     * may then wait for it (RFC 2920 §3.1); a partial line says nothing, the client may be waiting.
     */
    public boolean hasBufferedLine() {
        for (int i = pos; i < limit; i++) {
            if (buffer[i] == '\n') {
                return true;
            }
        }
        return false;
    }

    private boolean fill() throws IOException {
        int n = in.read(buffer, 0, buffer.length);
        if (n <= 0) {
            return false;
        }
        pos = 0;
        limit = n;
        return true;
    }
}

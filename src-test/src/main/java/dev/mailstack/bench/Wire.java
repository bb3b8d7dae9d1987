package dev.mailstack.bench;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A plain-socket protocol client: lines out, lines and literals in. Shares nothing with the server.
 * It reads from its own buffer, a line found by scanning it, so that the client is not what a
 * benchmark of a fast server measures (reading byte by byte through a stream capped POP3 RETR at
 * about 5,000 messages/s for any server).
 */
final class Wire implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf = new byte[256 * 1024];
    private int pos;
    private int lim;
    long bytesRead;

    Wire(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(120_000);
        in = socket.getInputStream();
        out = new BufferedOutputStream(socket.getOutputStream(), 256 * 1024);
    }

    void send(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
    }

    void flush() throws IOException {
        out.flush();
    }

    String line() throws IOException {
        int end = lineEnd();
        if (end >= 0) {
            String l = text(buf, pos, end);
            consume(end + 1);
            return l;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream(Math.max(128, 2 * (lim - pos)));
        while (true) {
            b.write(buf, pos, lim - pos);
            bytesRead += lim - pos;
            pos = lim;
            if (!fill()) {
                if (b.size() == 0) {
                    throw new IOException("connection closed");
                }
                byte[] bytes = b.toByteArray();
                return text(bytes, 0, bytes.length);
            }
            end = lineEnd();
            if (end >= 0) {
                b.write(buf, pos, end - pos);
                consume(end + 1);
                byte[] bytes = b.toByteArray();
                return text(bytes, 0, bytes.length);
            }
        }
    }

    void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            if (pos == lim && !fill()) {
                throw new IOException("connection closed in a literal");
            }
            int k = (int) Math.min(left, lim - pos);
            pos += k;
            left -= k;
        }
        bytesRead += n;
    }

    /**
     * Reads an IMAP response up to the tagged line, skipping literal octets; returns the tagged line.
     * Untagged lines are looked at in the buffer, never made into Strings: a FETCH 1:* answer is
     * tens of thousands of lines, and decoding each one made the client, not the server, what
     * BODYSTRUCTURE and FLAGS of a big mailbox measured.
     */
    String imapUntil(String tag) throws IOException {
        byte[] tagged = (tag + " ").getBytes(StandardCharsets.US_ASCII);
        while (true) {
            int end = bufferedLineEnd();
            if (end < 0) { // a line longer than the buffer: rare enough to take as a String
                String l = line();
                int brace = l.endsWith("}") ? l.lastIndexOf('{') : -1;
                if (brace >= 0) {
                    skip(Long.parseLong(l.substring(brace + 1, l.length() - 1).replace("+", "")));
                } else if (l.startsWith(tag + " ")) {
                    return taggedOk(l);
                }
                continue;
            }
            int last = end > pos && buf[end - 1] == '\r' ? end - 1 : end;
            long literal = literalAt(pos, last);
            if (literal >= 0) {
                consume(end + 1);
                skip(literal);
            } else if (startsWith(tagged, pos, last)) {
                String l = text(buf, pos, end);
                consume(end + 1);
                return taggedOk(l);
            } else {
                consume(end + 1);
            }
        }
    }

    private static String taggedOk(String line) throws IOException {
        if (!line.substring(line.indexOf(' ') + 1).startsWith("OK")) {
            throw new IOException("IMAP error: " + line);
        }
        return line;
    }

    /** The octet count of a literal announced at the end of buf[from, to) ({n} or {n+}), or -1. */
    private long literalAt(int from, int to) {
        if (to <= from || buf[to - 1] != '}') {
            return -1;
        }
        long n = 0;
        int digits = 0;
        for (int i = to - 2; i >= from; i--) {
            byte b = buf[i];
            if (b == '{') {
                return digits > 0 ? n : -1;
            }
            if (b == '+' && i == to - 2) {
                continue;
            }
            if (b < '0' || b > '9' || digits == 18) {
                return -1;
            }
            n += (b - '0') * POWERS[digits++];
        }
        return -1;
    }

    private static final long[] POWERS = new long[18];

    static {
        POWERS[0] = 1;
        for (int i = 1; i < POWERS.length; i++) {
            POWERS[i] = POWERS[i - 1] * 10;
        }
    }

    private boolean startsWith(byte[] prefix, int from, int to) {
        if (to - from < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (buf[from + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** The index of the next '\n', reading more until the line is in the buffer; -1 if it cannot fit. */
    private int bufferedLineEnd() throws IOException {
        int scanned = 0;
        while (true) {
            for (int i = pos + scanned; i < lim; i++) {
                if (buf[i] == '\n') {
                    return i;
                }
            }
            scanned = lim - pos;
            if (pos == 0 && lim == buf.length) {
                return -1;
            }
            if (!fill()) {
                throw new IOException("connection closed in an IMAP response");
            }
        }
    }

    /** Reads a POP3/SMTP multi-line reply up to the final "." line; returns its octets, line ends included. */
    long dotted() throws IOException {
        long octets = 0;
        boolean lineStart = true;
        while (true) {
            if (pos == lim && !fill()) {
                throw new IOException("connection closed in a multi-line reply");
            }
            if (lineStart && lim - pos < 3 && buf[pos] == '.') {
                // a line starting with '.' is the end only if it is exactly ".\r\n": read enough to tell
                while (lim - pos < 3) {
                    if (!fill()) {
                        break;
                    }
                }
            }
            if (lineStart && lim - pos >= 3 && buf[pos] == '.' && buf[pos + 1] == '\r' && buf[pos + 2] == '\n') {
                consume(pos + 3);
                return octets;
            }
            int end = lineEnd();
            int stop = end >= 0 ? end + 1 : lim;
            octets += stop - pos;
            lineStart = end >= 0;
            consume(stop);
        }
    }

    /** The index of the next '\n' in the buffer, or -1. */
    private int lineEnd() {
        for (int i = pos; i < lim; i++) {
            if (buf[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void consume(int upTo) {
        bytesRead += upTo - pos;
        pos = upTo;
    }

    /** Reads more into the buffer; false at the end of the stream. */
    private boolean fill() throws IOException {
        compact();
        int n = in.read(buf, lim, buf.length - lim);
        if (n < 0) {
            return false;
        }
        lim += n;
        return true;
    }

    private void compact() {
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
    }

    private static String text(byte[] bytes, int from, int end) {
        int len = end > from && bytes[end - 1] == '\r' ? end - from - 1 : end - from;
        return new String(bytes, from, len, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

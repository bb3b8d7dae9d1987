package dev.mailstack.pop3d;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Copies a stored message (CRLF already) to the client as the body of a multi-line response
 * (RFC 1939 §3): a line starting with "." gets one more "."; the terminating ".CRLF" is added.
 * Bytes are streamed through one small buffer, never held whole (STYLE.md R7). With a line
 * limit it stops after the header, the blank line and that many body lines (TOP, RFC 1939 §7).
 * One instance per session, so its buffer is reused for every RETR and TOP.
 */
final class DotStuffer {
    static final long WHOLE_MESSAGE = -1;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] TERMINATOR = {'.', '\r', '\n'};
    private static final byte[] DOT = {'.'};

    private final byte[] buffer;

    DotStuffer(int bufferSize) {
        this.buffer = new byte[bufferSize];
    }

    /**
     * Sends {@code in} and the terminator; returns the message octets sent (before stuffing).
     *
     * @param bodyLines {@link #WHOLE_MESSAGE}, or how many body lines to send after the header
     */
    long copy(InputStream in, OutputStream out, long bodyLines) throws IOException {
        if (bodyLines == WHOLE_MESSAGE) {
            return copyWhole(in, out);
        }
        boolean lineStart = true;
        boolean lineHasText = false;
        boolean inBody = false;
        long bodyLinesSent = 0;
        int beforeLast = '\r';
        int last = '\n';
        long octets = 0;
        reading:
        for (int n; (n = in.read(buffer)) >= 0; ) {
            int from = 0; // start of the bytes not yet written
            for (int i = 0; i < n; i++) {
                byte b = buffer[i];
                if (lineStart) {
                    if (inBody && bodyLines != WHOLE_MESSAGE && bodyLinesSent >= bodyLines) {
                        out.write(buffer, from, i - from);
                        octets += i - from;
                        break reading;
                    }
                    if (b == '.') {
                        out.write(buffer, from, i - from);
                        octets += i - from;
                        out.write(DOT);
                        from = i; // the original dot follows with the rest of the line
                    }
                    lineStart = false;
                }
                if (b == '\n') {
                    if (inBody) {
                        bodyLinesSent++;
                    } else if (!lineHasText) {
                        inBody = true; // RFC 5322 §2.1: the first empty line ends the header
                    }
                    lineStart = true;
                    lineHasText = false;
                } else if (b != '\r') {
                    lineHasText = true;
                }
                beforeLast = last;
                last = b;
            }
            out.write(buffer, from, n - from);
            octets += n - from;
        }
        endLine(out, beforeLast, last);
        out.write(TERMINATOR);
        return octets;
    }

    /**
     * The terminator must start a line after a CRLF (RFC 1939 §3): a message (or a TOP cut) that
     * does not end in one, a bare LF included (damaged mail), gets one first, or a client looking
     * for CRLF.CRLF would wait for ever.
     */
    private static void endLine(OutputStream out, int beforeLast, int last) throws IOException {
        if (last != '\n' || beforeLast != '\r') {
            out.write(CRLF);
        }
    }

    /** RETR: only a line-feed followed by a dot needs attention, so that is all the loop looks for. */
    private long copyWhole(InputStream in, OutputStream out) throws IOException {
        boolean lineStart = true;
        int beforeLast = '\r';
        int last = '\n';
        long octets = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            if (n == 0) {
                continue;
            }
            int from = 0;
            if (lineStart && buffer[0] == '.') {
                out.write(DOT);
            }
            for (int i = 0; i < n - 1; i++) {
                if (buffer[i] == '\n' && buffer[i + 1] == '.') {
                    out.write(buffer, from, i + 1 - from);
                    out.write(DOT);
                    from = i + 1;
                }
            }
            out.write(buffer, from, n - from);
            octets += n;
            beforeLast = n >= 2 ? buffer[n - 2] : last;
            last = buffer[n - 1];
            lineStart = last == '\n';
        }
        endLine(out, beforeLast, last);
        out.write(TERMINATOR);
        return octets;
    }
}

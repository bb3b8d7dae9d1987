package dev.mailstack.mta.dkim;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Locale;

/**
 * DKIM's "relaxed" canonicalization (RFC 6376 §3.4.2 for header fields, §3.4.4 for the body): the
 * form that survives what relays commonly do to mail (refolding headers, trimming trailing spaces),
 * which is why it is the one to sign with.
 */
final class RelaxedCanonicalization {
    private RelaxedCanonicalization() {
    }

    /**
     * One header field as it was written (name, colon, value with any folding; its octets as
     * ISO-8859-1 chars, so 8-bit text hashes as it was written), in relaxed form: name in lower
     * case, unfolded, runs of whitespace as one space, none around the colon or at the end, then CRLF.
     */
    static String header(String field) {
        int colon = field.indexOf(':');
        String name = trim(field.substring(0, colon)).toLowerCase(Locale.ROOT);
        String value = trim(field.substring(colon + 1).replace("\r\n", "").replaceAll("[ \t]+", " "));
        return name + ":" + value + "\r\n";
    }

    /** Without the spaces and tabs at either end: only those are whitespace here (RFC 5234 WSP), not VT or FF. */
    static String trim(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && (s.charAt(start) == ' ' || s.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (s.charAt(end - 1) == ' ' || s.charAt(end - 1) == '\t')) {
            end--;
        }
        return s.substring(start, end);
    }

    /**
     * The body in relaxed form, written on as it streams by: whitespace at line ends dropped, runs
     * of it inside lines one space, empty lines at the end dropped, and a CRLF after a last line
     * that lacks one. Lines end at CRLF (the spool's form); a lone CR or LF is an ordinary octet.
     */
    static final class Body extends OutputStream {
        private static final byte[] CRLF = {'\r', '\n'};
        private final OutputStream out;
        private long emptyLines;
        private boolean space;
        private boolean lineHasText;
        private boolean pendingCr;

        Body(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            if (pendingCr) {
                pendingCr = false;
                if (b == '\n') {
                    endLine();
                    return;
                }
                text('\r');
            }
            if (b == '\r') {
                pendingCr = true;
            } else if (b == ' ' || b == '\t') {
                space = true;
            } else {
                text(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len; i++) {
                write(b[i]);
            }
        }

        private void text(int b) throws IOException {
            if (!lineHasText) {
                for (; emptyLines > 0; emptyLines--) {
                    out.write(CRLF);
                }
                lineHasText = true;
            }
            if (space) {
                out.write(' '); // leading whitespace too is one space (RFC 6376 §3.4.5: " C" stays)
            }
            space = false;
            out.write(b);
        }

        private void endLine() throws IOException {
            if (lineHasText) {
                out.write(CRLF);
            } else {
                emptyLines++; // written only if a line with text follows
            }
            lineHasText = false;
            space = false;
        }

        /** Ends the body: a last line without CRLF gets one (RFC 6376 §3.4.4 c). */
        @Override
        public void close() throws IOException {
            if (pendingCr) {
                pendingCr = false;
                text('\r');
            }
            if (lineHasText) {
                endLine();
            }
        }
    }
}

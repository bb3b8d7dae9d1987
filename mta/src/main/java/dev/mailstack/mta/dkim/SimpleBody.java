package dev.mailstack.mta.dkim;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The body in DKIM's "simple" form (RFC 6376 §3.4.3), written on as it streams by: unchanged,
 * except that empty lines at its end are dropped and it ends with one CRLF (an empty body is CRLF).
 */
final class SimpleBody extends OutputStream {
    private final OutputStream out;
    /** Line ends seen and not yet written: they are written only if text follows. */
    private long pendingLineEnds;
    private boolean pendingCr;

    SimpleBody(OutputStream out) {
        this.out = out;
    }

    @Override
    public void write(int b) throws IOException {
        if (pendingCr) {
            pendingCr = false;
            if (b == '\n') {
                pendingLineEnds++;
                return;
            }
            text('\r');
        }
        if (b == '\r') {
            pendingCr = true;
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
        for (; pendingLineEnds > 0; pendingLineEnds--) {
            out.write('\r');
            out.write('\n');
        }
        out.write(b);
    }

    @Override
    public void close() throws IOException {
        if (pendingCr) {
            pendingCr = false;
            text('\r');
        }
        // the last line's CRLF, or the one an empty body is (a line that lacks one gets it)
        out.write('\r');
        out.write('\n');
    }
}

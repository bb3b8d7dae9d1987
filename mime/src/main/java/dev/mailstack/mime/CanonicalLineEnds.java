package dev.mailstack.mime;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes text with every line ending as CRLF (RFC 5322 §2.1, RFC 3501 §2.3.1: mail is stored and
 * served that way): a bare LF or a bare CR becomes CRLF, a CRLF stays. For a client's APPEND, where
 * scripts often send LF only; POP3 and IMAP then serve CRLF and count the octets they send.
 */
public final class CanonicalLineEnds extends FilterOutputStream {
    private static final byte[] CRLF = {'\r', '\n'};
    private boolean pendingCr;
    private long changed;

    public CanonicalLineEnds(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int run = off; // start of bytes passed through unchanged
        int end = off + len;
        for (int i = off; i < end; i++) {
            byte c = b[i];
            if (pendingCr) {
                pendingCr = false;
                if (c == '\n') {
                    out.write(CRLF);
                    run = i + 1;
                    continue;
                }
                out.write(CRLF); // a CR on its own
                changed++;
            }
            if (c == '\r' || c == '\n') {
                out.write(b, run, i - run);
                run = i + 1;
                if (c == '\r') {
                    pendingCr = true;
                } else {
                    out.write(CRLF);
                    changed++;
                }
            }
        }
        out.write(b, run, end - run);
    }

    /** Ends the text: a CR left at the very end becomes CRLF. Call once, after the last write. */
    public void finish() throws IOException {
        if (pendingCr) {
            pendingCr = false;
            out.write(CRLF);
            changed++;
        }
    }

    /** How many bare CRs and LFs were made CRLF. */
    public long changed() {
        return changed;
    }

    @Override
    public void close() throws IOException {
        finish();
        super.close();
    }
}

package dev.mailstack.mime;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * RFC 6152 §3: a message with 8-bit content for a server without 8BITMIME. Each leaf part with
 * 8-bit octets is re-encoded as quoted-printable or base64, whichever comes out smaller (base64
 * for non-text, RFC 2045 §6.7 quoted-printable only suits mostly-ASCII text), with its
 * Content-Transfer-Encoding rewritten; 8-bit header text becomes RFC 2047 encoded-words; an
 * "8bit" or "binary" label on a part that is now 7-bit becomes "7bit"; everything else,
 * multipart structure included, is copied byte for byte, except that 8-bit octets in a preamble or
 * epilogue become '?' (RFC 2046 §5.1.1: readers ignore that text, and it has no charset to encode
 * it in). A part already labelled quoted-printable or base64 keeps its label: its stray 8-bit
 * octets are escaped (quoted-printable) or dropped (base64, where decoders ignore them). A message without 8-bit octets comes out identical. Streaming: memory does not grow with the message or part size (each 8-bit part is
 * read three times from the content source: check, measure, encode).
 */
public final class SevenBitDowngrade {
    private static final int BUFFER = 64 * 1024;

    private SevenBitDowngrade() {
    }

    public static void write(ContentSource content, MessageSummary summary, long size, OutputStream out)
            throws IOException {
        if (!eightBit(content, 0, size)) {
            try (InputStream in = content.open(0)) {
                copy(in, out, size);
            }
            return;
        }
        try (Copier c = new Copier(content, out)) {
            emit(summary.root(), c);
            c.copyTo(size);
        }
    }

    private static void emit(MessageSummary.Part p, Copier c) throws IOException {
        byte[] header = c.read(p.headerOffset(), p.headerSize());
        if (p.isMultipart() || p.isMessage()) {
            c.write(rewrite(header, p, null));
            if (p.isMultipart()) {
                for (MessageSummary.Part child : p.children()) {
                    c.copyTo(child.headerOffset());
                    emit(child, c);
                }
            } else {
                c.copyTo(p.bodyOffset());
                emit(p.embedded().root(), c);
            }
            return;
        }
        if (!eightBit(c.content, p.bodyOffset(), p.bodySize())) {
            c.write(rewrite(header, p, null));
            return; // the body is copied as it is by the next copyTo
        }
        String declared = p.encoding().toLowerCase(Locale.ROOT);
        if (declared.equals("quoted-printable") || declared.equals("base64")) {
            // Already encoded, yet with raw 8-bit octets (broken senders, common among Chinese
            // mailers): a second encoding would make readers, who decode once, see the first one
            // as text. The octets are repaired where they stand and the label kept.
            c.write(rewrite(header, p, null));
            try (InputStream in = new BufferedInputStream(c.content.open(p.bodyOffset()), BUFFER)) {
                copy(in, declared.equals("base64") ? new Base64Repair(c.out) : new QuotedPrintableRepair(c.out), p.bodySize());
            }
            c.skipTo(p.bodyOffset() + p.bodySize());
            return;
        }
        long base64 = base64Length(p.bodySize());
        boolean useQp = p.isText() && quotedPrintableLength(c.content, p.bodyOffset(), p.bodySize()) <= base64;
        String encoding = useQp ? "quoted-printable" : "base64";
        byte[] rewritten = rewrite(header, p, encoding);
        c.write(rewritten);
        if (!endsWithBlankLine(rewritten)) {
            c.write(new byte[]{'\r', '\n'}); // a part without a blank line after its header gets one now
        }
        try (InputStream in = new BufferedInputStream(c.content.open(p.bodyOffset()), BUFFER)) {
            if (useQp) {
                QuotedPrintable qp = new QuotedPrintable(c.out);
                copy(in, qp, p.bodySize());
                qp.finish();
            } else {
                OutputStream b64 = Base64.getMimeEncoder(76, new byte[]{'\r', '\n'}).wrap(new NonClosingOutputStream(c.out));
                copy(in, b64, p.bodySize());
                b64.close();
                if (p.bodySize() > 0) {
                    c.write(new byte[]{'\r', '\n'});
                }
            }
        }
        c.skipTo(p.bodyOffset() + p.bodySize());
    }

    /**
     * The part's header with 8-bit text as encoded-words, and its Content-Transfer-Encoding set to
     * {@code encoding}, or to 7bit where it said 8bit or binary; unchanged when neither applies.
     */
    private static byte[] rewrite(byte[] header, MessageSummary.Part p, String encoding) {
        String declared = p.encoding().toLowerCase(Locale.ROOT);
        String wanted = encoding != null ? encoding : declared.equals("8bit") || declared.equals("binary") ? "7bit" : null;
        if (wanted == null && !HeaderRewriter.hasEightBit(header, 0, header.length)) {
            return header;
        }
        return wanted == null
                ? HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, List.of(), List.of())
                : HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, List.of("Content-Transfer-Encoding: " + wanted),
                List.of("content-transfer-encoding:"));
    }

    private static boolean endsWithBlankLine(byte[] h) {
        int n = h.length;
        return n >= 2 && h[n - 1] == '\n' && (h[n - 2] == '\n' || n >= 3 && h[n - 2] == '\r' && h[n - 3] == '\n');
    }

    /** Quoted-printable of a whole (small) text, as {@link QuotedPrintable} writes it. */
    static byte[] quotedPrintable(byte[] text) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(text.length * 2);
        try {
            QuotedPrintable qp = new QuotedPrintable(out);
            qp.write(text);
            qp.finish();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("writing to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    static boolean eightBit(ContentSource content, long offset, long length) throws IOException {
        try (InputStream in = content.open(offset)) {
            byte[] buf = new byte[BUFFER];
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    return false;
                }
                for (int i = 0; i < n; i++) {
                    if (buf[i] < 0) {
                        return true;
                    }
                }
                left -= n;
            }
        }
        return false;
    }

    /** Base64 with 76-character lines, each ended by CRLF (RFC 2045 §6.8). */
    static long base64Length(long bytes) {
        long chars = (bytes + 2) / 3 * 4;
        return chars + (chars + 75) / 76 * 2;
    }

    static long quotedPrintableLength(ContentSource content, long offset, long length) throws IOException {
        long[] count = {0};
        OutputStream counter = new OutputStream() {
            @Override
            public void write(int b) {
                count[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                count[0] += len;
            }
        };
        try (InputStream in = new BufferedInputStream(content.open(offset), BUFFER)) {
            QuotedPrintable qp = new QuotedPrintable(counter);
            copy(in, qp, length);
            qp.finish();
        }
        return count[0];
    }

    private static void copy(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buf = new byte[BUFFER];
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                return;
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    /**
     * RFC 2045 §6.7 quoted-printable for text: CRLF (or a bare LF, text's line end in a message
     * typed on Unix) becomes a hard line break, other octets outside 33-126 and '=' are escaped,
     * a space or tab before a line end is escaped (rule 3), and lines are at most 76 characters
     * with soft breaks (rule 5).
     */
    static final class QuotedPrintable extends OutputStream {
        private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private final OutputStream out;
        private int column;
        private int pendingSpace = -1;
        private boolean pendingCr;

        QuotedPrintable(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int value) throws IOException {
            int b = value & 0xff;
            if (pendingCr) {
                pendingCr = false;
                if (b == '\n') {
                    lineEnd();
                    return;
                }
                space(false);
                escaped('\r');
            }
            if (b == '\r') {
                pendingCr = true;
            } else if (b == '\n') {
                lineEnd();
            } else {
                space(false);
                if (b == ' ' || b == '\t') {
                    pendingSpace = b;
                } else if (b >= 33 && b <= 126 && b != '=') {
                    token(b);
                } else {
                    escaped(b);
                }
            }
        }

        void finish() throws IOException {
            if (pendingCr) {
                pendingCr = false;
                space(false);
                escaped('\r');
            }
            space(true); // the end of the data is a line end
        }

        private void lineEnd() throws IOException {
            space(true);
            out.write('\r');
            out.write('\n');
            column = 0;
        }

        private void space(boolean atLineEnd) throws IOException {
            if (pendingSpace < 0) {
                return;
            }
            int s = pendingSpace;
            pendingSpace = -1;
            if (atLineEnd) {
                escaped(s);
            } else {
                token(s);
            }
        }

        private void token(int b) throws IOException {
            room(1);
            out.write(b);
            column++;
        }

        private void escaped(int b) throws IOException {
            room(3);
            out.write('=');
            out.write(HEX[b >> 4]);
            out.write(HEX[b & 0xf]);
            column += 3;
        }

        private void room(int n) throws IOException {
            if (column + n > 75) {
                out.write('=');
                out.write('\r');
                out.write('\n');
                column = 0;
            }
        }
    }

    /**
     * A body labelled quoted-printable with raw 8-bit octets in it: each such octet becomes its
     * =XX escape (RFC 2045 §6.7 rule 1, what the sender should have written), everything else is
     * kept, and a line the escapes make longer than 76 characters gets soft line breaks (rule 5),
     * never inside an escape the sender wrote.
     */
    static final class QuotedPrintableRepair extends OutputStream {
        private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        private final OutputStream out;
        private int column;
        private int escapeLeft;

        QuotedPrintableRepair(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int value) throws IOException {
            int b = value & 0xff;
            if (b == '\r' || b == '\n') {
                out.write(b);
                column = b == '\n' ? 0 : column;
                escapeLeft = 0;
                return;
            }
            boolean eightBit = b >= 0x80;
            if (escapeLeft == 0 && column + (eightBit || b == '=' ? 3 : 1) > 75) {
                out.write('=');
                out.write('\r');
                out.write('\n');
                column = 0;
            }
            if (eightBit) {
                out.write('=');
                out.write(HEX[b >> 4]);
                out.write(HEX[b & 0xf]);
                column += 3;
                escapeLeft = 0;
            } else {
                out.write(b);
                column++;
                escapeLeft = b == '=' ? 2 : Math.max(0, escapeLeft - 1);
            }
        }
    }

    /**
     * A body labelled base64 with raw 8-bit octets in it: those octets are outside the base64
     * alphabet, which decoders ignore (RFC 2045 §6.8), so they are dropped and the rest kept.
     */
    static final class Base64Repair extends OutputStream {
        private final OutputStream out;

        Base64Repair(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            if ((b & 0x80) == 0) {
                out.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int start = off;
            for (int i = off; i < off + len; i++) {
                if (b[i] < 0) {
                    out.write(b, start, i - start);
                    start = i + 1;
                }
            }
            out.write(b, start, off + len - start);
        }
    }

    /** Forward-only copying of the message, with separate reads of the parts being re-encoded. */
    private static final class Copier implements AutoCloseable {
        final ContentSource content;
        final OutputStream out;
        private final InputStream in;
        private long position;

        Copier(ContentSource content, OutputStream out) throws IOException {
            this.content = content;
            this.out = out;
            this.in = new BufferedInputStream(content.open(0), BUFFER);
        }

        /** Reads (and consumes) {@code length} bytes at {@code offset}, copying anything before it. */
        byte[] read(long offset, long length) throws IOException {
            copyTo(offset);
            byte[] b = in.readNBytes((int) Math.min(length, Integer.MAX_VALUE - 8));
            position += b.length;
            return b;
        }

        void write(byte[] b) throws IOException {
            out.write(b);
        }

        /**
         * Copies up to {@code offset}: delimiters, preambles, epilogues and bodies found 7-bit,
         * so any 8-bit octet here is in a preamble or an epilogue.
         */
        void copyTo(long offset) throws IOException {
            byte[] buf = new byte[BUFFER];
            while (position < offset) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, offset - position));
                if (n < 0) {
                    return;
                }
                for (int i = 0; i < n; i++) {
                    if (buf[i] < 0) {
                        buf[i] = '?';
                    }
                }
                out.write(buf, 0, n);
                position += n;
            }
        }

        void skipTo(long offset) throws IOException {
            while (position < offset) {
                long n = in.skip(offset - position);
                if (n <= 0) {
                    if (in.read() < 0) {
                        return;
                    }
                    n = 1;
                }
                position += n;
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}

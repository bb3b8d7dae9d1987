package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * RFC 6152 §3: a message with 8-bit content for a server without 8BITMIME. Each 8-bit leaf part
 * is re-encoded as quoted-printable or base64, whichever is smaller (base64 for non-text), with
 * its Content-Transfer-Encoding rewritten; 8-bit header text becomes encoded-words; everything
 * else, multipart structure included, is copied byte for byte. A 7-bit message comes out identical.
 */
public final class SevenBitDowngrade {
    private SevenBitDowngrade() {
    }

    public static void write(ContentSource content, MessageSummary summary, long size, OutputStream out)
            throws IOException {
        Copier c = new Copier(content, out);
        emit(summary.root(), c, true);
        c.copyTo(size);
    }

    private static void emit(MessageSummary.Part p, Copier c, boolean top) throws IOException {
        byte[] header = c.read(p.headerOffset(), p.headerSize());
        if (p.isMultipart()) {
            c.write(HeaderRewriter.hasEightBit(header, 0, header.length)
                    ? HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, List.of(), List.of()) : header);
            for (MessageSummary.Part child : p.children()) {
                c.copyTo(child.headerOffset());
                emit(child, c, false);
            }
            return;
        }
        if (p.isMessage()) {
            c.write(HeaderRewriter.hasEightBit(header, 0, header.length)
                    ? HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, List.of(), List.of()) : header);
            c.copyTo(p.bodyOffset());
            emit(p.embedded().root(), c, false);
            return;
        }
        byte[] body = c.peek(p.bodyOffset(), p.bodySize());
        boolean bodyEightBit = HeaderRewriter.hasEightBit(body, 0, body.length);
        if (!bodyEightBit) {
            c.write(HeaderRewriter.hasEightBit(header, 0, header.length)
                    ? HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, List.of(), List.of()) : header);
            return; // the body is copied as is by the next copyTo
        }
        byte[] qp = p.isText() ? quotedPrintable(body) : null;
        byte[] b64 = base64(body);
        boolean useQp = qp != null && qp.length <= b64.length;
        List<String> extra = List.of("Content-Transfer-Encoding: " + (useQp ? "quoted-printable" : "base64"));
        c.write(HeaderRewriter.rewrite(header, MailCharset.DEFAULT_FALLBACK, extra, List.of("content-transfer-encoding:")));
        if (p.headerSize() == 0 || header.length == 0 || header[header.length - 1] != '\n') {
            c.write(new byte[]{'\r', '\n'});
        }
        c.write(useQp ? qp : b64);
        c.skipTo(p.bodyOffset() + p.bodySize());
    }

    /** RFC 2045 §6.7 quoted-printable: lines of at most 76 characters, CRLF kept as line breaks. */
    static byte[] quotedPrintable(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length * 3 / 2);
        int column = 0;
        for (int i = 0; i < body.length; i++) {
            int b = body[i] & 0xff;
            if (b == '\r' && i + 1 < body.length && body[i + 1] == '\n') {
                out.write('\r');
                out.write('\n');
                i++;
                column = 0;
                continue;
            }
            boolean lineEndNext = i + 1 >= body.length || body[i + 1] == '\r';
            String enc;
            if ((b >= 33 && b <= 126 && b != '=') || ((b == ' ' || b == '\t') && !lineEndNext)) {
                enc = String.valueOf((char) b);
            } else {
                enc = String.format("=%02X", b);
            }
            if (column + enc.length() > 75) {
                out.write('=');
                out.write('\r');
                out.write('\n');
                column = 0;
            }
            out.writeBytes(enc.getBytes(StandardCharsets.US_ASCII));
            column += enc.length();
        }
        return out.toByteArray();
    }

    static byte[] base64(byte[] body) {
        byte[] enc = Base64.getMimeEncoder(76, new byte[]{'\r', '\n'}).encode(body);
        byte[] out = java.util.Arrays.copyOf(enc, enc.length + 2);
        out[enc.length] = '\r';
        out[enc.length + 1] = '\n';
        return out;
    }

    /** Forward-only copying from the content with random peeks for the parts being re-encoded. */
    private static final class Copier {
        private final ContentSource content;
        private final OutputStream out;
        private InputStream in;
        private long position;

        Copier(ContentSource content, OutputStream out) throws IOException {
            this.content = content;
            this.out = out;
            this.in = new java.io.BufferedInputStream(content.open(0), 64 * 1024);
        }

        /** Reads (and consumes) {@code length} bytes at {@code offset}, copying anything before it. */
        byte[] read(long offset, long length) throws IOException {
            copyTo(offset);
            byte[] b = in.readNBytes((int) length);
            position += b.length;
            return b;
        }

        byte[] peek(long offset, long length) throws IOException {
            return content.read(offset, length);
        }

        void write(byte[] b) throws IOException {
            out.write(b);
        }

        void copyTo(long offset) throws IOException {
            byte[] buf = new byte[64 * 1024];
            while (position < offset) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, offset - position));
                if (n < 0) {
                    return;
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
    }
}

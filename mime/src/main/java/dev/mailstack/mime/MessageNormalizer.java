package dev.mailstack.mime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Labels raw 8-bit mail that came without MIME (a telnet user typing Chinese, old clients) before
 * it is stored: the body gets {@code text/plain; charset=...} in the charset its bytes are valid in
 * (UTF-8, else the fallback chain, GB18030 by default) and a transfer encoding that fits; 8-bit
 * header text becomes RFC 2047 encoded-words. Well-formed MIME is never touched, so DKIM and S/MIME
 * signatures survive.
 */
public final class MessageNormalizer {
    /** RFC 5322 §2.1.1: lines of at most 998 octets; longer ones need base64. */
    static final int MAX_LINE = 998;

    private MessageNormalizer() {
    }

    /**
     * True for a message with 8-bit octets and no MIME labels of its own: neither Content-Type
     * nor MIME-Version in its header. A message with either is the sender's MIME and is left byte
     * for byte as it came (DKIM and S/MIME signatures cover it), even when its labels are wrong.
     */
    public static boolean needsLabels(MessageSummary.ParsedMessage parsed) {
        MessageSummary.Part root = parsed.summary().root();
        return parsed.eightBit() && !root.explicitType() && !parsed.mimeVersion();
    }

    /**
     * The message with one header field put in front, streamed (RFC 5321 §4.4: a relay prepends
     * its Received trace field and changes nothing else). The field ("Name: value", without the
     * line end) is folded at whitespace to lines of at most 78 columns where it can be (RFC 5322
     * §2.2.3) and ended with CRLF.
     */
    public static InputStream prepend(String field, InputStream message) {
        int colon = field.indexOf(':');
        if (colon <= 0 || field.indexOf('\r') >= 0 || field.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("not a single header field: " + field);
        }
        byte[] line = (HeaderRewriter.fold(field) + "\r\n").getBytes(StandardCharsets.UTF_8);
        return new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(line), message);
    }

    /** Writes the labelled message to {@code out}; call only when {@link #needsLabels} says so. */
    public static void label(ContentSource content, MessageSummary.ParsedMessage parsed, List<Charset> fallback,
                             OutputStream out) throws IOException {
        MessageSummary.Part root = parsed.summary().root();
        Charset charset = detect(content, root.bodyOffset(), root.bodySize(), fallback);
        BodyShape shape = shape(content, root.bodyOffset(), root.bodySize());
        // RFC 2045 §2.7-2.8: 8bit needs lines of at most 998 octets and no NUL; else base64
        boolean base64 = shape.longLines() || shape.nul();
        List<String> extra = new ArrayList<>();
        extra.add("MIME-Version: 1.0");
        extra.add("Content-Type: text/plain; charset=" + charset.name());
        extra.add("Content-Transfer-Encoding: " + (base64 ? "base64" : shape.eightBit() ? "8bit" : "7bit"));
        boolean longLines = base64;
        byte[] header = content.read(0, root.headerSize());
        byte[] rewritten = HeaderRewriter.rewrite(header, fallback, extra,
                List.of("mime-version:", "content-transfer-encoding:"));
        out.write(rewritten);
        if (!endsWithBlankLine(rewritten)) {
            out.write(new byte[]{'\r', '\n'});
        }
        try (InputStream in = content.open(root.bodyOffset())) {
            InputStream body = new java.io.BufferedInputStream(in);
            if (longLines) {
                OutputStream b64 = java.util.Base64.getMimeEncoder(76, new byte[]{'\r', '\n'}).wrap(new NonClosingOutputStream(out));
                copy(body, b64, root.bodySize());
                b64.close();
                out.write(new byte[]{'\r', '\n'});
            } else {
                copy(body, out, root.bodySize());
            }
        }
    }

    private static boolean endsWithBlankLine(byte[] b) {
        int n = b.length;
        return n >= 4 && b[n - 4] == '\r' && b[n - 3] == '\n' && b[n - 2] == '\r' && b[n - 1] == '\n';
    }

    private static void copy(InputStream in, OutputStream out, long length) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long left = length;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) {
                break;
            }
            out.write(buf, 0, n);
            left -= n;
        }
    }

    /**
     * Whether the whole message, header and body, is valid UTF-8: an SMTPUTF8 message (RFC 6532)
     * that needs no labels to be read right, and is kept as it came.
     */
    public static boolean isUtf8(ContentSource content, MessageSummary.ParsedMessage parsed) throws IOException {
        return decodes(content, 0, parsed.size(), StandardCharsets.UTF_8);
    }

    /** Streams the body through a strict decoder: UTF-8 if it decodes, else the first fallback that does. */
    static Charset detect(ContentSource content, long offset, long length, List<Charset> fallback) throws IOException {
        List<Charset> candidates = new ArrayList<>();
        candidates.add(StandardCharsets.UTF_8);
        candidates.addAll(fallback);
        for (Charset c : candidates) {
            if (decodes(content, offset, length, c)) {
                return c;
            }
        }
        return fallback.isEmpty() ? StandardCharsets.UTF_8 : fallback.get(0);
    }

    private static boolean decodes(ContentSource content, long offset, long length, Charset c) throws IOException {
        CharsetDecoder d = c.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(64 * 1024);
        ByteBuffer bytes = ByteBuffer.allocate(64 * 1024 + 8);
        try (InputStream in = content.open(offset)) {
            long left = length;
            byte[] buf = new byte[64 * 1024];
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                left -= n;
                bytes.put(buf, 0, n);
                bytes.flip();
                java.nio.charset.CoderResult r = d.decode(bytes, chars, left == 0);
                if (r.isError()) {
                    return false;
                }
                chars.clear();
                bytes.compact();
            }
            bytes.flip();
            java.nio.charset.CoderResult r = d.decode(bytes, chars, true);
            return !r.isError() && d.flush(chars).isUnderflow() && !bytes.hasRemaining();
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** What decides the transfer encoding of a body: 8-bit octets, NULs, lines over 998 octets. */
    private record BodyShape(boolean eightBit, boolean nul, boolean longLines) {
    }

    private static BodyShape shape(ContentSource content, long offset, long length) throws IOException {
        boolean eightBit = false;
        boolean nul = false;
        boolean longLines = false;
        try (InputStream in = content.open(offset)) {
            byte[] buf = new byte[64 * 1024];
            int line = 0;
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                left -= n;
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    eightBit |= b < 0;
                    nul |= b == 0;
                    line = b == '\n' ? 0 : line + 1;
                    longLines |= line > MAX_LINE + 1; // the CR of CRLF is not part of the line
                }
            }
        }
        return new BodyShape(eightBit, nul, longLines);
    }
}

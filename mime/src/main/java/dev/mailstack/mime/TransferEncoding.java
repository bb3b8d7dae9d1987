package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Content-Transfer-Encoding decoders (RFC 2045 §6) that survive real-world damage. */
public final class TransferEncoding {
    private static final int[] BASE64 = new int[256];

    static {
        java.util.Arrays.fill(BASE64, -1);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < alphabet.length(); i++) {
            BASE64[alphabet.charAt(i)] = i;
        }
        BASE64['-'] = 62; // base64url, seen in the wild
        BASE64['_'] = 63;
    }

    private TransferEncoding() {
    }

    /**
     * RFC 2045 §6.7 quoted-printable of a whole (small) text, for mail we write ourselves: CRLF or a
     * bare LF becomes a hard line break, lines are at most 76 characters, and the result is 7-bit.
     */
    public static byte[] encodeQuotedPrintable(byte[] text) {
        return SevenBitDowngrade.quotedPrintable(text);
    }

    /** Base64, skipping anything outside the alphabet and stopping at padding; a truncated tail is kept. */
    public static byte[] base64(byte[] in, int off, int len) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(len * 3 / 4 + 3);
        new Base64Decoder().decode(in, off, len, out);
        return out.toByteArray();
    }

    /** Base64 decoding state carried from one chunk to the next, so a stream decodes as one array would. */
    private static final class Base64Decoder {
        private int acc;
        private int bits;

        void decode(byte[] in, int off, int len, ByteArrayOutputStream out) {
            for (int i = off; i < off + len; i++) {
                int c = in[i] & 0xff;
                if (c == '=') {
                    // padding ends a quantum; keep going: some senders concatenate encoded chunks
                    bits = 0;
                    acc = 0;
                    continue;
                }
                int v = BASE64[c];
                if (v < 0) {
                    continue;
                }
                acc = (acc << 6) | v;
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    out.write((acc >> bits) & 0xff);
                }
            }
        }
    }

    /** Quoted-printable; with {@code header} (RFC 2047 "Q") an underscore is a space. Bad escapes stay literal. */
    public static byte[] quotedPrintable(byte[] in, int off, int len, boolean header) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(len);
        quotedPrintable(in, off, len, header, out);
        return out.toByteArray();
    }

    private static void quotedPrintable(byte[] in, int off, int len, boolean header, ByteArrayOutputStream out) {
        int end = off + len;
        for (int i = off; i < end; i++) {
            int c = in[i] & 0xff;
            if (c == '_' && header) {
                out.write(' ');
            } else if (c == '=') {
                if (i + 2 < end && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                    out.write(hex(in[i + 1]) << 4 | hex(in[i + 2]));
                    i += 2;
                } else {
                    // soft line break: "=" then optional spaces then CRLF or LF
                    int j = i + 1;
                    while (j < end && (in[j] == ' ' || in[j] == '\t')) {
                        j++;
                    }
                    if (j < end && in[j] == '\r' && j + 1 < end && in[j + 1] == '\n') {
                        i = j + 1;
                    } else if (j < end && in[j] == '\n') {
                        i = j;
                    } else if (j == end) {
                        i = j - 1;
                    } else {
                        out.write(c);
                    }
                }
            } else {
                out.write(c);
            }
        }
    }

    private static int hex(byte b) {
        int c = b & 0xff;
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    }

    /**
     * {@link #decode(byte[], String)} for a body of any size in bounded memory: the body is read in
     * chunks, base64 with its state carried over and quoted-printable cut after a line end (an
     * escape or soft line break never spans lines), or before an escape when a chunk has no line
     * end, so the output is the same. Returns the octets written.
     */
    public static long decode(InputStream body, String encoding, OutputStream out) throws IOException {
        String e = encoding == null ? "" : encoding.strip().toLowerCase(java.util.Locale.ROOT);
        if (!e.equals("base64") && !e.equals("quoted-printable")) {
            return body.transferTo(out);
        }
        Base64Decoder base64 = new Base64Decoder();
        ByteArrayOutputStream decoded = new ByteArrayOutputStream(CHUNK);
        byte[] buf = new byte[CHUNK * 2];
        int have = 0;
        long written = 0;
        for (boolean eof = false; !eof || have > 0; ) {
            int n = eof ? -1 : body.read(buf, have, buf.length - have);
            eof |= n < 0;
            have += Math.max(n, 0);
            if (!eof && have < CHUNK) {
                continue;
            }
            int cut = have;
            if (!eof && e.equals("quoted-printable")) {
                int lf = lastIndexOf(buf, (byte) '\n', have);
                // a chunk with no line end (a long HTML line): cut before a trailing "=" or "=X",
                // so that no escape or soft line break (RFC 2045 §6.7) is split between chunks
                cut = lf >= 0 ? lf + 1 : buf[have - 1] == '=' ? have - 1 : buf[have - 2] == '=' ? have - 2 : have;
            }
            if (e.equals("base64")) {
                base64.decode(buf, 0, cut, decoded);
            } else {
                quotedPrintable(buf, 0, cut, false, decoded);
            }
            decoded.writeTo(out);
            written += decoded.size();
            decoded.reset();
            System.arraycopy(buf, cut, buf, 0, have - cut);
            have -= cut;
        }
        return written;
    }

    private static final int CHUNK = 64 * 1024;

    private static int lastIndexOf(byte[] b, byte value, int end) {
        for (int i = end - 1; i >= 0; i--) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }

    /**
     * True for the encodings this class undoes or that need nothing undone (RFC 2045 §6.1: 7bit,
     * 8bit, binary, base64, quoted-printable; none given means 7bit). Another one (x-uuencode, a
     * typo) passes through {@link #decode} unchanged, which IMAP BINARY must not call decoded.
     */
    public static boolean isKnown(String encoding) {
        String e = encoding == null ? "" : encoding.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (e) {
            case "", "7bit", "8bit", "binary", "base64", "quoted-printable" -> true;
            default -> false;
        };
    }

    /** Decodes a body by its Content-Transfer-Encoding; 7bit, 8bit, binary and unknown pass through. */
    public static byte[] decode(byte[] body, String encoding) {
        String e = encoding == null ? "" : encoding.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (e) {
            case "base64" -> base64(body, 0, body.length);
            case "quoted-printable" -> quotedPrintable(body, 0, body.length, false);
            default -> body;
        };
    }
}

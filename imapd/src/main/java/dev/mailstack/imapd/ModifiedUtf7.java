package dev.mailstack.imapd;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Mailbox names on the wire (RFC 3501 §5.1.3): modified UTF-7, '&' shifts to modified base64 of UTF-16.
 * Public for {@code mailstack import maildir}: Dovecot's Maildir++ folder names are in it too.
 */
public final class ModifiedUtf7 {
    private static final Base64.Encoder ENC = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder DEC = Base64.getDecoder();

    private ModifiedUtf7() {
    }

    static String encode(String name) {
        StringBuilder out = new StringBuilder();
        StringBuilder pending = new StringBuilder();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 0x20 && c <= 0x7e) {
                flush(out, pending);
                out.append(c == '&' ? "&-" : String.valueOf(c));
            } else {
                pending.append(c);
            }
        }
        flush(out, pending);
        return out.toString();
    }

    private static void flush(StringBuilder out, StringBuilder pending) {
        if (pending.isEmpty()) {
            return;
        }
        byte[] utf16 = pending.toString().getBytes(StandardCharsets.UTF_16BE);
        out.append('&').append(ENC.encodeToString(utf16).replace('/', ',')).append('-');
        pending.setLength(0);
    }

    /** Decodes; a malformed shift sequence is an error (the caller answers BAD/NO). */
    public static String decode(String wire) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < wire.length(); i++) {
            char c = wire.charAt(i);
            if (c != '&') {
                if (c > 0x7e) {
                    out.append(c); // already Unicode (a client that sends UTF-8): keep it
                    continue;
                }
                out.append(c);
                continue;
            }
            int end = wire.indexOf('-', i + 1);
            if (end < 0) {
                throw new IllegalArgumentException("unterminated &... in mailbox name");
            }
            if (end == i + 1) {
                out.append('&');
            } else {
                byte[] utf16 = DEC.decode(wire.substring(i + 1, end).replace(',', '/'));
                if (utf16.length % 2 != 0) {
                    throw new IllegalArgumentException("bad modified UTF-7 in mailbox name");
                }
                out.append(new String(utf16, StandardCharsets.UTF_16BE));
            }
            i = end;
        }
        return out.toString();
    }
}

package dev.mailstack.mta.queue;

import dev.mailstack.mime.MailCharset;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * RFC 3461 §4's xtext, the form ENVID and ORCPT travel in (and are queued in): printable ASCII
 * but '+' and '=', any other octet as "+XX".
 */
final class Xtext {
    private Xtext() {
    }

    static String encode(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c < 33 || c > 126 || c == '+' || c == '=') {
                out.append('+').append(String.format("%02X", c));
            } else {
                out.append((char) c);
            }
        }
        return out.toString();
    }

    /** The text an xtext stands for; empty when it is no xtext or its octets are no UTF-8. */
    static Optional<String> decode(String xtext) {
        ByteArrayOutputStream octets = new ByteArrayOutputStream();
        for (int i = 0; i < xtext.length(); i++) {
            char c = xtext.charAt(i);
            if (c == '+') {
                if (i + 2 >= xtext.length()) {
                    return Optional.empty();
                }
                int hi = Character.digit(xtext.charAt(i + 1), 16);
                int lo = Character.digit(xtext.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return Optional.empty();
                }
                octets.write(hi << 4 | lo);
                i += 2;
            } else if (c < 33 || c > 126 || c == '=') {
                return Optional.empty();
            } else {
                octets.write(c);
            }
        }
        byte[] b = octets.toByteArray();
        return MailCharset.decodeUtf8(b, 0, b.length);
    }
}

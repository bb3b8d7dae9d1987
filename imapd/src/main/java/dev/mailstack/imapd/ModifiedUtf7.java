package dev.mailstack.imapd;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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

    /**
     * Also a status response's text for a client without UTF8=ACCEPT, whose text is 7-bit (RFC
     * 3501 §9 TEXT-CHAR): a mailbox name in it (a store error's) then reads as the client spells it.
     */
    static String encode(String name) {
        if (name.chars().allMatch(c -> c >= 0x20 && c <= 0x7e && c != '&')) {
            return name;
        }
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

    /**
     * Decodes; a malformed shift sequence is an error (the caller answers NO). RFC 3501 §5.1.3 says
     * printable ASCII MUST NOT be shifted (so "a&AC8-b" cannot stand for "a/b"); beyond it, and on
     * purpose, a name is read only in the one form {@link #encode} writes (no shift right after
     * another, the shortest modified base64: no padding, no bits left over), so that no mailbox
     * has two spellings. Raw 8-bit text outside a shift is kept as Unicode (a client that sends
     * UTF-8 without UTF8=ACCEPT).
     */
    public static String decode(String wire) {
        StringBuilder out = new StringBuilder();
        int lastShiftEnd = -2;
        for (int i = 0; i < wire.length(); i++) {
            char c = wire.charAt(i);
            if (c != '&') {
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
                if (lastShiftEnd == i - 1) {
                    throw new IllegalArgumentException("two modified UTF-7 shifts in a row in mailbox name: send them as one &...-");
                }
                out.append(shifted(wire.substring(i + 1, end)));
                lastShiftEnd = end;
            }
            i = end;
        }
        return out.toString();
    }

    /** The text of one shift's modified base64, if it is in the one form we read. */
    private static String shifted(String base64) {
        byte[] utf16;
        try {
            utf16 = DEC.decode(base64.replace(',', '/'));
        } catch (IllegalArgumentException e) { // "Illegal base64 character 2a" alone would not say of what
            throw new IllegalArgumentException("bad modified UTF-7 in mailbox name: " + e.getMessage());
        }
        if (utf16.length % 2 != 0 || !ENC.encodeToString(utf16).replace('/', ',').equals(base64)) {
            throw new IllegalArgumentException("bad modified UTF-7 in mailbox name");
        }
        String text;
        try {
            text = StandardCharsets.UTF_16BE.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf16)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("modified UTF-7 with a lone surrogate in mailbox name");
        }
        if (text.chars().anyMatch(ch -> ch >= 0x20 && ch <= 0x7e)) {
            throw new IllegalArgumentException("printable ASCII in a modified UTF-7 shift in mailbox name (send it as is)");
        }
        return text;
    }
}

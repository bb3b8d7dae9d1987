package dev.mailstack.imapd;

import java.nio.charset.StandardCharsets;

/** How strings go on the wire (RFC 3501 §4.3): atom-safe, quoted, or a literal. */
final class ImapSyntax {
    private ImapSyntax() {
    }

    /** A quoted string when possible, else a literal ({n} CRLF octets). Null becomes NIL. */
    static String nstring(String s) {
        if (s == null) {
            return "NIL";
        }
        boolean quotable = s.length() < 1000 && s.chars().allMatch(c -> c >= 0x20 && c != 0x7f && c < 0x80);
        if (quotable) {
            return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        return "{" + bytes.length + "}\r\n" + s;
    }

    /** Like {@link #nstring} but 8-bit text may be quoted (UTF8=ACCEPT, RFC 6855). */
    static String string(String s, boolean utf8) {
        if (utf8 && s != null && s.chars().allMatch(c -> c >= 0x20 && c != 0x7f) && s.length() < 1000) {
            return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
        return nstring(s);
    }

    static String mailbox(String unicodeName, boolean utf8) {
        return utf8 ? string(unicodeName, true) : nstring(ModifiedUtf7.encode(unicodeName));
    }
}

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
        if (s.length() < 1000 && quotable(s, false)) {
            return quote(s);
        }
        // RFC 3501 §9: a literal's octets are CHAR8, which leaves out NUL; a header may still carry one.
        String text = s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
        return "{" + text.getBytes(StandardCharsets.UTF_8).length + "}\r\n" + text;
    }

    /** Like {@link #nstring} but 8-bit text may be quoted (UTF8=ACCEPT, RFC 6855). */
    static String string(String s, boolean utf8) {
        if (utf8 && s != null && s.length() < 1000 && quotable(s, true)) {
            return quote(s);
        }
        return nstring(s);
    }

    /**
     * RFC 3501 §9 astring: an atom as it is, otherwise a string ({@link #nstring}), so that "X Y" and
     * "" go back as they came, not as two names or none.
     */
    static String astring(String s) {
        if (!s.isEmpty() && s.chars().allMatch(ImapParser::isAtomChar)) {
            return s;
        }
        return nstring(s);
    }

    static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /**
     * RFC 3501 §9 quoted: no CR, LF or other controls; 8-bit only under UTF8=ACCEPT. A loop, not a
     * stream: BODYSTRUCTURE of a whole mailbox calls this for every parameter of every part.
     */
    private static boolean quotable(String s, boolean eightBit) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && !eightBit)) {
                return false;
            }
        }
        return true;
    }

    private static String quote(String s) {
        if (s.indexOf('\\') < 0 && s.indexOf('"') < 0) {
            return '"' + s + '"';
        }
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    static String mailbox(String unicodeName, boolean utf8) {
        return utf8 ? string(unicodeName, true) : nstring(ModifiedUtf7.encode(unicodeName));
    }
}

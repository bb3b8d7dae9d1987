package dev.mailstack.mime;

/** RFC 5322 quoted-string handling shared by the header parsers (addresses, parameters). */
final class HeaderSyntax {
    private HeaderSyntax() {
    }

    /** Removes quoted-pair backslashes (RFC 5322 §3.2.1) from the inside of a quoted string. */
    static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                c = s.charAt(++i);
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** The first {@code target} at or after {@code from} that is not inside a quoted string; -1 if none. */
    static int indexOutsideQuotes(String s, char target, int from) {
        boolean quoted = false;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && quoted) {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == target && !quoted) {
                return i;
            }
        }
        return -1;
    }
}

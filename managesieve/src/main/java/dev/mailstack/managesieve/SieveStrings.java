package dev.mailstack.managesieve;

import java.nio.charset.StandardCharsets;

/** How the server writes ManageSieve strings (RFC 5804 §4: quoted and literal-s2c). */
final class SieveStrings {
    /** RFC 5804 §4: a quoted string holds at most 1024 octets; longer ones go as literals. */
    static final int MAX_QUOTED_OCTETS = 1024;

    private SieveStrings() {
    }

    /**
     * {@code "text"} with {@code \} and {@code "} escaped. CR and LF cannot be quoted (§4 QUOTED-CHAR):
     * they become spaces, which only ever happens to texts for people, never to names or scripts
     * ({@link #string} sends those as literals).
     */
    static String quoted(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"', '\\' -> sb.append('\\').append(c);
                case '\r', '\n' -> sb.append(' ');
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    /** A quoted string when it may be one, else a literal {@code {n}CRLF...} (a script name with CR/LF cannot occur). */
    static String string(String text) {
        if (text.indexOf('\r') < 0 && text.indexOf('\n') < 0 && text.getBytes(StandardCharsets.UTF_8).length <= MAX_QUOTED_OCTETS) {
            return quoted(text);
        }
        return "{" + text.getBytes(StandardCharsets.UTF_8).length + "}\r\n" + text;
    }
}

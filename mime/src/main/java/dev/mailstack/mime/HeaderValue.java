package dev.mailstack.mime;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A structured header value such as Content-Type or Content-Disposition: the leading token and
 * its parameters (RFC 2045 §5.1), names lower case and in header order, values decoded by
 * {@link Rfc2231}. Broken input gives what it can.
 */
public record HeaderValue(String value, Map<String, String> params) {
    public static HeaderValue parse(String text, int maxParams) {
        String s = text == null ? "" : stripComments(text);
        int semi = indexOutsideQuotes(s, ';', 0);
        String value = (semi < 0 ? s : s.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
        Map<String, String> raw = new LinkedHashMap<>();
        int pos = semi;
        while (pos >= 0 && pos < s.length() && raw.size() < maxParams) {
            int next = indexOutsideQuotes(s, ';', pos + 1);
            String param = (next < 0 ? s.substring(pos + 1) : s.substring(pos + 1, next)).strip();
            int eq = param.indexOf('=');
            if (eq > 0) {
                String name = param.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                String v = param.substring(eq + 1).strip();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = unquote(v.substring(1, v.length() - 1));
                } else if (v.startsWith("\"")) {
                    v = unquote(v.substring(1)); // unterminated quote: take the rest
                }
                raw.putIfAbsent(name, v);
            }
            pos = next;
        }
        return new HeaderValue(value, Rfc2231.decode(raw));
    }

    private static String unquote(String s) {
        return HeaderSyntax.unescape(s);
    }

    private static int indexOutsideQuotes(String s, char target, int from) {
        return HeaderSyntax.indexOutsideQuotes(s, target, from);
    }

    /** RFC 5322 comments "(...)" outside quotes, which some senders put in Content-Type. */
    private static String stripComments(String s) {
        if (s.indexOf('(') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder();
        boolean quoted = false;
        int depth = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' && depth == 0) {
                quoted = !quoted;
            } else if (!quoted && c == '(') {
                depth++;
                continue;
            } else if (!quoted && c == ')' && depth > 0) {
                depth--;
                continue;
            }
            if (depth == 0) {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}

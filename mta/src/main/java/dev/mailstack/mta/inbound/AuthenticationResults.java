package dev.mailstack.mta.inbound;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Authentication-Results field (RFC 8601) that tells readers and filters what the checks of
 * this server found: one "method=result" entry per check, each with a comment saying why when it
 * did not pass, and the identity it was about (RFC 8601 §2.7).
 */
public final class AuthenticationResults {
    private static final int MAX_COMMENT = 150;
    private final String authservId;
    private final List<String> entries = new ArrayList<>();

    /** {@code authservId}: this server's host name (RFC 8601 §2.5). */
    public AuthenticationResults(String authservId) {
        this.authservId = authservId;
    }

    /**
     * Adds one result, e.g. ("dkim", "pass", "", "header.d", "example.com", "header.s", "sel1").
     * {@code properties} are ptype.property and value pairs; a pair with an empty value is left out.
     */
    public AuthenticationResults add(String method, String result, String comment, String... properties) {
        StringBuilder entry = new StringBuilder(method).append('=').append(result);
        String why = comment(comment);
        if (!why.isEmpty()) {
            entry.append(" (").append(why).append(')');
        }
        for (int i = 0; i + 1 < properties.length; i += 2) {
            if (!properties[i + 1].isEmpty()) { // unknown (a signature without a usable d=): left out
                entry.append(' ').append(properties[i]).append('=').append(value(properties[i + 1]));
            }
        }
        entries.add(entry.toString());
        return this;
    }

    /** The whole field with its CRLF, each result on a line of its own. */
    public String field() {
        if (entries.isEmpty()) {
            return "Authentication-Results: " + authservId + "; none\r\n"; // RFC 8601 §2.2
        }
        return "Authentication-Results: " + authservId + ";\r\n\t" + String.join(";\r\n\t", entries) + "\r\n";
    }

    /**
     * Whether a field of the message claims to come from a server named {@code authservId}: RFC
     * 8601 §5 has such fields removed on arrival, since anyone could have written them. The
     * authserv-id is the value's first token or quoted-string, after any comments (nested, §2.2).
     */
    public static boolean claimsToBe(String field, String authservId) {
        int colon = field.indexOf(':');
        if (colon < 0 || !field.substring(0, colon).strip().equalsIgnoreCase("Authentication-Results")) {
            return false;
        }
        String v = field.substring(colon + 1);
        int i = skipCfws(v, 0);
        StringBuilder id = new StringBuilder();
        if (i < v.length() && v.charAt(i) == '"') {
            for (i++; i < v.length() && v.charAt(i) != '"'; i++) {
                if (v.charAt(i) == '\\' && i + 1 < v.length()) {
                    i++;
                }
                id.append(v.charAt(i));
            }
        } else {
            for (; i < v.length() && ";( \t\r\n\"".indexOf(v.charAt(i)) < 0; i++) {
                id.append(v.charAt(i));
            }
        }
        return id.toString().equalsIgnoreCase(authservId);
    }

    /** Past whitespace and comments, which nest and may hold quoted pairs (RFC 5322 §3.2.2). */
    private static int skipCfws(String v, int i) {
        int depth = 0;
        for (; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && depth > 0) {
                depth--;
            } else if (c == '\\' && depth > 0) {
                i++;
            } else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                return i;
            }
        }
        return i;
    }

    /** A comment's text: printable ASCII, no parentheses or backslashes, cut to a line's worth. */
    private static String comment(String text) {
        String clean = text.replaceAll("[^\\x20-\\x7e]|[()\\\\]", " ").replaceAll(" +", " ").strip();
        return clean.length() > MAX_COMMENT ? clean.substring(0, MAX_COMMENT) : clean;
    }

    /** A property's value: as it is when it is a token or an address of such (RFC 8601 §2.2), else quoted. */
    private static String value(String v) {
        if (!v.isEmpty() && v.matches("[A-Za-z0-9!#$%&'*+\\-.^_`{|}~]*(@[A-Za-z0-9.\\-]+)?")) {
            return v;
        }
        return '"' + v.replaceAll("[^\\x20-\\x7e]", "?").replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}

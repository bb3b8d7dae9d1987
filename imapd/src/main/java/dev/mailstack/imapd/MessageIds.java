package dev.mailstack.imapd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * msg-ids (RFC 5322 §3.6.4) as THREAD=REFERENCES compares them (RFC 5256 §3): normalised, so
 * that {@code <"a.b"@example.org>} and {@code <a.b@example.org>} are one id, and compared
 * case-sensitively. Like Dovecot: an id without '@' is not valid and is skipped, white space and
 * comments inside are dropped, quotes around the local part removed.
 */
final class MessageIds {
    /** An id longer than this is not one a mail program made; it is skipped rather than kept in memory. */
    static final int MAX_ID_CHARS = 1000;

    private MessageIds() {
    }

    /** The first valid id in a header value (Message-ID, In-Reply-To), or null. */
    static String first(String value) {
        List<String> ids = parse(value, 1, true);
        return ids.isEmpty() ? null : ids.get(0);
    }

    /** The last {@code max} valid ids of a References value, in order. */
    static List<String> last(String value, int max) {
        return parse(value, max, false);
    }

    private static List<String> parse(String value, int max, boolean first) {
        if (value == null) {
            return List.of();
        }
        Deque<String> ids = new ArrayDeque<>();
        int i = 0;
        while (true) {
            int lt = value.indexOf('<', i);
            if (lt < 0) {
                break;
            }
            int[] end = new int[1];
            String id = id(value, lt + 1, end);
            if (id == null) {
                i = lt + 1;
                continue;
            }
            i = end[0];
            if (id.length() <= MAX_ID_CHARS) {
                ids.addLast(id);
                if (ids.size() >= max && first) {
                    break;
                }
                if (ids.size() > max) {
                    ids.removeFirst();
                }
            }
        }
        return new ArrayList<>(ids);
    }

    /** The id whose text starts at {@code p} (after '<'), with {@code end[0]} set past its '>'; null when not valid. */
    private static String id(String s, int p, int[] end) {
        int q = p;
        boolean at = false;
        while (q < s.length()) {
            char c = s.charAt(q);
            if (c == '>' || c == '"' || c == '(' || c == '[') {
                break;
            }
            at |= c == '@';
            q++;
        }
        if (q >= s.length()) {
            return null;
        }
        if (s.charAt(q) == '>') { // the usual form: take it as it is, less any white space
            end[0] = q + 1;
            return at ? s.substring(p, q).replaceAll("[ \t\r\n]", "") : null;
        }
        // quotes or comments: local-part "@" domain read token by token
        StringBuilder id = new StringBuilder();
        int[] pos = {p};
        skipSpaceAndComments(s, pos);
        if (pos[0] < s.length() && s.charAt(pos[0]) == '"') {
            if (!quoted(s, pos, id)) {
                return null;
            }
        } else if (!dotAtom(s, pos, id)) {
            return null;
        }
        skipSpaceAndComments(s, pos);
        if (pos[0] >= s.length() || s.charAt(pos[0]) != '@') {
            return null;
        }
        id.append('@');
        pos[0]++;
        skipSpaceAndComments(s, pos);
        if (!dotAtom(s, pos, id)) {
            return null;
        }
        skipSpaceAndComments(s, pos);
        if (pos[0] >= s.length() || s.charAt(pos[0]) != '>') {
            return null;
        }
        end[0] = pos[0] + 1;
        return id.toString();
    }

    private static boolean quoted(String s, int[] pos, StringBuilder out) {
        int p = pos[0] + 1;
        while (p < s.length() && s.charAt(p) != '"') {
            if (s.charAt(p) == '\\' && p + 1 < s.length()) {
                p++;
            }
            out.append(s.charAt(p++));
        }
        if (p >= s.length()) {
            return false;
        }
        pos[0] = p + 1;
        return true;
    }

    /** dot-atom-text, with the folding white space and comments between its atoms left out. */
    private static boolean dotAtom(String s, int[] pos, StringBuilder out) {
        if (!atom(s, pos, out)) {
            return false;
        }
        while (true) {
            int save = pos[0];
            skipSpaceAndComments(s, pos);
            if (pos[0] >= s.length() || s.charAt(pos[0]) != '.') {
                pos[0] = save;
                return true;
            }
            out.append('.');
            pos[0]++;
            skipSpaceAndComments(s, pos);
            if (!atom(s, pos, out)) {
                return false;
            }
        }
    }

    /** RFC 5322 §3.2.3 atext (and 8-bit text, which RFC 6532 allows). */
    private static boolean atom(String s, int[] pos, StringBuilder out) {
        int p = pos[0];
        while (p < s.length()) {
            char c = s.charAt(p);
            boolean atext = c > 0x7f || Character.isLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
            if (!atext) {
                break;
            }
            out.append(c);
            p++;
        }
        boolean any = p > pos[0];
        pos[0] = p;
        return any;
    }

    private static void skipSpaceAndComments(String s, int[] pos) {
        int p = pos[0];
        int depth = 0;
        while (p < s.length()) {
            char c = s.charAt(p);
            if (c == '(') {
                depth++;
            } else if (c == ')' && depth > 0) {
                depth--;
            } else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                break;
            }
            p++;
        }
        pos[0] = p;
    }
}

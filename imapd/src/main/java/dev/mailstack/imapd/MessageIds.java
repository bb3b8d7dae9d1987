package dev.mailstack.imapd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * msg-ids (RFC 5322 §3.6.4) as THREAD=REFERENCES compares them (RFC 5256 §3): normalised, so
 * that {@code <"a.b"@example.org>} and {@code <a.b@example.org>} are one id, and compared
 * case-sensitively. Like Dovecot: an id without '@' is not valid and is skipped, white space and
 * comments inside are dropped, quotes around the local part removed; a domain literal
 * ({@code <x@[10.0.0.1]>}, §3.6.4's no-fold-literal) is kept as written. An id inside a comment is
 * none.
 *
 * <p>One value is read in one pass: where an id turns out not to be one, the search for the next
 * goes on from where that was found, not from the character after its '<' (which read a MiB of
 * '<' in quadratic time). A '<' passed over that way was in quotes or a comment, or would have
 * failed the same way.
 */
final class MessageIds {
    /**
     * An id longer than this is not one a mail program made (theirs are well under 100 characters):
     * it is skipped, as one without '@' is.
     */
    static final int MAX_ID_CHARS = 250;
    /**
     * What is read of a Message-ID or In-Reply-To value: its start, where the id is. A header may be
     * up to a MiB (MimeLimits.maxHeaderBytes), and no id worth comparing needs more than this.
     */
    static final int MAX_FIELD_CHARS = 2 * 1024;
    /**
     * What is read of a References value: its end, which names the nearest ancestors, the only ones
     * THREAD keeps ({@link Threader#MAX_REFERENCES}; this leaves 160 characters for each).
     */
    static final int MAX_REFERENCES_CHARS = 16 * 1024;

    private final String s;
    private int pos;
    /**
     * Cleared once a comment is found never closed: from then on '(' is only text (a sloppy
     * header), so that no comment is read to the end of the value twice.
     */
    private boolean comments = true;
    /**
     * Where the last quick scan of {@link #id} stopped at a quote, a comment or a '[': a '<' before
     * it would stop there too, so the scan is not done again.
     */
    private int stop = -1;

    private MessageIds(String s) {
        this.s = s;
    }

    /** The first valid id in a header value (Message-ID, In-Reply-To), or null. */
    static String first(String value) {
        String start = value == null || value.length() <= MAX_FIELD_CHARS ? value : value.substring(0, MAX_FIELD_CHARS);
        List<String> ids = parse(start, 1, true);
        return ids.isEmpty() ? null : ids.get(0);
    }

    /** The last {@code max} valid ids of a References value, in order. */
    static List<String> last(String value, int max) {
        String end = value == null || value.length() <= MAX_REFERENCES_CHARS ? value
                : value.substring(value.length() - MAX_REFERENCES_CHARS);
        return parse(end, max, false);
    }

    /**
     * The ids of the whole of {@code value} ({@code first}: only the first {@code max}, else the last
     * ones), in time linear in its length: tested without the cuts of {@link #first} and {@link #last}.
     */
    static List<String> parse(String value, int max, boolean first) {
        return value == null ? List.of() : new MessageIds(value).ids(max, first);
    }

    private List<String> ids(int max, boolean first) {
        Deque<String> ids = new ArrayDeque<>();
        while (toNextId()) {
            String id = id();
            if (id != null && id.length() <= MAX_ID_CHARS) {
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

    /**
     * Moves past the next '<' that is not in a comment: RFC 5322 §3.2.2, a comment is no part of the
     * value, so "(see <x@y>) <a@b>" names a@b alone. False when there is none.
     */
    private boolean toNextId() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '<') {
                pos++;
                return true;
            }
            int close = c == '(' && comments ? commentEnd(pos) : -1;
            pos = close < 0 ? pos + 1 : close;
        }
        return false;
    }

    /** The id whose text starts at {@code pos} (after '<'), or null; {@code pos} left past it or where it failed. */
    private String id() {
        int p = pos;
        int q = p < stop ? stop : p;
        boolean at = false;
        while (q < s.length()) {
            char c = s.charAt(q);
            if (c == '>' || c == '"' || c == '(' || c == '[') {
                break;
            }
            if (c == '<') { // no id holds one: the id starts again after it
                p = q + 1;
                at = false;
            }
            at |= c == '@';
            q++;
        }
        if (q >= s.length()) {
            pos = q; // nothing ends it, nor would anything end an id at a later '<'
            return null;
        }
        if (s.charAt(q) == '>') { // the usual form: take it as it is, less any white space
            pos = q + 1;
            return at ? withoutSpace(p, q) : null;
        }
        // quotes or comments: local-part "@" domain read token by token
        stop = q;
        pos = p;
        StringBuilder id = new StringBuilder();
        if (!addrSpec(id)) {
            return null;
        }
        pos++;
        return id.toString();
    }

    /** s[from, to) less any white space (folding left some in an id), without a regex compiled per id. */
    private String withoutSpace(int from, int to) {
        StringBuilder id = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                id.append(c);
            }
        }
        return id.toString();
    }

    /** local-part "@" domain ">", into {@code out}; {@code pos} left at the '>' or where it failed. */
    private boolean addrSpec(StringBuilder out) {
        skipSpaceAndComments();
        if (pos < s.length() && s.charAt(pos) == '"') {
            if (!quoted(out)) {
                return false;
            }
        } else if (!dotAtom(out)) {
            return false;
        }
        skipSpaceAndComments();
        if (pos >= s.length() || s.charAt(pos) != '@') {
            return false;
        }
        out.append('@');
        pos++;
        skipSpaceAndComments();
        if (pos < s.length() && s.charAt(pos) == '[' ? !domainLiteral(out) : !dotAtom(out)) {
            return false;
        }
        skipSpaceAndComments();
        return pos < s.length() && s.charAt(pos) == '>';
    }

    /**
     * RFC 5322 §3.6.4 no-fold-literal: "[" dtext* "]", taken as written (an id's domain literal
     * names the host that made it, {@code [10.0.0.1]}, and is compared as text like the rest).
     */
    private boolean domainLiteral(StringBuilder out) {
        // One scan to the first character that ends or spoils it; a failure leaves pos there, so
        // no stretch of the value is scanned twice (a MiB of "<a@[" stays linear).
        for (int p = pos + 1; p < s.length(); p++) {
            char c = s.charAt(p);
            if (c == ']') {
                out.append(s, pos, p + 1);
                pos = p + 1;
                return true;
            }
            if (c == '[' || c == '\\' || c == '<' || c == '>' || Character.isWhitespace(c)) {
                pos = p;
                return false;
            }
        }
        pos = s.length();
        return false;
    }

    private boolean quoted(StringBuilder out) {
        int p = pos + 1;
        while (p < s.length() && s.charAt(p) != '"') {
            if (s.charAt(p) == '\\' && p + 1 < s.length()) {
                p++;
            }
            out.append(s.charAt(p++));
        }
        if (p >= s.length()) {
            pos++; // never closed, so there is no '"' after it: nothing is read this way twice
            return false;
        }
        pos = p + 1;
        return true;
    }

    /** dot-atom-text, with the folding white space and comments between its atoms left out. */
    private boolean dotAtom(StringBuilder out) {
        if (!atom(out)) {
            return false;
        }
        while (true) {
            int save = pos;
            skipSpaceAndComments();
            if (pos >= s.length() || s.charAt(pos) != '.') {
                pos = save;
                return true;
            }
            out.append('.');
            pos++;
            skipSpaceAndComments();
            if (!atom(out)) {
                return false;
            }
        }
    }

    /** RFC 5322 §3.2.3 atext (and 8-bit text, which RFC 6532 allows). */
    private boolean atom(StringBuilder out) {
        int p = pos;
        while (p < s.length()) {
            char c = s.charAt(p);
            boolean atext = c > 0x7f || Character.isLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~".indexOf(c) >= 0;
            if (!atext) {
                break;
            }
            out.append(c);
            p++;
        }
        boolean any = p > pos;
        pos = p;
        return any;
    }

    private void skipSpaceAndComments() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c == '(' && comments) {
                int close = commentEnd(pos);
                if (close < 0) {
                    return; // the '(' stays, as text
                }
                pos = close;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                pos++;
            } else {
                return;
            }
        }
    }

    /**
     * Past the ')' that closes the comment (nested ones and quoted-pairs inside, RFC 5322 §3.2.2)
     * opened at {@code open}; -1, and no comments from here on, when it is never closed.
     */
    private int commentEnd(int open) {
        int depth = 0;
        for (int p = open; p < s.length(); p++) {
            char c = s.charAt(p);
            if (c == '\\') {
                p++;
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return p + 1;
            }
        }
        comments = false;
        return -1;
    }
}

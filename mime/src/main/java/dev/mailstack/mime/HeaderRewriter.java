package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Turns header lines carrying raw 8-bit text into RFC 2047 encoded-words (RFC 6152 §3, RFC 2047 §5). */
final class HeaderRewriter {
    private HeaderRewriter() {
    }

    static boolean hasEightBit(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] < 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Rewrites a header block (ending with its blank line, or not). Each field with 8-bit octets is
     * re-encoded as encoded-words in the charset its bytes are valid in. {@code extra} lines are
     * inserted before the blank line; a field named in {@code drop} (lower case, with ':') is left out.
     * Built as octets: text that no encoding may replace keeps its 8-bit octets (never '?').
     */
    static byte[] rewrite(byte[] header, List<Charset> fallback, List<String> extra, List<String> drop) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(header.length + 256);
        int i = 0;
        boolean blankSeen = false;
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        while (i < header.length) {
            int end = i;
            while (end < header.length && header[end] != '\n') {
                end++;
            }
            int next = Math.min(end + 1, header.length);
            int contentEnd = end > i && header[end - 1] == '\r' ? end - 1 : end;
            if (contentEnd == i) {
                blankSeen = true;
                break;
            }
            if ((header[i] == ' ' || header[i] == '\t') && field.size() > 0) {
                field.write('\r');
                field.write('\n');
                field.write(header, i, contentEnd - i);
            } else {
                emitField(out, field.toByteArray(), fallback, drop);
                field.reset();
                field.write(header, i, contentEnd - i);
            }
            i = next;
        }
        emitField(out, field.toByteArray(), fallback, drop);
        for (String line : extra) {
            out.writeBytes((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        }
        if (blankSeen) {
            out.writeBytes(new byte[]{'\r', '\n'});
        }
        return out.toByteArray();
    }

    /** Fields whose value is an address list (RFC 5322 §3.6.2-3.6.3, §3.6.6): quoted names are phrases. */
    private static final Set<String> ADDRESS_FIELDS = Set.of("from", "sender", "reply-to", "to", "cc",
            "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc", "disposition-notification-to");

    /** Fields with MIME parameters (RFC 2045 §5.1, RFC 2183 §2), rewritten parameter by parameter. */
    private static final Set<String> PARAMETER_FIELDS = Set.of("content-type", "content-disposition");

    /**
     * The words of a field with non-ASCII text: runs of words with non-ASCII text become
     * encoded-words (RFC 2047 §5; a run is encoded as one piece so the spaces inside it survive
     * §6.2's rule that whitespace between encoded-words is dropped), ASCII words stay as they are.
     * In an address field only an angle-addr or addr-spec is an address: it cannot hold an
     * encoded-word (§5), so a non-ASCII one keeps its octets (an RFC 6531 address: still 8-bit
     * mail, which QueueIntake.sign sees). A quoted display name is a phrase and is encoded without
     * its quotes, '@' inside or not (§5(3): no encoded-word inside a quoted-string); a comment is
     * encoded inside its parentheses (§5(2)).
     */
    private static void words(FoldedField out, String text, Charset cs, boolean addresses) {
        List<String> tokens = tokens(addresses ? text.replaceAll("([^\\s<])<", "$1 <") : text, addresses);
        StringBuilder run = new StringBuilder();
        for (String t : tokens) {
            if (isAscii(t)) {
                flushRun(out, run, cs);
                out.place(t);
            } else if (!addresses) {
                run.append(run.isEmpty() ? "" : " ").append(t);
            } else if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
                run.append(run.isEmpty() ? "" : " ").append(HeaderSyntax.unescape(t.substring(1, t.length() - 1)));
            } else if (t.startsWith("(")) {
                flushRun(out, run, cs);
                comment(out, t, cs);
            } else if (t.startsWith("<") || t.indexOf('@') >= 0) {
                flushRun(out, run, cs);
                out.place(t.getBytes(cs)); // the octets it came in: decoded with cs, they encode back the same
            } else {
                run.append(run.isEmpty() ? "" : " ").append(t);
            }
        }
        flushRun(out, run, cs);
    }

    private static boolean isAscii(String t) {
        return t.chars().allMatch(c -> c < 0x80);
    }

    private static void flushRun(FoldedField out, StringBuilder run, Charset cs) {
        if (run.isEmpty()) {
            return;
        }
        for (String w : Rfc2047.words(run.toString(), cs, Rfc2047.FOLD_AT - out.column() - 1)) {
            out.place(w);
        }
        run.setLength(0);
    }

    /** RFC 2047 §5(2): "(text)" becomes "(=?cs?B?...?=)", the words inside the parentheses. */
    private static void comment(FoldedField out, String t, Charset cs) {
        String inner = HeaderSyntax.unescape(t.substring(1, t.endsWith(")") ? t.length() - 1 : t.length()));
        List<String> w = Rfc2047.words(inner, cs, Rfc2047.FOLD_AT - out.column() - 2);
        for (int i = 0; i < w.size(); i++) {
            out.place((i == 0 ? "(" : "") + w.get(i) + (i == w.size() - 1 ? ")" : ""));
        }
    }

    /**
     * Content-Type or Content-Disposition with non-ASCII text, parameter by parameter: RFC 2047 §5
     * forbids encoded-words in a parameter, so a non-ASCII value becomes RFC 2231 §4
     * {@code name*=charset''%XX} (in sections when long), in the charset its octets came in, so they
     * pass unchanged. Before it goes {@code name="=?cs?B?...?="}: not RFC 2047, but what Outlook,
     * older Apple Mail and many webmail readers show as the attachment name, while Thunderbird, our
     * own {@link Rfc2231} and other RFC 2231 readers take the {@code name*} form when both are there
     * (Outlook and Gmail also send both). The parameter name itself is never encoded. A value
     * that cannot be rewritten (its name is already an RFC 2231 one) keeps its octets.
     */
    private static void parameters(FoldedField out, String text, Charset cs) {
        List<String> parts = new ArrayList<>();
        int pos = 0;
        while (pos <= text.length()) {
            int semi = HeaderSyntax.indexOutsideQuotes(text, ';', pos);
            String part = (semi < 0 ? text.substring(pos) : text.substring(pos, semi)).strip();
            if (!part.isEmpty() || parts.isEmpty()) {
                parts.add(part);
            }
            pos = semi < 0 ? text.length() + 1 : semi + 1;
        }
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i);
            String end = i < parts.size() - 1 ? ";" : "";
            int eq = part.indexOf('=');
            String name = eq > 0 ? part.substring(0, eq).strip() : "";
            if (i == 0 || isAscii(part) || name.isEmpty() || !isAscii(name) || name.contains("*")) {
                out.place((part + end).getBytes(cs));
                continue;
            }
            String value = part.substring(eq + 1).strip();
            if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                value = HeaderSyntax.unescape(value.substring(1, value.length() - 1));
            }
            String head = name + "=\"";
            int room = Rfc2047.FOLD_AT - out.column() - 1 - head.length();
            if (room < 40) {
                room = Rfc2047.FOLD_AT - 1 - head.length(); // too little left: the first word goes to the next line
            }
            List<String> w = Rfc2047.words(value, cs, room);
            for (int k = 0; k < w.size(); k++) {
                out.place((k == 0 ? head : "") + w.get(k) + (k == w.size() - 1 ? "\";" : ""));
            }
            List<String> sections = Rfc2231.encode(name, value.getBytes(cs), cs, Rfc2047.FOLD_AT - 2);
            for (int k = 0; k < sections.size(); k++) {
                out.place(sections.get(k) + (k == sections.size() - 1 ? end : ";"));
            }
        }
    }

    /**
     * One unfolded header field folded at whitespace so that lines stay within 78 columns where
     * a break is possible (RFC 5322 §2.2.3: folding inserts CRLF before whitespace; a word longer
     * than a line stays whole).
     */
    static String fold(String field) {
        if (field.length() <= Rfc2047.FOLD_AT) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length() + 16);
        int lineStart = 0;
        int lastSpace = -1;
        int i = 0;
        while (i < field.length()) {
            char c = field.charAt(i);
            if ((c == ' ' || c == '\t') && i > lineStart) {
                lastSpace = i;
            }
            if (i - lineStart >= Rfc2047.FOLD_AT && lastSpace > lineStart) {
                out.append(field, lineStart, lastSpace).append("\r\n");
                lineStart = lastSpace; // the whitespace starts the continuation line
                lastSpace = -1;
                i = lineStart + 1;
                continue;
            }
            i++;
        }
        return out.append(field, lineStart, field.length()).toString();
    }

    /**
     * Splits on whitespace; with {@code structured}, a quoted-string is one token even with spaces
     * inside, and a comment (RFC 5322 §3.2.2, nested or not) is a token of its own.
     */
    private static List<String> tokens(String text, boolean structured) {
        List<String> out = new ArrayList<>();
        StringBuilder t = new StringBuilder();
        boolean quoted = false;
        int depth = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (structured && c == '\\' && (quoted || depth > 0) && i + 1 < text.length()) {
                t.append(c).append(text.charAt(++i));
                continue;
            }
            if (structured && !quoted && c == '(') {
                if (depth++ == 0) {
                    cut(t, out);
                }
            } else if (structured && depth == 0 && c == '"') {
                quoted = !quoted;
            }
            if (!quoted && depth == 0 && (c == ' ' || c == '\t')) {
                cut(t, out);
            } else {
                t.append(c);
            }
            if (structured && depth > 0 && c == ')' && --depth == 0) {
                cut(t, out);
            }
        }
        cut(t, out);
        return out;
    }

    private static void cut(StringBuilder t, List<String> out) {
        if (!t.isEmpty()) {
            out.add(t.toString());
            t.setLength(0);
        }
    }

    private static void emitField(ByteArrayOutputStream out, byte[] field, List<Charset> fallback, List<String> drop) {
        if (field.length == 0) {
            return;
        }
        String latin = new String(field, StandardCharsets.ISO_8859_1);
        int colon = latin.indexOf(':');
        String name = colon < 0 ? latin : latin.substring(0, colon);
        String key = name.strip().toLowerCase(Locale.ROOT);
        if (drop.contains(key + ":")) {
            return;
        }
        if (!hasEightBit(field, 0, field.length) || colon < 0) {
            out.writeBytes(field);
            out.writeBytes(new byte[]{'\r', '\n'});
            return;
        }
        byte[] value = Arrays.copyOfRange(field, colon + 1, field.length);
        Charset cs = MailCharset.detect(value, 0, value.length, fallback);
        String text = new String(value, cs).replaceAll("\r\n[ \t]", " ").strip();
        FoldedField folded = new FoldedField(name);
        if (PARAMETER_FIELDS.contains(key)) {
            parameters(folded, text, cs);
        } else {
            words(folded, text, cs, ADDRESS_FIELDS.contains(key));
        }
        out.writeBytes(folded.bytes());
    }
}

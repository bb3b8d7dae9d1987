package dev.mailstack.mime;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;

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
     */
    static byte[] rewrite(byte[] header, List<Charset> fallback, List<String> extra, List<String> drop) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        boolean blankSeen = false;
        java.io.ByteArrayOutputStream field = new java.io.ByteArrayOutputStream();
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
            out.append(line).append("\r\n");
        }
        if (blankSeen) {
            out.append("\r\n");
        }
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Fields whose value is an address list (RFC 5322 §3.6.2-3.6.3, §3.6.6): quoted names are phrases. */
    private static final java.util.Set<String> ADDRESS_FIELDS = java.util.Set.of("from", "sender", "reply-to", "to", "cc",
            "bcc", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc", "disposition-notification-to");

    /**
     * The value of a field with non-ASCII text, folded at 78 columns: runs of words with non-ASCII
     * text become encoded-words (RFC 2047 §5; a run is encoded as one piece so the spaces inside it
     * survive §6.2's rule that whitespace between encoded-words is dropped), ASCII words stay as
     * they are so addresses like {@code <a@b>} remain readable. In an address field a quoted
     * display name with non-ASCII text is encoded without its quotes (§5(3): an encoded-word must
     * not appear inside a quoted-string); a non-ASCII token that holds an address itself cannot be
     * encoded and is left alone. {@code used} is the columns the field name and ": " take.
     */
    static String encodeWords(String field, String text, Charset cs, int used) {
        boolean addresses = ADDRESS_FIELDS.contains(field.toLowerCase(java.util.Locale.ROOT));
        List<String> tokens = tokens(addresses ? text.replaceAll("([^\\s<])<", "$1 <") : text, addresses);
        StringBuilder out = new StringBuilder();
        int[] column = {used};
        StringBuilder run = new StringBuilder();
        for (String t : tokens) {
            boolean ascii = t.chars().allMatch(c -> c < 0x80);
            boolean address = addresses && (t.indexOf('@') >= 0 || t.indexOf('<') >= 0);
            if (!ascii && !address) {
                String content = addresses && t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")
                        ? HeaderSyntax.unescape(t.substring(1, t.length() - 1)) : t;
                run.append(run.isEmpty() ? "" : " ").append(content);
                continue;
            }
            flushRun(out, run, cs, column);
            place(out, t, column);
        }
        flushRun(out, run, cs, column);
        return out.toString();
    }

    private static void flushRun(StringBuilder out, StringBuilder run, Charset cs, int[] column) {
        if (run.isEmpty()) {
            return;
        }
        for (String w : Rfc2047.words(run.toString(), cs, Rfc2047.FOLD_AT - column[0] - (out.isEmpty() ? 0 : 1))) {
            place(out, w, column);
        }
        run.setLength(0);
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

    /** Appends a token after a space, or on a new folded line when it would pass 78 columns (RFC 5322 §2.2.3). */
    private static void place(StringBuilder out, String token, int[] column) {
        if (out.isEmpty()) {
            out.append(token);
            column[0] += token.length();
        } else if (column[0] + 1 + token.length() > Rfc2047.FOLD_AT) {
            out.append("\r\n ").append(token);
            column[0] = 1 + token.length();
        } else {
            out.append(' ').append(token);
            column[0] += 1 + token.length();
        }
    }

    /** Splits on whitespace; with {@code quotes}, a quoted-string is one token even with spaces inside. */
    private static List<String> tokens(String text, boolean quotes) {
        List<String> out = new java.util.ArrayList<>();
        StringBuilder t = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quotes && c == '\\' && quoted && i + 1 < text.length()) {
                t.append(c).append(text.charAt(++i));
                continue;
            }
            if (quotes && c == '"') {
                quoted = !quoted;
            }
            if (!quoted && (c == ' ' || c == '\t')) {
                if (!t.isEmpty()) {
                    out.add(t.toString());
                    t.setLength(0);
                }
            } else {
                t.append(c);
            }
        }
        if (!t.isEmpty()) {
            out.add(t.toString());
        }
        return out;
    }

    private static void emitField(StringBuilder out, byte[] field, List<Charset> fallback, List<String> drop) {
        if (field.length == 0) {
            return;
        }
        String latin = new String(field, StandardCharsets.ISO_8859_1);
        int colon = latin.indexOf(':');
        String name = colon < 0 ? latin : latin.substring(0, colon);
        if (drop.contains(name.strip().toLowerCase(java.util.Locale.ROOT) + ":")) {
            return;
        }
        if (!hasEightBit(field, 0, field.length) || colon < 0) {
            out.append(latin).append("\r\n");
            return;
        }
        byte[] value = latin.substring(colon + 1).getBytes(StandardCharsets.ISO_8859_1);
        Charset cs = MailCharset.detect(value, 0, value.length, fallback);
        String text = new String(value, cs).replaceAll("\r\n[ \t]", " ").strip();
        out.append(name).append(": ").append(encodeWords(name.strip(), text, cs, name.length() + 2)).append("\r\n");
    }
}

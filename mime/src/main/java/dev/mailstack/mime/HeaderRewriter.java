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

    /** Encodes only the runs of words with non-ASCII text, so addresses like <a@b> stay readable. */
    static String encodeWords(String text, Charset cs, int used) {
        String[] tokens = text.split(" +");
        StringBuilder out = new StringBuilder();
        StringBuilder run = new StringBuilder();
        for (String t : tokens) {
            boolean ascii = t.chars().allMatch(c -> c < 0x80);
            if (!ascii) {
                run.append(run.isEmpty() ? "" : " ").append(t);
                continue;
            }
            if (!run.isEmpty()) {
                out.append(out.isEmpty() ? "" : " ").append(Rfc2047.encode(run.toString(), cs, used));
                run.setLength(0);
            }
            out.append(out.isEmpty() ? "" : " ").append(t);
        }
        if (!run.isEmpty()) {
            out.append(out.isEmpty() ? "" : " ").append(Rfc2047.encode(run.toString(), cs, used));
        }
        return out.toString();
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
        out.append(name).append(": ").append(encodeWords(text, cs, name.length() + 2)).append("\r\n");
    }
}

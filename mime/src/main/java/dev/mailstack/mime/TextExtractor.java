package dev.mailstack.mime;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The decoded text of a message for SEARCH (RFC 3501 §6.4.4 TEXT, BODY, HEADER): header field
 * values with RFC 2047 encoded-words decoded, and every text/* part (and those of enclosed
 * messages) with its transfer encoding and charset undone and HTML tags dropped. Bounded per part.
 */
public final class TextExtractor {
    /** Text read from one part at most; enough for search, bounded for hostile messages. */
    public static final int MAX_PART_BYTES = 4 * 1024 * 1024;
    private static final Pattern TAG = Pattern.compile("<[^>]{0,2000}>");
    private static final Pattern COMMENT_OR_SCRIPT = Pattern.compile(
            "(?is)<!--.{0,100000}?-->|<(script|style)\\b[^>]{0,2000}>.{0,1000000}?</\\1\\s*>");

    private TextExtractor() {
    }

    /**
     * Headers and body text in one forward pass over the raw message (the parts of a summary
     * are in offset order): the top-level header fields as {@code name: decoded value} lines,
     * then the text of each text part, separated by newlines.
     */
    public static String extract(InputStream raw, MessageSummary summary) throws IOException {
        Cursor cursor = new Cursor(raw);
        StringBuilder out = new StringBuilder();
        MessageSummary.Part root = summary.root();
        byte[] header = cursor.read(root.headerOffset(), Math.min(root.headerSize(), MAX_PART_BYTES));
        out.append(headerText(header));
        collect(root, cursor::read, out);
        return out.toString();
    }

    /** The body text only (SEARCH BODY), reading each text part where it lies. */
    public static String bodyText(MessageSummary summary, ContentSource content) throws IOException {
        StringBuilder out = new StringBuilder();
        collect(summary.root(), content::read, out);
        return out.toString();
    }

    /**
     * A header block as text: each field unfolded (RFC 5322 §2.2.3) and its value decoded
     * (RFC 2047); raw 8-bit text (RFC 6532 UTF-8, or legacy charsets) is decoded by guessing.
     */
    public static String headerText(byte[] header) {
        String text = MailCharset.guess(header, 0, header.length, MailCharset.DEFAULT_FALLBACK);
        StringBuilder out = new StringBuilder();
        StringBuilder field = new StringBuilder();
        for (String line : text.split("\r?\n")) {
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                field.append(line);
                continue;
            }
            appendField(out, field);
            field.setLength(0);
            field.append(line);
        }
        appendField(out, field);
        return out.toString();
    }

    private static void appendField(StringBuilder out, StringBuilder field) {
        int colon = field.indexOf(":");
        if (colon <= 0) {
            return;
        }
        out.append(field, 0, colon).append(": ").append(Rfc2047.decode(field.substring(colon + 1).strip())).append('\n');
    }

    private static void collect(MessageSummary.Part p, Bytes cursor, StringBuilder out) throws IOException {
        if (p.isMultipart()) {
            for (MessageSummary.Part c : p.children()) {
                collect(c, cursor, out);
            }
            return;
        }
        if (p.isMessage()) {
            MessageSummary.Envelope e = p.embedded().envelope();
            out.append(nz(Rfc2047.decode(e.subject()))).append(' ').append(nz(Rfc2047.decode(e.from()))).append('\n');
            collect(p.embedded().root(), cursor, out);
            return;
        }
        if (!p.isText()) {
            return;
        }
        byte[] raw = cursor.read(p.bodyOffset(), Math.min(p.bodySize(), MAX_PART_BYTES));
        byte[] decoded = TransferEncoding.decode(raw, p.encoding());
        String text = MailCharset.decode(decoded, 0, decoded.length, p.params().get("charset"));
        if (p.subtype().equals("html")) {
            text = html(text);
        }
        out.append(text.replace("\r\n", "\n")).append('\n');
    }

    /** Rough HTML to text: comments, scripts and styles dropped, tags become spaces, common entities decoded. */
    static String html(String html) {
        String t = COMMENT_OR_SCRIPT.matcher(html).replaceAll(" ");
        t = TAG.matcher(t).replaceAll(" ");
        if (t.indexOf('&') < 0) {
            return t;
        }
        StringBuilder out = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            int semi = c == '&' ? t.indexOf(';', i) : -1;
            if (semi > i + 1 && semi - i <= 10) {
                String entity = entity(t.substring(i + 1, semi));
                if (entity != null) {
                    out.append(entity);
                    i = semi;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    private static String entity(String name) {
        if (name.startsWith("#")) {
            try {
                int cp = name.length() > 1 && (name.charAt(1) == 'x' || name.charAt(1) == 'X')
                        ? Integer.parseInt(name.substring(2), 16) : Integer.parseInt(name.substring(1));
                return Character.isValidCodePoint(cp) ? new String(Character.toChars(cp)) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "nbsp" -> " ";
            case "amp" -> "&";
            case "lt" -> "<";
            case "gt" -> ">";
            case "quot" -> "\"";
            case "apos" -> "'";
            default -> null;
        };
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** Where part bytes come from: random access (a content source) or a forward-only cursor. */
    @FunctionalInterface
    private interface Bytes {
        byte[] read(long offset, long length) throws IOException;
    }

    /** Forward-only reads from a message stream; parts come in offset order. */
    private static final class Cursor {
        private final InputStream in;
        private long position;

        Cursor(InputStream in) {
            this.in = in;
        }

        byte[] read(long offset, long length) throws IOException {
            if (offset < position) {
                return new byte[0]; // overlapping parts cannot happen in a parsed summary; be safe
            }
            while (position < offset) {
                long n = in.skip(offset - position);
                if (n <= 0) {
                    if (in.read() < 0) {
                        return new byte[0]; // the stream is shorter than the summary says
                    }
                    n = 1;
                }
                position += n;
            }
            byte[] b = in.readNBytes((int) Math.min(length, Integer.MAX_VALUE - 8));
            position += b.length;
            return b;
        }
    }
}

package dev.mailstack.mime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The decoded text of a message for SEARCH (RFC 3501 §6.4.4 TEXT, BODY, HEADER): header field
 * values with RFC 2047 encoded-words decoded, and every text/* part (and those of enclosed
 * messages) with its transfer encoding and charset undone and HTML tags dropped; and, part by
 * part, what Sieve's body test matches. Bounded per part.
 */
public final class TextExtractor {
    /** Text read from one part at most; enough for search, bounded for hostile messages. */
    public static final int MAX_PART_BYTES = 4 * 1024 * 1024;

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
        String text = decoded(p, cursor.read(p.bodyOffset(), Math.min(p.bodySize(), MAX_PART_BYTES)));
        if (p.subtype().equals("html")) {
            text = html(text);
        }
        out.append(text.replace("\r\n", "\n")).append('\n');
    }

    /**
     * What one part holds itself, apart from its child parts, for a filter that looks at parts one
     * by one (Sieve's body :content, RFC 5173 §5.2): a leaf's body with its transfer encoding undone
     * and its charset converted (HTML stays markup; other types' octets are read as text by
     * guessing, as a label-less text part would be); a multipart's preamble and epilogue (RFC 2046
     * §5.1.1), not its parts; an enclosed message's header fields as {@link #headerText} gives
     * them, not its body. Reads at most {@code maxBytes} octets of each section it looks at: a
     * longer one is taken by its start.
     */
    public static String partContent(MessageSummary.Part part, ContentSource content, int maxBytes) throws IOException {
        if (part.isMultipart()) {
            return preambleAndEpilogue(part, content, maxBytes);
        }
        if (part.isMessage()) {
            MessageSummary.Part enclosed = part.embedded().root();
            return headerText(content.read(enclosed.headerOffset(), Math.min(enclosed.headerSize(), maxBytes)));
        }
        return decoded(part, content.read(part.bodyOffset(), Math.min(part.bodySize(), maxBytes)));
    }

    /** {@link #partContent}, with an HTML part turned into text as SEARCH sees it. */
    public static String partText(MessageSummary.Part part, ContentSource content, int maxBytes) throws IOException {
        String text = partContent(part, content, maxBytes);
        return part.isText() && part.subtype().equals("html") ? html(text) : text;
    }

    /** A leaf's octets with the transfer encoding undone (RFC 2045 §6) and the charset converted. */
    private static String decoded(MessageSummary.Part p, byte[] raw) {
        byte[] decoded = TransferEncoding.decode(raw, p.encoding());
        return MailCharset.decode(decoded, 0, decoded.length, p.params().get("charset"));
    }

    /**
     * RFC 2046 §5.1.1: the preamble is what comes before the first delimiter line, the epilogue
     * what follows the close delimiter's line; the line break before a delimiter belongs to it. A
     * multipart the parser found no parts in is all preamble.
     */
    private static String preambleAndEpilogue(MessageSummary.Part p, ContentSource content, int maxBytes)
            throws IOException {
        long end = p.bodyOffset() + p.bodySize();
        if (p.children().isEmpty()) {
            byte[] all = content.read(p.bodyOffset(), Math.min(p.bodySize(), maxBytes));
            return MailCharset.guess(all, 0, all.length, MailCharset.DEFAULT_FALLBACK);
        }
        byte[] delimiter = ("--" + p.params().getOrDefault("boundary", "")).getBytes(StandardCharsets.ISO_8859_1);
        long firstPart = p.children().getFirst().headerOffset();
        byte[] before = content.read(p.bodyOffset(), Math.min(firstPart - p.bodyOffset(), maxBytes));
        int open = lineStarting(before, delimiter);
        int preambleEnd = open < 0 ? before.length : open;
        if (preambleEnd > 0 && open >= 0 && before[preambleEnd - 1] == '\n') {
            preambleEnd -= preambleEnd > 1 && before[preambleEnd - 2] == '\r' ? 2 : 1;
        }
        MessageSummary.Part last = p.children().getLast();
        long lastEnd = last.bodyOffset() + last.bodySize();
        byte[] after = content.read(lastEnd, Math.min(Math.max(0, end - lastEnd), maxBytes));
        int close = lineStarting(after, closeDelimiter(delimiter));
        int epilogueStart = after.length;
        if (close >= 0) {
            int eol = close;
            while (eol < after.length && after[eol] != '\n') {
                eol++;
            }
            epilogueStart = Math.min(eol + 1, after.length);
        }
        String preamble = MailCharset.guess(before, 0, preambleEnd, MailCharset.DEFAULT_FALLBACK);
        String epilogue = MailCharset.guess(after, epilogueStart, after.length - epilogueStart, MailCharset.DEFAULT_FALLBACK);
        return preamble.isEmpty() || epilogue.isEmpty() ? preamble + epilogue : preamble + "\r\n" + epilogue;
    }

    private static byte[] closeDelimiter(byte[] delimiter) {
        byte[] close = Arrays.copyOf(delimiter, delimiter.length + 2);
        close[delimiter.length] = '-';
        close[delimiter.length + 1] = '-';
        return close;
    }

    /** Where the first line that starts with {@code prefix} begins; -1 when none does. */
    private static int lineStarting(byte[] b, byte[] prefix) {
        for (int i = 0; i + prefix.length <= b.length; i++) {
            if ((i == 0 || b[i - 1] == '\n') && Arrays.equals(b, i, i + prefix.length, prefix, 0, prefix.length)) {
                return i;
            }
        }
        return -1;
    }

    /** Rough HTML to text: comments, scripts and styles dropped, tags become spaces, common entities decoded. */
    static String html(String html) {
        String t = HtmlMarkup.dropTags(HtmlMarkup.dropCommentsAndScripts(html));
        if (t.indexOf('&') < 0) {
            return t;
        }
        StringBuilder out = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            // the ';' looked for within an entity's length only: a part of a million '&' is read once
            int semi = c == '&' ? t.substring(i, Math.min(t.length(), i + 11)).indexOf(';') : -1;
            semi = semi < 0 ? -1 : i + semi;
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
            // what mass mail uses most besides those, so that previews and searches read as shown
            case "zwnj", "zwj", "shy" -> "";
            case "ensp", "emsp", "thinsp" -> " ";
            case "ndash" -> "\u2013";
            case "mdash" -> "\u2014";
            case "hellip" -> "\u2026";
            case "lsquo" -> "\u2018";
            case "rsquo" -> "\u2019";
            case "ldquo" -> "\u201C";
            case "rdquo" -> "\u201D";
            case "laquo" -> "\u00AB";
            case "raquo" -> "\u00BB";
            case "bull" -> "\u2022";
            case "middot" -> "\u00B7";
            case "copy" -> "\u00A9";
            case "reg" -> "\u00AE";
            case "trade" -> "\u2122";
            case "euro" -> "\u20AC";
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

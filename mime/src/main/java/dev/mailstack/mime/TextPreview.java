package dev.mailstack.mime;

import java.io.IOException;
import java.util.Locale;

/**
 * A short plain-text preview of a message (IMAP PREVIEW, RFC 8970): the start of the first text
 * part a reader would see, decoded and with its white space collapsed. Only a bounded prefix of
 * that part is read, found by the offsets of the summary stored at delivery, so a preview costs
 * one small read and no MIME parse however large the message. Text a reply quotes ('>' lines,
 * HTML blockquotes) is left out when there is other text, as Dovecot's snippets do: a preview
 * shows what is new.
 */
public final class TextPreview {
    /** RFC 8970 §3: a preview is at most 256 characters. */
    public static final int MAX_CHARS = 256;
    /** Encoded octets read first: plenty for 256 characters of plain text in any charset and encoding. */
    static final int FIRST_READ = 8 * 1024;
    /**
     * Read at most, when markup (a long &lt;style&gt; block, inline CSS) or a long quote leaves too
     * little text in the first read; the preview is then built from what this much holds.
     */
    static final int MAX_READ = 64 * 1024;

    private TextPreview() {
    }

    /**
     * The preview text: empty when the message has no text part to take it from (RFC 8970 §3.1: no
     * meaningful preview is the zero-length string, not NIL) or when that part is blank.
     */
    public static String of(MessageSummary summary, ContentSource content) throws IOException {
        try {
            return fromTextPart(summary, content);
        } catch (RuntimeException e) {
            // mail is hostile input and never escapes as an exception (the parser's rule): a message
            // this code cannot make a preview of has none, and its session goes on
            return "";
        }
    }

    private static String fromTextPart(MessageSummary summary, ContentSource content) throws IOException {
        MessageSummary.Part part = textPart(summary.root());
        if (part == null || part.bodySize() == 0) {
            return "";
        }
        for (long read = FIRST_READ; ; read = Math.min(read * 4, MAX_READ)) {
            long length = Math.min(read, part.bodySize());
            boolean cut = length < part.bodySize();
            Texts texts = texts(part, content.read(part.bodyOffset(), length), cut);
            if (!cut || texts.fresh().length() >= MAX_CHARS || read >= MAX_READ) {
                return texts.fresh().isEmpty() ? texts.all() : texts.fresh();
            }
        }
    }

    /** A prefix's text, collapsed: without what it quotes, and all of it. */
    private record Texts(String fresh, String all) {
    }

    /**
     * The part a mail reader shows first: the first text/plain or text/html part that is not an
     * attachment, depth first; in a multipart/alternative (RFC 2046 §5.1.4) the plain version when
     * there is one. An enclosed message/rfc822 is an attachment of its own and is not looked into.
     * Null when there is none.
     */
    static MessageSummary.Part textPart(MessageSummary.Part p) {
        if (p.isMultipart()) {
            MessageSummary.Part html = null;
            boolean alternative = p.subtype().equals("alternative");
            for (MessageSummary.Part child : p.children()) {
                MessageSummary.Part t = textPart(child);
                if (t == null) {
                    continue;
                }
                if (!alternative || !isHtml(t)) {
                    return t;
                }
                html = html == null ? t : html;
            }
            return html;
        }
        if (p.isMessage() || !p.isText() || (!p.subtype().equals("plain") && !isHtml(p))) {
            return null;
        }
        boolean attachment = p.disposition() != null
                && p.disposition().type().toLowerCase(Locale.ROOT).equals("attachment");
        return attachment ? null : p;
    }

    private static boolean isHtml(MessageSummary.Part p) {
        return p.subtype().equals("html");
    }

    /** The texts of the first octets of a part's body; {@code cut}: the body goes on after them. */
    private static Texts texts(MessageSummary.Part part, byte[] raw, boolean cut) {
        String encoding = part.encoding() == null ? "" : part.encoding().strip().toLowerCase(Locale.ROOT);
        int length = raw.length;
        if (cut && encoding.equals("quoted-printable")) {
            // An escape ("=E4") or soft break cut in two would come out as literal text: end at a line.
            int lf = lastIndexOf(raw, length, (byte) '\n');
            length = lf < 0 ? length : lf + 1;
        }
        byte[] decoded = TransferEncoding.decode(java.util.Arrays.copyOf(raw, length), encoding);
        String charset = part.params().get("charset");
        int end = decoded.length;
        if (cut && (charset == null || MailCharset.lookup(charset).map(c -> c.name().equals("UTF-8")).orElse(true)
                || charset.equalsIgnoreCase("us-ascii"))) {
            // A character cut at the end would make the octets invalid UTF-8, and a guess then take
            // them for GB18030; a known charset would end in U+FFFD, dropped below.
            end = completeUtf8(decoded, end);
        }
        String text = MailCharset.decode(decoded, 0, end, charset);
        if (cut) {
            text = stripTrailing(text, '\uFFFD');
        }
        if (!isHtml(part)) {
            return new Texts(collapse(withoutQuotedLines(text)), collapse(text));
        }
        // markup that holds no text a reader sees: comments, styles and scripts (left open when the
        // prefix ends inside one), and the head with its title (only when closed: HTML may omit
        // the end tag, and then the body would go with it); then a tag cut off by the prefix's end
        text = HtmlMarkup.dropInvisible(text);
        if (cut) {
            text = HtmlMarkup.dropOpenTagAtEnd(text);
        }
        return new Texts(collapse(TextExtractor.html(HtmlMarkup.dropBlockquotes(text))), collapse(TextExtractor.html(text)));
    }

    /** Plain text without the lines a reply quotes: those starting with '>' (after blanks). */
    static String withoutQuotedLines(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int start = 0; start < text.length(); ) {
            int lf = text.indexOf('\n', start);
            int end = lf < 0 ? text.length() : lf + 1;
            int first = start;
            while (first < end && (text.charAt(first) == ' ' || text.charAt(first) == '\t')) {
                first++;
            }
            if (first == end || text.charAt(first) != '>') {
                out.append(text, start, end);
            }
            start = end;
        }
        return out.toString();
    }

    /**
     * The text as one line of at most {@link #MAX_CHARS}: runs of white space (line ends, tabs,
     * no-break spaces) become one space, controls and invisible format characters (zero-width
     * joiners, soft hyphens, which mass mail pads its preheaders with) go, and the ends are
     * trimmed. A cut never splits a surrogate pair, so the count holds in chars and code points.
     */
    static String collapse(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_CHARS + 1));
        boolean space = false;
        for (int i = 0; i < text.length() && out.length() < MAX_CHARS; ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                space = !out.isEmpty();
                continue;
            }
            int type = Character.getType(cp);
            if (type == Character.CONTROL || type == Character.FORMAT || cp == 0x034F) { // U+034F: grapheme joiner
                continue;
            }
            int room = MAX_CHARS - out.length() - (space ? 1 : 0);
            if (Character.charCount(cp) > room) {
                break;
            }
            if (space) {
                out.append(' ');
                space = false;
            }
            out.appendCodePoint(cp);
        }
        return out.toString();
    }

    /** The length without an incomplete UTF-8 sequence at the end (at most 3 octets are dropped). */
    private static int completeUtf8(byte[] b, int end) {
        for (int back = 1; back <= 3 && end - back >= 0; back++) {
            int c = b[end - back] & 0xff;
            if (c < 0x80) {
                return end; // ASCII: nothing is open
            }
            if (c >= 0xC0) { // a lead byte: does its sequence fit in what follows it?
                int need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
                return need > back ? end - back : end;
            }
        }
        return end;
    }

    private static String stripTrailing(String s, char c) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == c) {
            end--;
        }
        return s.substring(0, end);
    }

    private static int lastIndexOf(byte[] b, int end, byte value) {
        for (int i = end - 1; i >= 0; i--) {
            if (b[i] == value) {
                return i;
            }
        }
        return -1;
    }
}

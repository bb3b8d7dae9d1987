package dev.mailstack.mime;

import java.io.IOException;
import java.util.regex.Pattern;

/**
 * The decoded text of a message for SEARCH BODY/TEXT: every text/* part (and those of enclosed
 * messages) with its transfer encoding and charset undone, HTML tags dropped. Bounded per part.
 */
public final class TextExtractor {
    /** Text read from one part at most; enough for search, bounded for hostile messages. */
    public static final int MAX_PART_BYTES = 4 * 1024 * 1024;
    private static final Pattern TAG = Pattern.compile("<[^>]{0,2000}>");
    private static final Pattern ENTITY_SPACE = Pattern.compile("&nbsp;");

    private TextExtractor() {
    }

    public static String bodyText(MessageSummary summary, ContentSource content) throws IOException {
        StringBuilder out = new StringBuilder();
        collect(summary.root(), content, out, true);
        return out.toString();
    }

    private static void collect(MessageSummary.Part p, ContentSource content, StringBuilder out, boolean top)
            throws IOException {
        if (p.isMultipart()) {
            for (MessageSummary.Part c : p.children()) {
                collect(c, content, out, false);
            }
            return;
        }
        if (p.isMessage()) {
            MessageSummary.Envelope e = p.embedded().envelope();
            out.append(' ').append(nz(Rfc2047.decode(e.subject()))).append(' ').append(nz(Rfc2047.decode(e.from()))).append('\n');
            collect(p.embedded().root(), content, out, false);
            return;
        }
        if (!p.isText()) {
            return;
        }
        byte[] raw = content.read(p.bodyOffset(), Math.min(p.bodySize(), MAX_PART_BYTES));
        byte[] decoded = TransferEncoding.decode(raw, p.encoding());
        String text = MailCharset.decode(decoded, 0, decoded.length, p.params().get("charset"));
        if (p.subtype().equals("html")) {
            text = ENTITY_SPACE.matcher(TAG.matcher(text).replaceAll(" ")).replaceAll(" ");
        }
        out.append(text).append('\n');
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}

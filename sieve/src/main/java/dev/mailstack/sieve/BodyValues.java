package dev.mailstack.sieve;

import dev.mailstack.mime.MailCharset;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.TextExtractor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The strings a body test matches (RFC 5173 §5), one per transform: read from the stored message
 * through its MIME summary when a body test first asks, and kept for the rest of the run (a script
 * may test the body many times). One instance per run.
 *
 * <p>Bounded, as §7 asks: :raw and each part are read for at most {@link #MAX_PART_BYTES} octets,
 * so a longer body or part is matched on its start (as IMAP SEARCH reads it). The text of all parts
 * together is at most {@link #MAX_TOTAL_CHARS} characters: a part reached after that is not read
 * and matches as the empty string, so {@code :contains ""} still finds it but no text in it does.
 * A message's stored octets cannot be read: {@link UncheckedIOException}, for the caller to try
 * the delivery again rather than filter on half a message.
 */
final class BodyValues {
    /** Octets read of one part, or of the whole body for :raw: what SEARCH reads of a part. */
    static final int MAX_PART_BYTES = TextExtractor.MAX_PART_BYTES;
    /** Characters of part text kept for one message: two full parts' worth. */
    static final long MAX_TOTAL_CHARS = 2L * MAX_PART_BYTES;

    private final MessageBody body;
    private Boolean hasBody;
    private List<String> raw;
    private List<String> text;
    private final Map<MessageSummary.Part, String> contents = new IdentityHashMap<>();
    private long chars;

    BodyValues(MessageBody body) {
        this.body = body;
    }

    /** §5.1: the body's octets as they are, MIME structure and transfer encodings and all. */
    List<String> raw() {
        if (raw == null) {
            MessageSummary.Part root = body.summary().root();
            long size = Math.min(root.bodySize(), MAX_PART_BYTES);
            raw = !hasBody() ? List.of() : List.of(decodeRaw(read(root.bodyOffset(), size)));
        }
        return raw;
    }

    /**
     * §5.3: our best effort at the message's text: every text part, in and out of multiparts and
     * enclosed messages, decoded, with HTML turned into text as IMAP SEARCH does. One value per
     * part, so a key never matches across two parts (as §5.2 asks of :content).
     */
    List<String> text() {
        if (text == null) {
            List<String> out = new ArrayList<>();
            if (hasBody()) {
                for (MessageSummary.Part p : parts()) {
                    if (p.isText()) {
                        out.add(within(() -> TextExtractor.partText(p, body.content(), partBytes())));
                    }
                }
            }
            text = out;
        }
        return text;
    }

    /**
     * §5.2: the content of each part whose type one of {@code types} names, found by walking into
     * multiparts and enclosed messages: a leaf's decoded body, a multipart's preamble and
     * epilogue, an enclosed message's header.
     */
    List<String> content(List<String> types) {
        List<String> out = new ArrayList<>();
        if (!hasBody()) {
            return out;
        }
        for (MessageSummary.Part p : parts()) {
            if (types.stream().anyMatch(t -> typeMatches(t, p))) {
                String known = contents.get(p);
                if (known == null) {
                    known = within(() -> TextExtractor.partContent(p, body.content(), partBytes()));
                    contents.put(p, known);
                }
                out.add(known);
            }
        }
        return out;
    }

    /**
     * §5.2: "" names every type; "type" any subtype of it; "type/subtype" that one (case does not
     * matter, RFC 2045 §5.1); a name that begins or ends with '/', or has two, names none.
     */
    static boolean typeMatches(String wanted, MessageSummary.Part part) {
        if (wanted.isEmpty()) {
            return true;
        }
        int slash = wanted.indexOf('/');
        if (slash < 0) {
            return wanted.equalsIgnoreCase(part.type());
        }
        if (slash == 0 || slash == wanted.length() - 1 || wanted.indexOf('/', slash + 1) >= 0) {
            return false;
        }
        return wanted.toLowerCase(Locale.ROOT).equals((part.type() + "/" + part.subtype()).toLowerCase(Locale.ROOT));
    }

    /** Every part in message order: a multipart before its parts, a message/rfc822 part before its enclosed message's. */
    private List<MessageSummary.Part> parts() {
        List<MessageSummary.Part> out = new ArrayList<>();
        walk(body.summary().root(), out);
        return out;
    }

    private static void walk(MessageSummary.Part p, List<MessageSummary.Part> out) {
        out.add(p);
        for (MessageSummary.Part child : p.children()) {
            walk(child, out);
        }
        if (p.isMessage()) {
            walk(p.embedded().root(), out);
        }
    }

    /**
     * §4: a message whose header is not followed by an empty line has no body at all, and every
     * body test is false (a header then an empty line has the empty body, which "" matches).
     */
    private boolean hasBody() {
        if (hasBody == null) {
            MessageSummary.Part root = body.summary().root();
            int n = (int) Math.min(4, root.headerSize());
            byte[] end = read(root.headerOffset() + root.headerSize() - n, n);
            // the header ends in an empty line: LF or CRLF right after a line break, or at the very
            // start when the header is nothing but that line
            int i = end.length - 1;
            if (i < 0 || end[i] != '\n') {
                hasBody = false;
            } else {
                i -= i > 0 && end[i - 1] == '\r' ? 2 : 1;
                hasBody = i < 0 ? n == root.headerSize() : end[i] == '\n';
            }
        }
        return hasBody;
    }

    /** What the next part may read: the per-part limit, less once the message's text is nearly used up. */
    private int partBytes() {
        return (int) Math.max(0, Math.min(MAX_PART_BYTES, MAX_TOTAL_CHARS - chars));
    }

    @FunctionalInterface
    private interface Read {
        String get() throws IOException;
    }

    private String within(Read read) {
        if (partBytes() == 0) {
            return "";
        }
        try {
            String s = read.get();
            long room = MAX_TOTAL_CHARS - chars;
            if (s.length() > room) {
                // a section read can decode to a little more text than its octets (a header's ": "),
                // and a multipart reads two: cut, so the total holds exactly
                int cut = (int) room;
                s = s.substring(0, cut > 0 && Character.isHighSurrogate(s.charAt(cut - 1)) ? cut - 1 : cut);
            }
            chars += s.length();
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the message body", e);
        }
    }

    private byte[] read(long offset, long length) {
        try {
            return body.content().read(offset, length);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the message body", e);
        }
    }

    /** §5.1 compares octets; as text they are UTF-8 when valid, else guessed as header values are. */
    private static String decodeRaw(byte[] octets) {
        return MailCharset.guess(octets, 0, octets.length, MailCharset.DEFAULT_FALLBACK);
    }
}

package dev.mailstack.mime;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one streaming pass behind {@link MessageSummary#parse}: reads lines (keeping at most
 * {@link #KEEP} bytes of each, so memory stays flat for any message), tracks absolute offsets,
 * and builds the part tree. Boundaries of every enclosing multipart end a part, so a missing
 * close delimiter or a truncated message still yields a usable structure.
 */
final class MimeParser {
    /** Bytes of a line kept for analysis; longer lines are counted, not kept. */
    static final int KEEP = 8192;
    private static final byte[] EMPTY = new byte[0];
    private static final int READ_BUFFER = 8 * 1024;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long LF_OCTETS = 0x0a0a_0a0a_0a0a_0a0aL;
    private static final long ONE_OCTETS = 0x0101_0101_0101_0101L;
    private static final long HIGH_BITS = 0x8080_8080_8080_8080L;

    /** A line: where it starts, its full length with terminator, the terminator length, and its kept head. */
    private record Line(long start, long length, int terminator, byte[] head, int headLength, long lfBefore) {
        /** LFs before the end of this line. */
        long lfAfter() {
            return lfBefore + (terminator > 0 ? 1 : 0);
        }

        long end() {
            return start + length;
        }

        boolean blank() {
            return length - terminator == 0;
        }

        String text() {
            return new String(head, 0, headLength, StandardCharsets.ISO_8859_1);
        }
    }

    private final InputStream in;
    private final MimeLimits limits;
    /** Read buffer; see {@link #readBuffer}. */
    private final byte[] buf;
    /** The kept head of the current line; grows up to KEEP as long lines come (most are short). */
    private byte[] scratch = new byte[256];
    /** LF octets read so far: line counts are LFs between two offsets, as Dovecot counts them. */
    private long lfs;
    /** True while a header is read, when every line's bytes are kept. */
    private boolean inHeader;
    private int pos;
    private int lim;
    private long offset;
    private Line pushedBack;
    /** The cut after the last line {@link #skipPlain} passed. */
    private long skippedCutEnd;
    private long skippedCutLf;
    private boolean eightBit;
    private int parts;
    /** The top-level header as read, while it stays under MessageSummary.MAX_KEPT_HEADER; null past it. */
    private java.io.ByteArrayOutputStream rootHeader = new java.io.ByteArrayOutputStream(1024);
    private boolean capturing = true;

    MimeParser(InputStream in, MimeLimits limits) throws IOException {
        this.in = in;
        this.limits = limits;
        this.buf = readBuffer(in);
    }

    /**
     * A read buffer no larger than the input when the stream knows its length (a message in
     * memory, a spool file), else 8 KiB. Messages are parsed one per delivery, each with a parser
     * of its own, so the buffers were most of what a parse allocated (issue 4: 16 KiB plus 8 KiB
     * for a typical 20 KB message).
     */
    private static byte[] readBuffer(InputStream in) throws IOException {
        int left = in.available();
        return new byte[left > 0 && left < READ_BUFFER ? left : READ_BUFFER];
    }

    MessageSummary.ParsedMessage parse() throws IOException {
        Built root = part(0, List.of(), 0, false);
        byte[] header = rootHeader == null ? null : rootHeader.toByteArray();
        // drain anything left (text after a stray boundary) so the size is exact
        while (true) {
            if (skipPlain(false)) {
                root.extendTo(offset, lfs);
            }
            Line l = next();
            if (l == null) {
                break;
            }
            root.extendTo(l.end(), l.lfAfter());
        }
        long size = offset;
        MessageSummary.Part r = root.build(size);
        return new MessageSummary.ParsedMessage(size, r.headerSize(), r.bodyLines(), eightBit,
                root.headers.containsKey("mime-version"),
                new MessageSummary(root.envelope(), r, header != null && header.length == r.headerSize() ? header : null));
    }

    /** A part under construction. */
    private final class Built {
        final long start;
        final Map<String, String> headers = new LinkedHashMap<>();
        long bodyStart;
        long bodyStartLf;
        /** Where the body ends, and the LFs before that point; -1 while it runs to the current end. */
        long bodyEnd = -1;
        long bodyEndLf = -1;
        boolean explicitType;
        HeaderValue type;
        final List<MessageSummary.Part> children = new ArrayList<>();
        MessageSummary embedded;

        Built(long start) {
            this.start = start;
        }

        /** Text beyond the structure, up to {@code end}, belongs to the body of the top-level message. */
        void extendTo(long end, long lfAfter) {
            bodyEnd = Math.max(bodyEnd, end);
            bodyEndLf = Math.max(bodyEndLf, lfAfter);
        }

        void startBody(long at, long lfBefore) {
            bodyStart = at;
            bodyStartLf = lfBefore;
        }

        /** The body ends at a cut (RFC 2046 §5.1.1: not counting the CRLF that belongs to the boundary). */
        void endAt(Cut cut) {
            bodyEnd = Math.max(bodyStart, cut.end());
            bodyEndLf = Math.max(bodyStartLf, cut.lf());
        }

        void endHere() {
            bodyEnd = offset;
            bodyEndLf = lfs;
        }

        /** RFC 3501 §7.4.2 body lines, counted as Dovecot does: the LFs inside the body. */
        long lines() {
            return (bodyEnd < 0 ? lfs : bodyEndLf) - bodyStartLf;
        }

        MessageSummary.Envelope envelope() {
            return new MessageSummary.Envelope(headers.get("date"), headers.get("subject"), headers.get("from"),
                    headers.get("sender"), headers.get("reply-to"), headers.get("to"), headers.get("cc"),
                    headers.get("bcc"), headers.get("in-reply-to"), headers.get("message-id"));
        }

        MessageSummary.Part build(long totalSize) {
            long end = bodyEnd < 0 ? totalSize : bodyEnd;
            HeaderValue disposition = headers.containsKey("content-disposition")
                    ? HeaderValue.parse(headers.get("content-disposition"), limits.maxParamsPerHeader()) : null;
            String language = headers.get("content-language");
            String[] ts = split(type.value());
            return new MessageSummary.Part(ts[0], ts[1], type.params(), headers.get("content-id"),
                    headers.get("content-description"), encoding(), headers.get("content-md5"),
                    disposition == null || disposition.value().isEmpty() ? null
                            : new MessageSummary.Disposition(disposition.value(), disposition.params()),
                    languages(language), headers.get("content-location"),
                    start, bodyStart - start, bodyStart, Math.max(0, end - bodyStart), lines(), explicitType, children, embedded);
        }

        /**
         * Content-Language's tags (RFC 3282 §2: a comma-separated list), at most as many as a header
         * may have parameters. Split by hand: the regular expression split before backtracked over
         * a run of white space, minutes for one folded header of spaces (a hostile message stalled intake).
         */
        private List<String> languages(String value) {
            if (value == null) {
                return List.of();
            }
            List<String> tags = new ArrayList<>();
            for (int start = 0; start <= value.length() && tags.size() < limits.maxParamsPerHeader(); ) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String tag = value.substring(start, end).strip();
                if (!tag.isEmpty()) {
                    tags.add(tag);
                }
                start = end + 1;
            }
            return List.copyOf(tags);
        }

        String encoding() {
            String e = headers.get("content-transfer-encoding");
            return e == null || e.isBlank() ? "7bit" : e.strip().toLowerCase(Locale.ROOT);
        }
    }

    private static String[] split(String type) {
        int slash = type.indexOf('/');
        if (slash <= 0 || slash == type.length() - 1) {
            return new String[]{"text", "plain"};
        }
        return new String[]{type.substring(0, slash).strip(), type.substring(slash + 1).strip()};
    }

    /**
     * Parses a part starting at {@code start}. {@code boundaries} are the enclosing multipart
     * boundaries, innermost first; a line matching any of them ends this part (it is pushed back).
     */
    private Built part(long start, List<String> boundaries, int depth, boolean inDigest) throws IOException {
        parts++;
        Built b = new Built(start);
        readHeader(b, boundaries);
        String ct = b.headers.get("content-type");
        b.explicitType = ct != null;
        HeaderValue type = ct == null ? null : HeaderValue.parse(ct, limits.maxParamsPerHeader());
        if (type == null || type.value().indexOf('/') <= 0) {
            // RFC 2045 §5.2 default; RFC 2046 §5.1.5: in multipart/digest the default is message/rfc822
            type = new HeaderValue(inDigest ? "message/rfc822" : "text/plain",
                    inDigest ? Map.of() : Map.of("charset", "us-ascii"));
        }
        if (type.value().startsWith("text/") && !type.params().containsKey("charset")) {
            // RFC 2046 §4.1.2: text without a charset is us-ascii; Dovecot lists it that way too,
            // after the parameters there are ("format" "flowed" "charset" "us-ascii")
            Map<String, String> params = new LinkedHashMap<>(type.params());
            params.put("charset", "us-ascii");
            type = new HeaderValue(type.value(), java.util.Collections.unmodifiableMap(params));
        }
        b.type = type;
        String boundary = type.params().get("boundary");
        boolean withinLimits = depth < limits.maxDepth() && parts < limits.maxParts();
        if (type.value().startsWith("multipart/") && boundary != null && !boundary.isEmpty() && withinLimits) {
            multipart(b, boundary, boundaries, depth, type.value().equals("multipart/digest"));
        } else if (type.value().equals("message/rfc822") && withinLimits && !"base64".equals(b.encoding())
                && !"quoted-printable".equals(b.encoding())) {
            Built inner = part(b.bodyStart, boundaries, depth + 1, false);
            MessageSummary.Part innerPart = inner.build(offset);
            b.embedded = new MessageSummary(inner.envelope(), innerPart);
            b.bodyEnd = innerPart.bodyOffset() + innerPart.bodySize();
            b.bodyEndLf = inner.bodyEnd < 0 ? lfs : inner.bodyEndLf;
        } else {
            if (type.value().startsWith("multipart/") || type.value().equals("message/rfc822") && !withinLimits) {
                // no usable boundary, or past a limit: one text part (R6), so imapd never prints a
                // message/rfc822 without the envelope and body RFC 3501 §7.4.2 requires with it
                b.type = new HeaderValue("text/plain", Map.of("charset", "us-ascii"));
            }
            leaf(b, boundaries);
        }
        return b;
    }

    private void readHeader(Built b, List<String> boundaries) throws IOException {
        boolean root = b.start == 0 && capturing;
        String name = null;
        StringBuilder value = new StringBuilder();
        long headerBytes = 0;
        inHeader = true;
        while (true) {
            Line l = next();
            if (l == null) {
                b.startBody(offset, lfs);
                break;
            }
            if (isBoundary(l, boundaries) != null) {
                pushedBack = l;
                b.startBody(l.start(), l.lfBefore());
                break;
            }
            if (root) {
                keep(l);
            }
            if (l.blank()) {
                b.startBody(l.end(), l.lfAfter());
                break;
            }
            String text = decodeHeaderLine(l);
            if (text.startsWith(" ") || text.startsWith("\t")) {
                if (name != null && headerBytes < limits.maxHeaderBytes()) {
                    value.append(text); // RFC 5322 §2.2.3: unfolding removes only the CRLF
                }
            } else {
                int colon = text.indexOf(':');
                boolean valid = colon > 0 && isFieldName(text, colon);
                if (!valid) {
                    // not a header line: the body starts here, without the blank line
                    if (root) {
                        rootHeader = null; // it was kept as header above; the summary goes without
                    }
                    pushedBack = l;
                    b.startBody(l.start(), l.lfBefore());
                    break;
                }
                store(b, name, value);
                value.setLength(0);
                if (headerBytes >= limits.maxHeaderBytes()) {
                    name = null; // past the limit (R6) the header is read to its end but nothing more is kept
                } else {
                    name = text.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                    value.append(text, colon + 1, text.length());
                }
            }
            headerBytes += l.length();
        }
        inHeader = false;
        store(b, name, value);
        if (root) {
            capturing = false;
        }
    }

    /** RFC 5322 §3.6.8: printable US-ASCII but ':' (white space before the colon is tolerated). */
    private static boolean isFieldName(String text, int colon) {
        int from = 0;
        int to = colon;
        while (from < to && Character.isWhitespace(text.charAt(from))) {
            from++;
        }
        while (to > from && Character.isWhitespace(text.charAt(to - 1))) {
            to--;
        }
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c <= 32 || c >= 127) {
                return false;
            }
        }
        return true;
    }

    /** Adds a root header line to the kept copy; lines cut at KEEP or a big header drop the copy. */
    private void keep(Line l) {
        if (rootHeader == null) {
            return;
        }
        if (l.length() > l.headLength() + l.terminator() || rootHeader.size() + l.length() > MessageSummary.MAX_KEPT_HEADER) {
            rootHeader = null;
            return;
        }
        rootHeader.write(l.head(), 0, l.headLength());
        if (l.terminator() == 2) {
            rootHeader.write('\r');
        }
        if (l.terminator() >= 1) {
            rootHeader.write('\n');
        }
    }

    private void store(Built b, String name, StringBuilder value) {
        if (name != null) {
            b.headers.putIfAbsent(name, value.toString().strip());
        }
    }

    /** Header text: valid UTF-8 (RFC 6532) as UTF-8, other raw 8-bit with the fallback charset. */
    private String decodeHeaderLine(Line l) {
        int len = l.headLength();
        byte[] h = l.head();
        for (int i = 0; i < len; i++) {
            if (h[i] < 0) {
                return MailCharset.guess(h, 0, len, MailCharset.DEFAULT_FALLBACK);
            }
        }
        return new String(h, 0, len, StandardCharsets.ISO_8859_1);
    }

    private void multipart(Built b, String boundary, List<String> outer, int depth, boolean digest) throws IOException {
        List<String> active = new ArrayList<>();
        active.add(boundary);
        active.addAll(outer);
        boolean closed = false;
        Cut cut = new Cut(b.bodyStart, b.bodyStartLf);
        Line l;
        while (true) {
            if (skipPlain(true)) {
                cut = skippedCut();
            }
            if ((l = next()) == null) {
                break;
            }
            String match = isBoundary(l, active);
            if (match == null) {
                cut = Cut.before(l);
                continue;
            }
            if (!match.equals(boundary)) {
                pushedBack = l; // an outer boundary: this multipart ends unclosed
                b.endAt(cut);
                return;
            }
            cut = Cut.before(l);
            if (isClose(l, boundary)) {
                closed = true;
                break;
            }
            if (parts >= limits.maxParts()) {
                // over the limit (R6): the rest of this multipart is one text part without a header,
                // ending only at an enclosing boundary, so the message is still stored and served
                parts++;
                Built rest = new Built(l.end());
                rest.startBody(l.end(), l.lfAfter());
                rest.type = new HeaderValue("text/plain", Map.of("charset", "us-ascii"));
                leaf(rest, outer);
                b.children.add(rest.build(childEnd(rest)));
                if (rest.bodyEnd < 0) {
                    rest.endHere();
                }
                b.endAt(new Cut(rest.bodyEnd, rest.bodyEndLf));
                return;
            }
            Built child = part(l.end(), active, depth + 1, digest);
            b.children.add(child.build(childEnd(child)));
            cut = child.bodyEnd < 0 ? new Cut(offset, lfs) : new Cut(child.bodyEnd, child.bodyEndLf);
        }
        if (closed) {
            toBoundary(b, outer, cut); // the epilogue
        } else {
            b.endHere();
        }
    }

    /**
     * Where a body would end if a boundary line came next, and the LFs before that point: before
     * the last line's line end (RFC 2046 §5.1.1: that CRLF is part of the boundary).
     */
    private record Cut(long end, long lf) {
        static Cut before(Line l) {
            return new Cut(l.end() - l.terminator(), l.lfBefore());
        }
    }

    /** Where a child part ended: before the CRLF that precedes the next boundary line (RFC 2046 §5.1.1). */
    private long childEnd(Built child) {
        return child.bodyEnd >= 0 ? child.bodyEnd : offset;
    }

    private void leaf(Built b, List<String> boundaries) throws IOException {
        toBoundary(b, boundaries, new Cut(b.bodyStart, b.bodyStartLf));
    }

    /**
     * Reads on to a line that is one of {@code boundaries}, pushed back for the caller, or to the
     * end; {@code b} ends at the cut before that line, or here. {@code cut} is where it would end
     * if the boundary came next.
     */
    private void toBoundary(Built b, List<String> boundaries, Cut cut) throws IOException {
        Line l;
        while (true) {
            if (skipPlain(!boundaries.isEmpty())) {
                cut = skippedCut();
            }
            if ((l = next()) == null) {
                b.endHere();
                return;
            }
            if (isBoundary(l, boundaries) != null) {
                pushedBack = l;
                b.endAt(cut);
                return;
            }
            cut = Cut.before(l);
        }
    }

    /** The boundary (of those given) that the line is a delimiter for, or null. */
    private static String isBoundary(Line l, List<String> boundaries) {
        if (boundaries.isEmpty() || l.headLength() < 3 || l.head()[0] != '-' || l.head()[1] != '-') {
            return null;
        }
        String text = l.text();
        for (String b : boundaries) {
            if (text.startsWith(b, 2)) {
                String rest = text.substring(2 + b.length());
                if (rest.isBlank() || (rest.startsWith("--") && rest.substring(2).isBlank())) {
                    return b;
                }
            }
        }
        return null;
    }

    private static boolean isClose(Line l, String boundary) {
        String rest = l.text().substring(2 + boundary.length());
        return rest.startsWith("--");
    }

    // --- lines

    /**
     * Passes over body lines that cannot be a delimiter line, without making a {@link Line} of
     * each: only octets, LFs and 8-bit octets are counted. Most of a message is such lines (base64,
     * text), so this loop is where the parse spends its time (issue 4). A delimiter starts with
     * "--" (RFC 2046 §5.1.1), so with {@code stopAtDash} it stops at the start of a line beginning
     * with '-' and leaves that line to {@link #next()}; without it, it runs to the end of input.
     * True when it passed at least one line; {@link #skippedCut()} is then where a body would end
     * if a delimiter came next.
     */
    private boolean skipPlain(boolean stopAtDash) throws IOException {
        if (pushedBack != null) {
            return false;
        }
        boolean passed = false;
        boolean lineStart = true;
        long lineLfBefore = lfs;
        byte last = 0;
        while (true) {
            if (pos == lim) {
                lim = in.read(buf, 0, buf.length);
                pos = 0;
                if (lim <= 0) {
                    lim = 0;
                    if (!lineStart) { // a last line without a line end
                        skippedCutEnd = offset;
                        skippedCutLf = lineLfBefore;
                        passed = true;
                    }
                    return passed;
                }
            }
            if (lineStart) {
                if (stopAtDash && buf[pos] == '-') {
                    return passed;
                }
                lineStart = false;
                lineLfBefore = lfs;
                last = 0;
            }
            int from = pos;
            int end = lim;
            int i = lineFeed(from, end);
            if (i > from) {
                last = buf[i - 1];
            }
            offset += i - from;
            pos = i;
            if (i < end) {
                pos++;
                offset++;
                // as Cut.before(line): before the line end, which is CRLF or a bare LF
                skippedCutEnd = offset - (last == '\r' ? 2 : 1);
                skippedCutLf = lfs;
                lfs++;
                lineStart = true;
                passed = true;
            }
        }
    }

    /**
     * The index of the first LF in buf[from, end), or end; notes 8-bit octets on the way. Eight
     * octets at a time (the "has a zero byte" test on the word XOR LFs): body lines average
     * 60-80 octets, and a loop over single bytes was most of a parse. An octet after the LF in
     * the same word is checked for the high bit early; it is read again with its own line, so
     * the result is the same.
     */
    private int lineFeed(int from, int end) {
        int i = from;
        long high = 0;
        for (; i + Long.BYTES <= end; i += Long.BYTES) {
            long word = (long) LONGS.get(buf, i);
            high |= word;
            long x = word ^ LF_OCTETS;
            long lf = (x - ONE_OCTETS) & ~x & HIGH_BITS; // lowest set bit: the first LF (little endian)
            if (lf != 0) {
                i += Long.numberOfTrailingZeros(lf) >>> 3;
                noteEightBit(high);
                return i;
            }
        }
        noteEightBit(high);
        byte seen = 0;
        while (i < end && buf[i] != '\n') {
            seen |= buf[i];
            i++;
        }
        if (seen < 0) {
            eightBit = true;
        }
        return i;
    }

    private void noteEightBit(long octets) {
        if ((octets & HIGH_BITS) != 0) {
            eightBit = true;
        }
    }

    private Cut skippedCut() {
        return new Cut(skippedCutEnd, skippedCutLf);
    }

    /**
     * The next line. Its bytes are kept (up to {@link #KEEP}) only where they are looked at: in a
     * header, and for lines that start with '-' (a possible boundary); other body lines are only
     * counted, which keeps the pass free of per-line copies.
     */
    private Line next() throws IOException {
        if (pushedBack != null) {
            Line l = pushedBack;
            pushedBack = null;
            return l;
        }
        long start = offset;
        long lfBefore = lfs;
        int headLength = 0;
        long length = 0;
        boolean keep = inHeader;
        byte last = 0;
        while (true) {
            if (pos == lim) {
                lim = in.read(buf, 0, buf.length);
                pos = 0;
                if (lim <= 0) {
                    lim = 0;
                    if (length == 0) {
                        return null;
                    }
                    return finish(start, length, 0, headLength, lfBefore);
                }
            }
            if (length == 0 && !keep) {
                keep = buf[pos] == '-';
            }
            int from = pos;
            int end = lim;
            int i = lineFeed(from, end);
            boolean found = i < end;
            int n = i - from; // bytes before the LF (or to the end of the buffer)
            if (keep && headLength < KEEP) {
                int copy = Math.min(n, KEEP - headLength);
                if (headLength + copy > scratch.length) {
                    scratch = java.util.Arrays.copyOf(scratch, Math.min(KEEP, Math.max(2 * scratch.length, headLength + copy)));
                }
                System.arraycopy(buf, from, scratch, headLength, copy);
                headLength += copy;
            }
            if (n > 0) {
                last = buf[i - 1];
            }
            length += n;
            offset += n;
            pos = i;
            if (found) {
                pos++;
                length++;
                offset++;
                lfs++;
                int term = last == '\r' && length >= 2 ? 2 : 1;
                if (term == 2 && headLength > 0 && headLength == length - 2 + 1) {
                    headLength--; // the CR was kept: drop it from the text
                }
                return finish(start, length, term, headLength, lfBefore);
            }
        }
    }

    private Line finish(long start, long length, int terminator, int headLength, long lfBefore) {
        return new Line(start, length, terminator, headLength == 0 ? EMPTY : java.util.Arrays.copyOf(scratch, headLength), headLength,
                lfBefore);
    }
}

package dev.mailstack.imapd;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.TransferEncoding;
import dev.mailstack.net.Connection;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreFailure;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.NoSuchFileException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes FETCH responses (RFC 3501 §7.4.2) from the store: metadata from the message row, ENVELOPE
 * and BODYSTRUCTURE from the summary stored at delivery ({@link StoredStructure}), and body sections
 * streamed from the content file by offset, so no message is parsed or held whole per FETCH.
 */
final class FetchResponder {
    static final DateTimeFormatter INTERNAL_DATE = DateTimeFormatter.ofPattern("dd-MMM-yyyy HH:mm:ss Z", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    /** Headers bigger than this are not filtered for HEADER.FIELDS; they are cut (a broken message). */
    static final int MAX_HEADER_BYTES = 1024 * 1024;

    private final Connection connection;
    private final MailboxStore store;
    private final SummaryCache summaries;
    /**
     * Reused by every BODY[] the session sends (allocating and zeroing one per message cost more
     * than the copy); made on first use so that a session that only idles does not carry it.
     */
    private byte[] copyBuffer;
    private static final int BATCH = 16 * 1024;
    /** FETCH responses not written yet (see {@link #write}). */
    private final StringBuilder pending = new StringBuilder();
    /** Keyed by identity: a FETCH command's items are the same objects for each of its messages. */
    private final Map<FetchItem.Section, String> sectionNames = new IdentityHashMap<>();

    FetchResponder(Connection connection, MailboxStore store, SummaryCache summaries) {
        this.connection = connection;
        this.store = store;
        this.summaries = summaries;
    }

    /** Reads the summaries of these messages in bulk when the items need them (ENVELOPE, BODYSTRUCTURE, parts). */
    void prefetch(List<MessageRef> messages, List<FetchItem> items) {
        if (needsStructure(items)) {
            summaries.load(messages);
        }
    }

    /** Items answered from the summary stored at delivery: ENVELOPE, BODYSTRUCTURE, parts, headers. */
    private static boolean needsStructure(List<FetchItem> items) {
        return items.stream().anyMatch(i -> i instanceof FetchItem.Envelope || i instanceof FetchItem.Structure
                || i instanceof FetchItem.BinarySize || i instanceof FetchItem.Preview || (i instanceof FetchItem.Section s && (!s.part().isEmpty() || s.binary() || s.text() == FetchItem.Text.HEADER
                || s.text() == FetchItem.Text.HEADER_FIELDS || s.text() == FetchItem.Text.HEADER_FIELDS_NOT)));
    }

    private StoredStructure structure(MessageRef r) {
        return summaries.structure(r);
    }

    /**
     * One "* n FETCH (...)" response; {@code seenChanged}: \Seen was just set, so FLAGS goes too.
     * Responses without a body section are gathered and written some 16 KB at a time (a FETCH of
     * FLAGS for 10,000 messages is 10,000 short lines); {@link #finish()} sends the rest.
     */
    void write(int msn, MessageRef r, List<FetchItem> items, boolean seenChanged, boolean recent, boolean utf8)
            throws IOException {
        // Read before anything of this response is written: a message swept away since this
        // session last looked then fails the FETCH cleanly instead of in the middle of its line.
        StoredStructure structure = needsStructure(items) ? structure(r) : null;
        StringBuilder text = pending;
        int lineStart = text.length();
        connection.lockOutput();
        try {
            text.append("* ").append(msn).append(" FETCH (");
            boolean first = true;
            boolean flagsSent = false;
            // RFC 3501 §6.4.8 and Thunderbird: UID comes first.
            for (FetchItem item : items) {
                if (item instanceof FetchItem.Uid) {
                    text.append("UID ").append(r.uid().value());
                    first = false;
                }
            }
            for (FetchItem item : items) {
                if (item instanceof FetchItem.Uid) {
                    continue;
                }
                if (!first) {
                    text.append(' ');
                }
                first = false;
                switch (item) {
                    case FetchItem.Uid u -> { }
                    case FetchItem.Flags f -> {
                        SelectedMailbox.appendFlagList(text.append("FLAGS "), r.flags(), recent);
                        flagsSent = true;
                    }
                    case FetchItem.InternalDate d -> text.append("INTERNALDATE \"")
                            .append(INTERNAL_DATE.format(r.internalDate())).append('"');
                    case FetchItem.Size s -> text.append("RFC822.SIZE ").append(r.size());
                    case FetchItem.ModSeq m -> text.append("MODSEQ (").append(r.modSeq()).append(')');
                    // RFC 8514 §4.2: a date-time as INTERNALDATE's; never NIL, every message has one here
                    case FetchItem.SaveDate d -> text.append("SAVEDATE \"")
                            .append(INTERNAL_DATE.format(r.savedAt())).append('"');
                    // RFC 8474 §5.1 EMAILID; §5.2 lets a server that does not thread say NIL for THREADID
                    case FetchItem.ObjectId o -> text.append(o.thread() ? "THREADID NIL"
                            : "EMAILID (" + store.emailId(r) + ")");
                    case FetchItem.Envelope e -> {
                        structure = structure == null ? structure(r) : structure;
                        text.append("ENVELOPE ").append(structure.envelope(utf8));
                    }
                    case FetchItem.Structure s -> {
                        structure = structure == null ? structure(r) : structure;
                        text.append(s.extensible() ? "BODYSTRUCTURE " : "BODY ").append(structure.bodyStructure(s.extensible()));
                    }
                    case FetchItem.BinarySize b -> {
                        structure = structure == null ? structure(r) : structure;
                        text.append("BINARY.SIZE[").append(partNumber(b.part())).append("] ")
                                .append(binarySize(r, b.part(), structure));
                    }
                    case FetchItem.Preview p -> {
                        structure = structure == null ? structure(r) : structure;
                        text.append("PREVIEW ").append(preview(r, structure, utf8));
                    }
                    case FetchItem.Section s -> {
                        text.append(responseName(s)).append(' ');
                        String start = text.toString();
                        text.setLength(0);
                        lineStart = 0; // the start of the line is on the wire
                        connection.write(start);
                        try {
                            structure = section(r, s, structure);
                        } catch (NoSuchFileException e) {
                            // Expunged by another session and swept since this one last looked
                            // (MailboxStore.sweepContents). Every section reads the file before it
                            // writes, so nothing of it is on the wire yet: the section is NIL (an
                            // nstring, RFC 3501 §7.4.2) and the session goes on.
                            connection.write("NIL");
                        } catch (StoreException e) {
                            if (e.failure() != StoreFailure.EXPUNGED) {
                                throw e;
                            }
                            connection.write("NIL"); // its facts went with it, before any of it was written
                        }
                    }
                }
            }
            if (seenChanged && !flagsSent) {
                SelectedMailbox.appendFlagList(text.append(first ? "" : " ").append("FLAGS "), r.flags(), recent);
            }
            text.append(")\r\n");
            if (text.length() >= BATCH) {
                flush();
            }
        } catch (Throwable e) {
            if (text.length() > lineStart) {
                text.setLength(lineStart); // no half response goes out later
            }
            throw e;
        } finally {
            connection.unlockOutput();
        }
    }

    /**
     * RFC 8970 §3: the preview as an nstring of UTF-8 text (a literal for 8-bit text unless the
     * client enabled UTF8=ACCEPT; RFC 3501 literals may carry it). NIL only for a message whose
     * content was swept away meanwhile, as its body sections are then.
     */
    private String preview(MessageRef r, StoredStructure structure, boolean utf8) throws IOException {
        String preview;
        try {
            preview = structure.preview(offset -> store.openContent(r, offset, Math.max(0, r.size() - offset)));
        } catch (NoSuchFileException swept) {
            return "NIL";
        }
        return ImapSyntax.string(preview, utf8);
    }

    /** Sends the responses gathered by {@link #write}; before anything else goes out. */
    void flush() throws IOException {
        if (!pending.isEmpty()) {
            String text = pending.toString();
            pending.setLength(0);
            connection.write(text);
        }
    }

    /** At the end of a FETCH: sends the rest, and an idling session keeps no batch-sized buffer. */
    void finish() throws IOException {
        try {
            flush();
        } finally {
            pending.setLength(0);
            pending.trimToSize();
        }
    }

    /** RFC 3516 §4.3: the FETCH fails with NO [UNKNOWN-CTE] when BINARY cannot undo a part's encoding. */
    static final class UnknownEncoding extends IOException {
        UnknownEncoding(String encoding) {
            super("cannot decode the Content-Transfer-Encoding \"" + encoding + "\"");
        }
    }

    /** True when the items ask for BINARY, which {@link #checkDecodable} must clear first. */
    static boolean decodes(List<FetchItem> items) {
        return items.stream().anyMatch(i -> i instanceof FetchItem.BinarySize || i instanceof FetchItem.Section s && s.binary());
    }

    /**
     * Throws {@link UnknownEncoding} if BINARY of any of these messages could not be sent. Called
     * before \Seen is set and before any response is begun, so a refused FETCH changes nothing and
     * leaves no half response on the wire.
     */
    void checkDecodable(List<MessageRef> messages, List<FetchItem> items) throws IOException {
        for (int from = 0; from < messages.size(); from += 1000) { // summaries read in bulk, as for the fetch
            List<MessageRef> chunk = messages.subList(from, Math.min(messages.size(), from + 1000));
            summaries.load(chunk);
            for (MessageRef r : chunk) {
                checkDecodable(r, items);
            }
        }
    }

    private void checkDecodable(MessageRef r, List<FetchItem> items) throws IOException {
        for (FetchItem item : items) {
            List<Integer> part = item instanceof FetchItem.BinarySize b ? b.part()
                    : item instanceof FetchItem.Section s && s.binary() ? s.part() : null;
            if (part == null) {
                continue;
            }
            StoredStructure.Range range;
            try {
                range = structure(r).section(part, FetchItem.Text.ALL);
            } catch (IllegalArgumentException noSuchPart) {
                continue; // answered as empty, like BODY[] of a missing part
            }
            String encoding = BinarySource.of(range, part).encoding();
            if (!TransferEncoding.isKnown(encoding)) {
                throw new UnknownEncoding(encoding);
            }
        }
    }

    private static String partNumber(List<Integer> part) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < part.size(); i++) {
            sb.append(i > 0 ? "." : "").append(part.get(i));
        }
        return sb.toString();
    }

    /** What BINARY[part] would send, counted without holding a large part in memory. */
    private long binarySize(MessageRef r, List<Integer> part, StoredStructure st) throws IOException {
        StoredStructure.Range range;
        try {
            range = st.section(part, FetchItem.Text.ALL);
        } catch (IllegalArgumentException noSuchPart) {
            return 0;
        }
        try {
            return decodedLength(r, BinarySource.of(range, part)).length();
        } catch (NoSuchFileException swept) {
            return 0; // expunged and swept meanwhile, as a section is NIL then
        }
    }

    /** The section's response name, built once per FETCH command rather than once per message. */
    private String responseName(FetchItem.Section s) {
        if (sectionNames.size() > 64) {
            sectionNames.clear();
        }
        return sectionNames.computeIfAbsent(s, FetchItem.Section::responseName);
    }

    /** Writes one body section as a literal; returns the structure if it had to be loaded. */
    private StoredStructure section(MessageRef r, FetchItem.Section s, StoredStructure structure) throws IOException {
        if (s.part().isEmpty() && !s.binary()) {
            switch (s.text()) {
                case ALL -> {
                    range(r, 0, r.size(), s);
                    return structure;
                }
                case HEADER, HEADER_FIELDS, HEADER_FIELDS_NOT -> {
                    // Thunderbird's header sync: from the summary read in bulk, else from the file
                    StoredStructure st = structure != null ? structure : structure(r);
                    byte[] header = st != null && st.summary().header() != null ? st.summary().header()
                            : readHeader(r, 0, r.size());
                    structure = st;
                    bytes(s.text() == FetchItem.Text.HEADER ? header : HeaderFields.filter(header, s.fields(),
                            s.text() == FetchItem.Text.HEADER_FIELDS_NOT), s);
                    return structure;
                }
                case TEXT, MIME -> { }
            }
        }
        StoredStructure st = structure == null ? structure(r) : structure;
        StoredStructure.Range range;
        try {
            range = st.section(s.part(), s.text());
        } catch (IllegalArgumentException noSuchPart) {
            bytes(new byte[0], s); // RFC 3501 allows an empty string for a part that is not there
            return st;
        }
        if (s.binary()) {
            binary(r, range, s);
        } else if (s.text() == FetchItem.Text.HEADER_FIELDS || s.text() == FetchItem.Text.HEADER_FIELDS_NOT) {
            bytes(HeaderFields.filter(readRange(r, range.start(), range.length()), s.fields(),
                    s.text() == FetchItem.Text.HEADER_FIELDS_NOT), s);
        } else {
            range(r, range.start(), range.length(), s);
        }
        return st;
    }

    private void range(MessageRef r, long start, long length, FetchItem.Section s) throws IOException {
        long from = start;
        long len = length;
        if (s.offset() != FetchItem.Section.WHOLE) {
            long skip = Math.min(s.offset(), length);
            from += skip;
            len = Math.min(length - skip, s.length());
        }
        if (len == 0) {
            connection.write("{0}\r\n");
            return;
        }
        InputStream opened = store.openContent(r, from, len); // before the literal: see write()
        connection.write("{" + len + "}\r\n");
        try (InputStream in = opened) {
            byte[] buf = copyBuffer == null ? copyBuffer = new byte[16 * 1024] : copyBuffer;
            long left = len;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IOException("message content shorter than recorded: " + r.contentKey());
                }
                replaceNuls(buf, 0, n);
                connection.write(buf, 0, n);
                left -= n;
            }
        }
    }

    /** Parts up to this size are decoded in memory; larger ones are decoded twice, to count and to send. */
    static final long BINARY_IN_MEMORY = 256 * 1024;

    /**
     * What BINARY undoes (RFC 3516 §4.2): a part's body. For BINARY[] of a message that is not
     * multipart, its header goes as stored and its body decoded; a multipart or message/* whole
     * has no transfer encoding of its own to undo and goes as stored.
     */
    private record BinarySource(long prefixStart, long prefixLength, long bodyStart, long bodyLength, String encoding) {
        static BinarySource of(StoredStructure.Range range, List<Integer> part) {
            MessageSummary.Part p = range.part();
            if (!part.isEmpty()) {
                return new BinarySource(0, 0, range.start(), range.length(), p.encoding());
            }
            if (p.isMultipart() || p.type().equals("message")) {
                return new BinarySource(range.start(), range.length(), 0, 0, "7bit");
            }
            return new BinarySource(p.headerOffset(), p.headerSize(), p.bodyOffset(), p.bodySize(), p.encoding());
        }
    }

    /** The decoded length, and the decoded octets themselves when the body is small enough to hold. */
    private record Decoded(long length, byte[] small) {
    }

    private Decoded decodedLength(MessageRef r, BinarySource b) throws IOException {
        if (b.bodyLength() <= BINARY_IN_MEMORY) {
            byte[] raw;
            try (InputStream in = store.openContent(r, b.bodyStart(), b.bodyLength())) {
                raw = in.readNBytes((int) b.bodyLength());
            }
            byte[] decoded = TransferEncoding.decode(raw, b.encoding());
            return new Decoded(b.prefixLength() + decoded.length, decoded);
        }
        try (InputStream in = store.openContent(r, b.bodyStart(), b.bodyLength())) {
            return new Decoded(b.prefixLength() + TransferEncoding.decode(in, b.encoding(), OutputStream.nullOutputStream()),
                    null);
        }
    }

    /**
     * RFC 3516 BINARY, always as a literal8 ("~{n}"): decoded octets may hold NUL, which a plain
     * literal may not (RFC 3501 CHAR8). A large body is decoded once to count and once onto the
     * wire, so memory stays flat whatever its size; every file is opened before the literal starts.
     */
    private void binary(MessageRef r, StoredStructure.Range range, FetchItem.Section s) throws IOException {
        BinarySource b = BinarySource.of(range, s.part());
        Decoded d = decodedLength(r, b);
        long from = 0;
        long len = d.length();
        if (s.offset() != FetchItem.Section.WHOLE) {
            from = Math.min(s.offset(), d.length());
            len = Math.min(d.length() - from, s.length());
        }
        InputStream prefix = b.prefixLength() == 0 ? InputStream.nullInputStream()
                : store.openContent(r, b.prefixStart(), b.prefixLength());
        try (prefix; InputStream body = d.small() != null ? InputStream.nullInputStream()
                : store.openContent(r, b.bodyStart(), b.bodyLength())) {
            connection.write("~{" + len + "}\r\n");
            OutputStream out = new Slice(connection.output(), from, len);
            prefix.transferTo(out);
            if (d.small() != null) {
                out.write(d.small());
            } else {
                TransferEncoding.decode(body, b.encoding(), out);
            }
        }
    }

    /** Passes on {@code len} octets after skipping {@code from}: a partial BINARY fetch of a decoded stream. */
    private static final class Slice extends OutputStream {
        private final OutputStream out;
        private long skip;
        private long left;

        Slice(OutputStream out, long from, long len) {
            this.out = out;
            this.skip = from;
            this.left = len;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int skipped = (int) Math.min(skip, len);
            skip -= skipped;
            int n = (int) Math.min(left, len - skipped);
            if (n > 0) {
                out.write(b, off + skipped, n);
                left -= n;
            }
        }
    }

    private void bytes(byte[] data, FetchItem.Section s) throws IOException {
        int from = 0;
        int len = data.length;
        if (s.offset() != FetchItem.Section.WHOLE) {
            from = (int) Math.min(s.offset(), data.length);
            len = (int) Math.min(data.length - from, s.length());
        }
        byte[] out = data;
        if (containsNul(data, from, len)) {
            out = java.util.Arrays.copyOfRange(data, from, from + len); // the summary's header is shared: copy
            replaceNuls(out, 0, len);
            from = 0;
        }
        connection.write("{" + len + "}\r\n");
        connection.write(out, from, len);
    }

    /**
     * A literal may not hold NUL (RFC 3501 §4.3, CHAR8), but stored mail sometimes does; as Dovecot
     * does, BODY and RFC822 data carry 0x80 in its place, keeping every octet count. BINARY sends
     * the octets as they are, in a literal8.
     */
    static void replaceNuls(byte[] buf, int from, int len) {
        for (int i = from, end = from + len; i < end; i++) {
            if (buf[i] == 0) {
                buf[i] = (byte) 0x80;
            }
        }
    }

    private static boolean containsNul(byte[] buf, int from, int len) {
        for (int i = from, end = from + len; i < end; i++) {
            if (buf[i] == 0) {
                return true;
            }
        }
        return false;
    }

    /** The header block from {@code start}: up to and including the blank line, read without a parse. */
    private byte[] readHeader(MessageRef r, long start, long max) throws IOException {
        try (InputStream in = store.openContent(r, start, Math.max(0, r.size() - start))) {
            return headerBlock(in, max);
        }
    }

    /**
     * The octets of {@code in} up to and including the blank line that ends a header, at most
     * {@code max} and {@link #MAX_HEADER_BYTES}; for SORT and THREAD too, which need a field the
     * summary does not hold.
     */
    static byte[] headerBlock(InputStream in, long max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(2048);
        byte[] buf = new byte[8192];
        int state = 0;
        long total = 0;
        while (total < max && out.size() < MAX_HEADER_BYTES) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, max - total));
            if (n < 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                byte b = buf[i];
                // CRLF CRLF, or LF LF in a stored message that was not canonical
                if (b == '\n') {
                    state = state == 1 || state == 3 ? state + 1 : (state == 2 ? 4 : 2);
                } else if (b == '\r') {
                    state = state == 2 ? 3 : 1;
                } else {
                    state = 0;
                }
                if (state == 4) {
                    out.write(buf, 0, i + 1);
                    return out.toByteArray();
                }
            }
            out.write(buf, 0, n);
            total += n;
        }
        return out.toByteArray();
    }

    private byte[] readRange(MessageRef r, long start, long length) throws IOException {
        try (InputStream in = store.openContent(r, start, Math.max(0, r.size() - start))) {
            return in.readNBytes((int) Math.min(length, MAX_HEADER_BYTES));
        }
    }
}

package dev.mailstack.mime;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What IMAP and POP3 need to know about a message, learnt in one pass at delivery and kept with
 * the content (STYLE.md §1, Dovecot's mail cache): the envelope header values and the part tree
 * with every part's type, parameters and the absolute byte offsets and sizes of its header and
 * body, so sections are served by seeking instead of parsing again.
 */
public record MessageSummary(Envelope envelope, Part root, byte[] header) {
    /** Format 2 added the header block; format 1 summaries (without it) still decode. */
    static final int FORMAT = 2;
    /** Headers up to this size are kept whole in the summary, for header fetches without a file read. */
    public static final int MAX_KEPT_HEADER = 32 * 1024;

    public MessageSummary(Envelope envelope, Part root) {
        this(envelope, root, null);
    }

    /** The message's header block (blank line included) when it was small enough to keep; else empty. */
    public java.util.Optional<byte[]> headerBytes() {
        return java.util.Optional.ofNullable(header).map(byte[]::clone);
    }

    @Override
    public byte[] header() {
        return header == null ? null : header.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MessageSummary m && m.envelope.equals(envelope) && m.root.equals(root)
                && java.util.Arrays.equals(m.header, header);
    }

    @Override
    public int hashCode() {
        return envelope.hashCode() * 31 + root.hashCode();
    }

    @Override
    public String toString() {
        return "MessageSummary[" + envelope + ", " + root + ", header=" + (header == null ? "none" : header.length + " bytes") + "]";
    }

    /** RFC 3501 ENVELOPE fields as raw (unfolded, not yet RFC 2047-decoded) header values; null when absent. */
    public record Envelope(String date, String subject, String from, String sender, String replyTo, String to,
                           String cc, String bcc, String inReplyTo, String messageId) {
    }

    public record Disposition(String type, Map<String, String> params) {
        public Disposition {
            params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
        }
    }

    /**
     * One MIME part. Offsets are absolute in the message, so BODY[n.MIME] is {@code headerOffset}
     * + {@code headerSize} and BODY[n] is {@code bodyOffset} + {@code bodySize} (RFC 3501 §6.4.5).
     * {@code bodySize} is the octets of the body as stored (§7.4.2 body-fld-octets); for a part
     * inside a multipart it stops before the CRLF that precedes the next boundary (RFC 2046
     * §5.1.1). {@code bodyLines} counts the LFs inside that body, as Dovecot does (imapd prints it
     * for text/* and message/rfc822 only). {@code params} are decoded (RFC 2231, names lower case,
     * header order); text/* without a charset has charset=us-ascii, last (RFC 2046 §4.1.2).
     * {@code explicitType} is false when the part had no usable Content-Type (the RFC 2045 or
     * digest default applies). {@code embedded} is the enclosed message of a message/rfc822 part
     * (null when it was not parsed: base64/QP encoded, or past a limit).
     */
    public record Part(String type, String subtype, Map<String, String> params, String id, String description,
                       String encoding, String md5, Disposition disposition, List<String> language, String location,
                       long headerOffset, long headerSize, long bodyOffset, long bodySize, long bodyLines,
                       boolean explicitType, List<Part> children, MessageSummary embedded) {
        public Part {
            params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
            language = List.copyOf(language);
            children = List.copyOf(children);
        }

        public boolean isMultipart() {
            return type.equals("multipart");
        }

        public boolean isMessage() {
            return embedded != null;
        }

        public boolean isText() {
            return type.equals("text");
        }
    }

    /**
     * The parse result: the octet counts the store keeps (RFC 3501 RFC822.SIZE, the header's octets
     * including the blank line, the body's lines), whether any octet has the high bit set, whether
     * the top-level header has a MIME-Version field, and the summary.
     */
    public record ParsedMessage(long size, long headerSize, long bodyLines, boolean eightBit, boolean mimeVersion,
                                MessageSummary summary) {
    }

    /** One pass over the raw message; never throws for malformed MIME, only for I/O. */
    public static ParsedMessage parse(InputStream raw, MimeLimits limits) throws IOException {
        return new MimeParser(raw, limits).parse();
    }

    /**
     * The part a section path names (RFC 3501 §6.4.5): [] the message, [1] the first part (or the
     * body of a non-multipart), [1, 2] the second part inside the first; numbers inside a
     * message/rfc822 part refer to the parts of the enclosed message.
     */
    public Part part(List<Integer> path) {
        Part p = root;
        for (int i = 0; i < path.size(); i++) {
            int n = path.get(i);
            if (i > 0 && p.isMessage()) {
                p = p.embedded().root();
            }
            if (p.isMultipart()) {
                if (n < 1 || n > p.children().size()) {
                    throw new IllegalArgumentException("no part " + path);
                }
                p = p.children().get(n - 1);
            } else if (n != 1) {
                throw new IllegalArgumentException("no part " + path);
            }
            // part 1 of a single-part entity is that entity's body: p stays
        }
        return p;
    }

    // --- the stored form

    public byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(FORMAT);
            write(out, this);
            out.writeInt(header == null ? -1 : header.length);
            if (header != null) {
                out.write(header);
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
    }

    public static MessageSummary decode(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            int format = in.readUnsignedByte();
            if (format != 1 && format != FORMAT) {
                throw new IllegalArgumentException("unknown summary format " + format);
            }
            MessageSummary s = read(in);
            if (format == 1) {
                return s;
            }
            int n = in.readInt();
            return n < 0 ? s : new MessageSummary(s.envelope(), s.root(), in.readNBytes(n));
        } catch (IOException e) {
            throw new IllegalArgumentException("corrupt message summary", e);
        }
    }

    private static void write(DataOutputStream out, MessageSummary s) throws IOException {
        Envelope e = s.envelope();
        for (String v : new String[]{e.date(), e.subject(), e.from(), e.sender(), e.replyTo(), e.to(), e.cc(), e.bcc(),
                e.inReplyTo(), e.messageId()}) {
            string(out, v);
        }
        write(out, s.root());
    }

    private static void write(DataOutputStream out, Part p) throws IOException {
        string(out, p.type());
        string(out, p.subtype());
        map(out, p.params());
        string(out, p.id());
        string(out, p.description());
        string(out, p.encoding());
        string(out, p.md5());
        out.writeBoolean(p.disposition() != null);
        if (p.disposition() != null) {
            string(out, p.disposition().type());
            map(out, p.disposition().params());
        }
        out.writeInt(p.language().size());
        for (String l : p.language()) {
            string(out, l);
        }
        string(out, p.location());
        out.writeLong(p.headerOffset());
        out.writeLong(p.headerSize());
        out.writeLong(p.bodyOffset());
        out.writeLong(p.bodySize());
        out.writeLong(p.bodyLines());
        out.writeBoolean(p.explicitType());
        out.writeInt(p.children().size());
        for (Part c : p.children()) {
            write(out, c);
        }
        out.writeBoolean(p.embedded() != null);
        if (p.embedded() != null) {
            write(out, p.embedded());
        }
    }

    private static MessageSummary read(DataInputStream in) throws IOException {
        Envelope e = new Envelope(string(in), string(in), string(in), string(in), string(in), string(in), string(in),
                string(in), string(in), string(in));
        return new MessageSummary(e, readPart(in));
    }

    private static Part readPart(DataInputStream in) throws IOException {
        String type = string(in);
        String subtype = string(in);
        Map<String, String> params = map(in);
        String id = string(in);
        String description = string(in);
        String encoding = string(in);
        String md5 = string(in);
        Disposition d = in.readBoolean() ? new Disposition(string(in), map(in)) : null;
        int nl = in.readInt();
        List<String> language = new ArrayList<>();
        for (int i = 0; i < nl; i++) {
            language.add(string(in));
        }
        String location = string(in);
        long ho = in.readLong();
        long hs = in.readLong();
        long bo = in.readLong();
        long bs = in.readLong();
        long bl = in.readLong();
        boolean explicit = in.readBoolean();
        int nc = in.readInt();
        List<Part> children = new ArrayList<>();
        for (int i = 0; i < nc; i++) {
            children.add(readPart(in));
        }
        MessageSummary embedded = in.readBoolean() ? read(in) : null;
        return new Part(type, subtype, params, id, description, encoding, md5, d, language, location, ho, hs, bo, bs, bl,
                explicit, children, embedded);
    }

    private static void map(DataOutputStream out, Map<String, String> m) throws IOException {
        out.writeInt(m.size());
        for (Map.Entry<String, String> e : m.entrySet()) {
            string(out, e.getKey());
            string(out, e.getValue());
        }
    }

    private static Map<String, String> map(DataInputStream in) throws IOException {
        int n = in.readInt();
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            m.put(string(in), string(in));
        }
        return m;
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String string(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        return new String(in.readNBytes(n), StandardCharsets.UTF_8);
    }
}

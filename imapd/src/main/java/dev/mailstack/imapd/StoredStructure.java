package dev.mailstack.imapd;

import dev.mailstack.mime.AddressList;
import dev.mailstack.mime.ContentSource;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.Rfc2047;
import dev.mailstack.mime.TextPreview;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ENVELOPE, BODYSTRUCTURE and section ranges (RFC 3501 §6.4.5, §7.4.2) rendered from the summary
 * stored at delivery; the only place imapd reads the mime summary.
 */
final class StoredStructure {
    /** A byte range of the stored message. */
    record Range(long start, long length, MessageSummary.Part part) {
    }

    private static final Map<String, String> DEFAULT_TEXT_PARAMS = Map.of("charset", "us-ascii");

    private final MessageSummary summary;
    /** Rendered on first use and kept (the cache shares this object among sessions); a race only renders twice. */
    private volatile String bodyStructure;
    private volatile String body;
    /**
     * RFC 8970 PREVIEW text, made on first use from a bounded prefix of one part and kept here so
     * the summary cache bounds it too (256 characters at most per entry).
     */
    private volatile String preview;
    /**
     * The envelope's address and subject fields as SEARCH compares them ({@link #searchedField}),
     * each made on the first search that names it and kept: decoding RFC 2047 words was half of
     * what a SEARCH SUBJECT of a large mailbox did, again on every search.
     */
    private volatile List<String> searchedFrom;
    private volatile List<String> searchedTo;
    private volatile List<String> searchedCc;
    private volatile List<String> searchedBcc;
    private volatile List<String> searchedSubject;

    private StoredStructure(MessageSummary summary) {
        this.summary = summary;
    }

    static StoredStructure of(MessageSummary summary) {
        return new StoredStructure(summary);
    }

    MessageSummary summary() {
        return summary;
    }

    /** The preview text, read from the content the first time (a race only reads twice). */
    String preview(ContentSource content) throws IOException {
        String p = preview;
        if (p == null) {
            p = TextPreview.of(summary, content);
            preview = p;
        }
        return p;
    }

    /**
     * FROM, TO, CC, BCC or SUBJECT (RFC 3501 §6.4.4) as a search compares it: decoded and
     * case-folded ({@link Searcher#fold}), none when the message lacks the field; empty for any
     * other field, which is read from the message's header instead. A race only decodes twice.
     */
    Optional<List<String>> searchedField(String field) {
        MessageSummary.Envelope e = summary.envelope();
        return Optional.ofNullable(switch (field) {
            case "FROM" -> searchedFrom != null ? searchedFrom : (searchedFrom = searchable(e.from()));
            case "TO" -> searchedTo != null ? searchedTo : (searchedTo = searchable(e.to()));
            case "CC" -> searchedCc != null ? searchedCc : (searchedCc = searchable(e.cc()));
            case "BCC" -> searchedBcc != null ? searchedBcc : (searchedBcc = searchable(e.bcc()));
            case "SUBJECT" -> searchedSubject != null ? searchedSubject : (searchedSubject = searchable(e.subject()));
            default -> null;
        });
    }

    private static List<String> searchable(String value) {
        return value == null ? List.of() : List.of(Searcher.fold(MessageText.decodeHeader(value)));
    }

    String envelope(boolean utf8) {
        return envelope(summary.envelope(), utf8);
    }

    private static String envelope(MessageSummary.Envelope e, boolean utf8) {
        String from = addresses(e.from(), utf8);
        String sender = e.sender() == null ? from : addresses(e.sender(), utf8);
        String replyTo = e.replyTo() == null ? from : addresses(e.replyTo(), utf8);
        return "(" + s(e.date(), utf8) + " " + s(e.subject(), utf8) + " " + from + " " + sender + " " + replyTo + " "
                + addresses(e.to(), utf8) + " " + addresses(e.cc(), utf8) + " " + addresses(e.bcc(), utf8) + " "
                + s(e.inReplyTo(), utf8) + " " + s(e.messageId(), utf8) + ")";
    }

    private static String addresses(String header, boolean utf8) {
        List<AddressList.Address> list = AddressList.parse(header);
        if (list.isEmpty()) {
            return "NIL";
        }
        StringBuilder sb = new StringBuilder("(");
        for (AddressList.Address a : list) {
            sb.append('(').append(s(a.name(), utf8)).append(" NIL ").append(s(a.mailbox(), utf8)).append(' ')
                    .append(a.isGroupStart() || a.isGroupEnd() ? "NIL" : s(a.host(), utf8)).append(')');
        }
        return sb.append(')').toString();
    }

    /** A string value; 8-bit text becomes encoded-words unless the client enabled UTF8=ACCEPT. */
    private static String s(String v, boolean utf8) {
        if (v == null) {
            return "NIL";
        }
        if (!utf8 && !ImapSyntax.isAscii(v)) {
            v = encodeWords(v);
        }
        return ImapSyntax.string(v, utf8);
    }

    private static String encodeWords(String v) {
        return Rfc2047.encode(v, StandardCharsets.UTF_8, 0).replace("\r\n ", " ");
    }

    String bodyStructure(boolean extensible) {
        String text = extensible ? bodyStructure : body;
        if (text == null) {
            StringBuilder sb = new StringBuilder();
            part(summary.root(), extensible, sb);
            text = sb.toString();
            if (extensible) {
                bodyStructure = text;
            } else {
                body = text;
            }
        }
        return text;
    }

    private void part(MessageSummary.Part p, boolean ext, StringBuilder sb) {
        sb.append('(');
        if (p.isMultipart() && !p.children().isEmpty()) {
            for (MessageSummary.Part c : p.children()) {
                part(c, ext, sb);
            }
            sb.append(' ').append(q(p.subtype()));
            if (ext) {
                sb.append(' ').append(params(p.params())).append(' ').append(disposition(p)).append(' ')
                        .append(language(p)).append(' ').append(q(p.location()));
            }
            sb.append(')');
            return;
        }
        // A multipart without parts (its boundary never occurs) is shown as the text it is, with
        // the default type of RFC 2045 §5.2; its boundary parameter would mean nothing on text/plain.
        String type = p.isMultipart() ? "text" : p.type();
        String subtype = p.isMultipart() ? "plain" : p.subtype();
        Map<String, String> params = p.isMultipart() ? DEFAULT_TEXT_PARAMS : p.params();
        sb.append(q(type)).append(' ').append(q(subtype)).append(' ').append(params(params)).append(' ')
                .append(q(p.id())).append(' ').append(q(p.description())).append(' ').append(q(p.encoding())).append(' ')
                .append(p.bodySize());
        if (p.isMessage() && p.subtype().equals("rfc822")) {
            sb.append(' ').append(envelope(p.embedded().envelope(), false)).append(' ');
            part(p.embedded().root(), ext, sb);
            sb.append(' ').append(p.bodyLines());
        } else if (type.equals("text")) {
            sb.append(' ').append(p.bodyLines());
        }
        if (ext) {
            sb.append(' ').append(q(p.md5())).append(' ').append(disposition(p)).append(' ').append(language(p))
                    .append(' ').append(q(p.location()));
        }
        sb.append(')');
    }

    /**
     * body-fld-param (RFC 3501 §7.4.2). The summary holds each parameter decoded (RFC 2231
     * continuations and charsets joined, RFC 2047 words undone), as RFC 9051 §7.5.2 asks of a
     * server; a value that is not ASCII goes out as the RFC 2231 §4 extended value
     * {@code name*} = {@code utf-8''%XX...}, the standard form (RFC 2047 §5 rules encoded-words
     * out of parameters) and the one Dovecot passes on from mail that used it.
     */
    private static String params(Map<String, String> params) {
        if (params.isEmpty()) {
            return "NIL";
        }
        StringBuilder sb = new StringBuilder("(");
        boolean first = true;
        for (Map.Entry<String, String> e : params.entrySet()) {
            sb.append(first ? "" : " ");
            String v = e.getValue();
            if (v != null && !ImapSyntax.isAscii(v)) {
                sb.append(q(e.getKey() + "*")).append(' ').append(q(extendedValue(v)));
            } else {
                sb.append(q(e.getKey())).append(' ').append(q(v));
            }
            first = false;
        }
        return sb.append(')').toString();
    }

    /** RFC 2231 §4 ext-value in UTF-8 without a language: octets outside attribute-char as %XX. */
    private static String extendedValue(String v) {
        StringBuilder sb = new StringBuilder("utf-8''");
        for (byte b : v.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c > 0x20 && c < 0x7f && "*'%()<>@,;:\\\"/[]?=".indexOf(c) < 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    private static String disposition(MessageSummary.Part p) {
        if (p.disposition() == null) {
            return "NIL";
        }
        return "(" + q(p.disposition().type()) + " " + params(p.disposition().params()) + ")";
    }

    /**
     * body-fld-lang (RFC 3501 §9: nstring or a list): always a list, one tag too, which is the form
     * clients meet from Dovecot; a bare string is grammatical but rarer on the wire.
     */
    private static String language(MessageSummary.Part p) {
        if (p.language().isEmpty()) {
            return "NIL";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < p.language().size(); i++) {
            sb.append(i > 0 ? " " : "").append(q(p.language().get(i)));
        }
        return sb.append(')').toString();
    }

    private static String q(String v) {
        return s(v, false);
    }

    /** The bytes a section with a part path names; IllegalArgumentException when there is no such part. */
    Range section(List<Integer> path, FetchItem.Text text) {
        MessageSummary.Part p = summary.part(path);
        return switch (text) {
            case ALL -> path.isEmpty() ? new Range(0, p.headerSize() + p.bodySize(), p)
                    : new Range(p.bodyOffset(), p.bodySize(), p);
            case MIME -> new Range(p.headerOffset(), p.headerSize(), p);
            case HEADER, HEADER_FIELDS, HEADER_FIELDS_NOT -> {
                MessageSummary.Part m = enclosed(p, path);
                yield new Range(m.headerOffset(), m.headerSize(), m);
            }
            case TEXT -> {
                MessageSummary.Part m = enclosed(p, path);
                yield new Range(m.bodyOffset(), m.bodySize(), m);
            }
        };
    }

    /** HEADER and TEXT of a part path address the message enclosed in a message/rfc822 part. */
    private MessageSummary.Part enclosed(MessageSummary.Part p, List<Integer> path) {
        if (path.isEmpty()) {
            return p;
        }
        if (!p.isMessage()) {
            throw new IllegalArgumentException("part " + path + " is not a message");
        }
        return p.embedded().root();
    }
}

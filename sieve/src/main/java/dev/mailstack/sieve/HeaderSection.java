package dev.mailstack.sieve;

import dev.mailstack.mime.MailCharset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link SieveMessage} over the fields of a raw header section (RFC 5322 §2.2), split once when
 * it is built, and the body if the caller has it. Field values stay folded; the interpreter unfolds them.
 */
record HeaderSection(List<Field> fields, long size, String envelopeFrom, String envelopeTo, Optional<MessageBody> body)
        implements SieveMessage {

    /**
     * One header field: its name as written and its raw value after the colon; {@code start} and
     * {@code next} are where its octets begin and where the line after it begins, its line ending
     * included, so an edited header (RFC 5293) writes the fields it keeps byte for byte.
     */
    record Field(String name, String value, int start, int next) {
    }

    HeaderSection {
        fields = List.copyOf(fields);
        envelopeFrom = envelopeFrom == null ? "" : envelopeFrom;
        envelopeTo = envelopeTo == null ? "" : envelopeTo;
        body = Objects.requireNonNull(body, "body");
    }

    @Override
    public List<String> header(String name) {
        List<String> out = new ArrayList<>();
        for (Field f : fields) {
            if (f.name().equalsIgnoreCase(name)) {
                out.add(f.value());
            }
        }
        return out;
    }

    /** RFC 5322 §3.6.8: field-name = 1*ftext, printable US-ASCII except the colon. */
    static boolean isFieldName(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 33 || c > 126 || c == ':') {
                return false;
            }
        }
        return true;
    }

    /**
     * Splits raw header octets into fields. A line starting with white space continues the field
     * before it; a line without a colon (broken mail) is skipped; the first empty line ends it.
     */
    static List<Field> fields(byte[] raw) {
        List<Field> out = new ArrayList<>();
        int pos = 0;
        int fieldStart = -1;
        int fieldEnd = -1;
        int fieldNext = -1;
        while (pos < raw.length) {
            int eol = pos;
            while (eol < raw.length && raw[eol] != '\n') {
                eol++;
            }
            int contentEnd = eol > pos && raw[eol - 1] == '\r' ? eol - 1 : eol;
            int next = eol < raw.length ? eol + 1 : eol;
            if (contentEnd == pos) {
                break; // the empty line ending the header section
            }
            boolean continuation = raw[pos] == ' ' || raw[pos] == '\t';
            if (!continuation) {
                addField(out, raw, fieldStart, fieldEnd, fieldNext);
                fieldStart = pos;
            }
            fieldEnd = contentEnd; // a field's inner line breaks stay: the value is still folded
            fieldNext = next;
            pos = next;
        }
        addField(out, raw, fieldStart, fieldEnd, fieldNext);
        return out;
    }

    private static void addField(List<Field> out, byte[] raw, int start, int end, int next) {
        if (start < 0 || end <= start) {
            return;
        }
        int len = end - start;
        String text = MailCharset.guess(raw, start, len, MailCharset.DEFAULT_FALLBACK);
        int colon = text.indexOf(':');
        if (colon <= 0) {
            return;
        }
        String name = text.substring(0, colon).strip();
        if (!isFieldName(name)) {
            return;
        }
        out.add(new Field(name, text.substring(colon + 1), start, next));
    }
}

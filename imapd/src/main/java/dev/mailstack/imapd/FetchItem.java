package dev.mailstack.imapd;

import java.util.List;

/** One data item of FETCH (RFC 3501 §6.4.5). */
sealed interface FetchItem {
    record Flags() implements FetchItem {
    }

    record Uid() implements FetchItem {
    }

    record InternalDate() implements FetchItem {
    }

    record Size() implements FetchItem {
    }

    record Envelope() implements FetchItem {
    }

    /** BODY (non-extensible) or BODYSTRUCTURE. */
    record Structure(boolean extensible) implements FetchItem {
    }

    record ModSeq() implements FetchItem {
    }

    /** RFC 8514 §4.2 SAVEDATE. */
    record SaveDate() implements FetchItem {
    }

    /** RFC 8474 §5.3 EMAILID ({@code thread} false) and THREADID. */
    record ObjectId(boolean thread) implements FetchItem {
    }

    /**
     * RFC 8970 PREVIEW, with the LAZY modifier or not (§3.2). LAZY lets a server answer NIL when a
     * preview would be costly now; here it never is (a few KiB read from one part), so both are
     * answered alike.
     */
    record Preview(boolean lazy) implements FetchItem {
    }

    /** RFC 3516 BINARY.SIZE[part]: the octets BINARY[part] would return. */
    record BinarySize(List<Integer> part) implements FetchItem {
        public BinarySize {
            part = List.copyOf(part);
        }
    }

    enum Text { ALL, HEADER, HEADER_FIELDS, HEADER_FIELDS_NOT, TEXT, MIME }

    /**
     * BODY[part.text]<partial>, BODY.PEEK, BINARY[...] (RFC 3516), and the RFC822 aliases.
     * {@code label} is how the response names it ("BODY", "BINARY", "RFC822", "RFC822.HEADER", ...).
     */
    record Section(List<Integer> part, Text text, List<String> fields, boolean peek, long offset, long length,
                   String label, boolean binary) implements FetchItem {
        static final long WHOLE = -1;

        public Section {
            part = List.copyOf(part);
            fields = List.copyOf(fields);
        }

        /** The name in the response: BODY[1.HEADER.FIELDS (SUBJECT)]<0>. */
        String responseName() {
            if (!label.equals("BODY") && !label.equals("BINARY")) {
                return label;
            }
            StringBuilder sb = new StringBuilder(label).append('[');
            for (int i = 0; i < part.size(); i++) {
                sb.append(i > 0 ? "." : "").append(part.get(i));
            }
            String t = switch (text) {
                case ALL -> "";
                case HEADER -> "HEADER";
                case HEADER_FIELDS -> "HEADER.FIELDS";
                case HEADER_FIELDS_NOT -> "HEADER.FIELDS.NOT";
                case TEXT -> "TEXT";
                case MIME -> "MIME";
            };
            if (!t.isEmpty()) {
                sb.append(part.isEmpty() ? "" : ".").append(t);
            }
            if (!fields.isEmpty()) {
                // RFC 3501 §9 header-fld-name is an astring: each name goes back in the form the request needed
                sb.append(" (");
                for (int i = 0; i < fields.size(); i++) {
                    sb.append(i > 0 ? " " : "").append(ImapSyntax.astring(fields.get(i)));
                }
                sb.append(')');
            }
            sb.append(']');
            if (offset != WHOLE) {
                sb.append('<').append(offset).append('>');
            }
            return sb.toString();
        }
    }
}

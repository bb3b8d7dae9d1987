package dev.mailstack.sieve;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The header a run's addheader and deleteheader actions (RFC 5293) left, as the deliverer writes
 * it in place of the message's own: the fields kept, each by its position among the fields of the
 * header section the run was given, written byte for byte, and the fields added, written as the
 * run built them (ASCII, RFC 2047 encoded and folded). The body is not the run's to change: the
 * deliverer writes the message's octets after the header section unchanged.
 */
public record HeaderEdits(List<Line> lines) {
    public HeaderEdits {
        lines = List.copyOf(lines);
    }

    /** One field of the edited header. */
    public sealed interface Line {
    }

    /** The {@code index}th field (from 0) of the original header section, unchanged. */
    public record Kept(int index) implements Line {
    }

    /** A field the script added: "Name: value" without its line ending. */
    public record Added(String field) implements Line {
    }

    /**
     * The edited header section, its empty line included, from the header section the run was
     * given ({@link SieveMessage#of}: the same octets, so the fields have the same positions).
     */
    public byte[] write(byte[] headerSection) {
        List<HeaderSection.Field> fields = HeaderSection.fields(headerSection);
        ByteArrayOutputStream out = new ByteArrayOutputStream(headerSection.length + 256);
        for (Line line : lines) {
            switch (line) {
                case Kept k -> {
                    HeaderSection.Field f = fields.get(k.index());
                    out.write(headerSection, f.start(), f.next() - f.start());
                    if (headerSection[f.next() - 1] != '\n') {
                        out.writeBytes(CRLF); // the last field of a message that is a header alone
                    }
                }
                case Added a -> {
                    out.writeBytes(a.field().getBytes(StandardCharsets.UTF_8));
                    out.writeBytes(CRLF);
                }
            }
        }
        out.writeBytes(CRLF);
        return out.toByteArray();
    }

    private static final byte[] CRLF = {'\r', '\n'};
}

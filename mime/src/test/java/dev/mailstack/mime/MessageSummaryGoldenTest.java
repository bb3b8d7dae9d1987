package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files: each {@code corpus/*.eml} (written by {@code corpus/make-corpus.py}) is parsed and
 * listed, and the listing must equal {@code corpus/*.expected}. The listing shows every part's
 * header and body bytes as found at its offsets, so a wrong offset shows up as wrong text. The
 * .expected files were generated with {@code -Dgolden.update=true} and then checked line by line
 * by hand against the .eml files; regenerate the same way and review the diff.
 */
class MessageSummaryGoldenTest {
    private static final Path DIR = Path.of("src/test/resources/corpus");

    static Stream<String> corpus() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".eml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("corpus")
    void listingMatchesTheGoldenFile(String name) throws IOException {
        byte[] raw = Files.readAllBytes(DIR.resolve(name));
        MessageSummary.ParsedMessage parsed = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults());
        assertEquals(raw.length, parsed.size(), "RFC822.SIZE is every octet");
        checkInvariants(parsed.summary().root(), raw.length);
        assertEquals(parsed.summary(), MessageSummary.decode(parsed.summary().encode()), "summary round trip");
        String listing = SummaryListing.of(raw, parsed);
        Path expected = DIR.resolve(name.replace(".eml", ".expected"));
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(expected, listing, StandardCharsets.UTF_8);
        } else if (!Files.exists(expected)) {
            Files.writeString(expected, listing, StandardCharsets.UTF_8);
            fail("wrote " + expected + "; review it and run again");
        }
        assertEquals(Files.readString(expected, StandardCharsets.UTF_8), listing);
    }

    /** What must hold for any part tree, whatever the input: headers end where bodies start, children nest in order. */
    static void checkInvariants(MessageSummary.Part p, long size) {
        assertEquals(p.headerOffset() + p.headerSize(), p.bodyOffset(), "header ends where the body starts");
        assertTrue(p.bodyOffset() + p.bodySize() <= size, "body within the message");
        long previousEnd = p.bodyOffset();
        for (MessageSummary.Part c : p.children()) {
            assertTrue(c.headerOffset() >= previousEnd, "children in order, inside the parent");
            assertTrue(c.bodyOffset() + c.bodySize() <= p.bodyOffset() + p.bodySize(), "child inside the parent");
            checkInvariants(c, size);
            previousEnd = c.bodyOffset() + c.bodySize();
        }
        if (p.embedded() != null) {
            MessageSummary.Part inner = p.embedded().root();
            assertEquals(p.bodyOffset(), inner.headerOffset(), "the enclosed message starts at the part's body");
            assertEquals(p.bodyOffset() + p.bodySize(), inner.bodyOffset() + inner.bodySize(), "and ends with it");
            checkInvariants(inner, size);
        }
    }

    /** Lists the parts with their bytes; the text form the .expected files hold. */
    static final class SummaryListing {
        private final byte[] raw;
        private final StringBuilder out = new StringBuilder();

        private SummaryListing(byte[] raw) {
            this.raw = raw;
        }

        static String of(byte[] raw, MessageSummary.ParsedMessage p) throws IOException {
            SummaryListing l = new SummaryListing(raw);
            l.out.append("size ").append(p.size()).append(", header ").append(p.headerSize()).append(", body lines ")
                    .append(p.bodyLines()).append(", 8bit ").append(p.eightBit()).append(", MIME-Version ")
                    .append(p.mimeVersion()).append('\n');
            l.message(p.summary(), "", "");
            l.out.append("text for SEARCH:\n");
            String text = TextExtractor.extract(new ByteArrayInputStream(raw), p.summary());
            for (String line : text.split("\n")) {
                l.out.append("  | ").append(escape(line)).append('\n');
            }
            return l.out.toString();
        }

        private void message(MessageSummary s, String path, String indent) {
            MessageSummary.Envelope e = s.envelope();
            out.append(indent).append("envelope\n");
            field(indent, "date", e.date(), false);
            field(indent, "subject", e.subject(), false);
            field(indent, "from", e.from(), true);
            field(indent, "sender", e.sender(), true);
            field(indent, "reply-to", e.replyTo(), true);
            field(indent, "to", e.to(), true);
            field(indent, "cc", e.cc(), true);
            field(indent, "bcc", e.bcc(), true);
            field(indent, "in-reply-to", e.inReplyTo(), false);
            field(indent, "message-id", e.messageId(), false);
            part(s.root(), path, indent, true);
        }

        private void field(String indent, String name, String raw, boolean addresses) {
            if (raw == null) {
                return;
            }
            out.append(indent).append("  ").append(name).append(": ").append(escape(raw)).append('\n');
            String decoded = Rfc2047.decode(raw);
            if (!addresses && !decoded.equals(raw)) {
                out.append(indent).append("    decoded: ").append(escape(decoded)).append('\n');
            }
            if (addresses) {
                List<AddressList.Address> list = AddressList.parse(raw);
                for (AddressList.Address a : list) {
                    out.append(indent).append("    ").append(a.isGroupStart() ? "group " : a.isGroupEnd() ? "group end" : "")
                            .append(a.isGroupEnd() ? "" : "name=" + show(a.name() == null ? null : Rfc2047.decode(a.name()))
                                    + " mailbox=" + show(a.mailbox()) + " host=" + show(a.host()))
                            .append('\n');
                }
            }
        }

        private void part(MessageSummary.Part p, String path, String indent, boolean root) {
            out.append(indent).append("[").append(path.isEmpty() ? "message" : root ? path + " enclosed" : path).append("] ")
                    .append(p.type()).append('/').append(p.subtype()).append(' ').append(p.params())
                    .append(p.explicitType() ? "" : " (default type)").append(" encoding=").append(p.encoding());
            if (p.id() != null) {
                out.append(" id=").append(p.id());
            }
            if (p.description() != null) {
                out.append(" description=").append(p.description());
            }
            if (p.md5() != null) {
                out.append(" md5=").append(p.md5());
            }
            if (p.disposition() != null) {
                out.append(" disposition=").append(p.disposition().type()).append(' ').append(p.disposition().params());
            }
            if (!p.language().isEmpty()) {
                out.append(" language=").append(p.language());
            }
            if (p.location() != null) {
                out.append(" location=").append(p.location());
            }
            out.append('\n');
            out.append(indent).append("  header @").append(p.headerOffset()).append('+').append(p.headerSize())
                    .append(": ").append(bytes(p.headerOffset(), p.headerSize())).append('\n');
            out.append(indent).append("  body @").append(p.bodyOffset()).append('+').append(p.bodySize())
                    .append(" lines ").append(p.bodyLines()).append(": ").append(bytes(p.bodyOffset(), p.bodySize()))
                    .append('\n');
            String prefix = path.isEmpty() ? "" : path + ".";
            for (int i = 0; i < p.children().size(); i++) {
                part(p.children().get(i), prefix + (i + 1), indent + "  ", false);
            }
            if (p.embedded() != null) {
                out.append(indent).append("  enclosed message\n");
                message(p.embedded(), path, indent + "  ");
            }
        }

        private String bytes(long offset, long length) {
            int n = (int) Math.min(length, 400);
            String shown = escapeBytes(raw, (int) offset, n);
            return "\"" + shown + "\"" + (length > n ? "... (" + (length - n) + " more)" : "");
        }

        private static String show(String s) {
            return s == null ? "NIL" : "\"" + escape(s) + "\"";
        }

        /** Valid UTF-8 as text, anything else with \xNN escapes; CR, LF and controls escaped. */
        static String escapeBytes(byte[] b, int off, int len) {
            if (MailCharset.isUtf8(b, off, len)) {
                return escape(new String(b, off, len, StandardCharsets.UTF_8));
            }
            StringBuilder sb = new StringBuilder();
            for (int i = off; i < off + len; i++) {
                int c = b[i] & 0xff;
                if (c >= 0x80) {
                    sb.append(String.format("\\x%02x", c));
                } else {
                    sb.append(escape(String.valueOf((char) c)));
                }
            }
            return sb.toString();
        }

        static String escape(String s) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '\r' -> sb.append("\\r");
                    case '\n' -> sb.append("\\n");
                    case '\t' -> sb.append("\\t");
                    case '\\' -> sb.append("\\\\");
                    default -> {
                        if (c < 0x20 || c == 0x7f) {
                            sb.append(String.format("\\x%02x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.toString();
        }
    }
}

package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden files: each {@code golden/*.eml} is parsed and its summary, decoded text and part bytes
 * written out as text, which must equal {@code *.expected}. Run with {@code -Dgolden.update=true}
 * to rewrite the expectations after a deliberate change, then review the diff.
 */
class GoldenFilesTest {
    static Stream<String> messages() throws IOException, URISyntaxException {
        Path dir = Path.of(GoldenFilesTest.class.getResource("/golden").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".eml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("messages")
    void summaryMatchesTheExpectedFile(String name) throws Exception {
        byte[] raw;
        try (InputStream in = GoldenFilesTest.class.getResourceAsStream("/golden/" + name)) {
            raw = in.readAllBytes();
        }
        MessageSummary.ParsedMessage p = MessageSummary.parse(new ByteArrayInputStream(raw), MimeLimits.defaults());
        StringBuilder out = new StringBuilder();
        out.append("size ").append(p.size()).append(" header ").append(p.headerSize()).append(" lines ").append(p.bodyLines())
                .append(" eightBit ").append(p.eightBit()).append('\n');
        MessageSummary.Envelope e = p.summary().envelope();
        out.append("subject ").append(Rfc2047.decode(e.subject())).append('\n');
        out.append("from ").append(AddressList.parse(e.from())).append('\n');
        out.append("to ").append(AddressList.parse(e.to())).append('\n');
        describe(p.summary().root(), "", raw, out);
        String text = TextExtractor.bodyText(p.summary(), offset -> new ByteArrayInputStream(raw, (int) offset, raw.length));
        out.append("text ").append(text.strip().replace("\r", "\\r").replace("\n", "\\n")).append('\n');
        String actual = out.toString();

        Path expected = Path.of("src/test/resources/golden", name.replace(".eml", ".expected"));
        if (Boolean.getBoolean("golden.update")) {
            Files.writeString(expected, actual);
        } else if (!Files.exists(expected)) {
            Files.writeString(expected, actual);
            fail("wrote " + expected + "; review it and run again"); // a new expectation is never passed unread
        }
        assertEquals(Files.readString(expected), actual, name);
    }

    private static void describe(MessageSummary.Part p, String path, byte[] raw, StringBuilder out) {
        out.append(path.isEmpty() ? "root" : path).append(' ').append(p.type()).append('/').append(p.subtype())
                .append(' ').append(p.params()).append(" enc=").append(p.encoding())
                .append(" header=").append(p.headerOffset()).append('+').append(p.headerSize())
                .append(" body=").append(p.bodyOffset()).append('+').append(p.bodySize()).append(" lines=").append(p.bodyLines());
        if (p.disposition() != null) {
            out.append(" disposition=").append(p.disposition().type()).append(p.disposition().params());
        }
        if (!p.isMultipart() && !p.isMessage()) {
            out.append(" bytes=\"").append(new String(raw, (int) p.bodyOffset(), (int) p.bodySize(), StandardCharsets.ISO_8859_1)
                    .replace("\r", "\\r").replace("\n", "\\n")).append('"');
        }
        out.append('\n');
        List<MessageSummary.Part> children = p.children();
        for (int i = 0; i < children.size(); i++) {
            describe(children.get(i), path.isEmpty() ? String.valueOf(i + 1) : path + "." + (i + 1), raw, out);
        }
        if (p.isMessage()) {
            out.append(path).append(".message subject ").append(p.embedded().envelope().subject()).append('\n');
            describe(p.embedded().root(), path + ".1", raw, out);
        }
    }
}

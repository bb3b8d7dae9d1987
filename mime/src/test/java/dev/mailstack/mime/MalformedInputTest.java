package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Damaged mail never makes the codec throw: every corpus message is cut, flipped and spliced
 * (seeded, so a failure repeats; {@code -Dseed=n} tries another) and then parsed, summarised,
 * round-tripped, searched, labelled and downgraded. Whatever comes out must still describe the
 * bytes that went in.
 */
class MalformedInputTest {
    private static final byte[][] SPLICES = {"\r\n--".getBytes(StandardCharsets.US_ASCII), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
            "=?utf-8?B?".getBytes(StandardCharsets.US_ASCII), "?=".getBytes(StandardCharsets.US_ASCII),
            "\r\nContent-Type: multipart/mixed; boundary=".getBytes(StandardCharsets.US_ASCII),
            "\r\nContent-Type: message/rfc822\r\n\r\n".getBytes(StandardCharsets.US_ASCII), "*0*=utf-8''%E6%".getBytes(StandardCharsets.US_ASCII),
            {(byte) 0xff, (byte) 0xfe, 0, '\r'}, {'"', ';', '(', '\\'}};

    @Test
    void mutatedMessagesNeverThrow() throws Exception {
        List<byte[]> corpus = new ArrayList<>();
        try (var files = Files.list(Path.of("src/test/resources/corpus"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".eml")).sorted().toList()) {
                corpus.add(Files.readAllBytes(f));
            }
        }
        Random random = new Random(Long.getLong("seed", 20261204));
        for (int round = 0; round < 1500; round++) {
            byte[] m = mutate(corpus.get(random.nextInt(corpus.size())), random);
            MessageSummary.ParsedMessage p = MessageSummary.parse(new ByteArrayInputStream(m), MimeLimits.defaults());
            assertEquals(m.length, p.size(), "round " + round);
            MessageSummaryGoldenTest.checkInvariants(p.summary().root(), m.length);
            assertEquals(p.summary(), MessageSummary.decode(p.summary().encode()), "round " + round);
            TextExtractor.extract(new ByteArrayInputStream(m), p.summary());
            ContentSource source = CodecTest.source(m);
            SevenBitDowngrade.write(source, p.summary(), m.length, new ByteArrayOutputStream());
            if (MessageNormalizer.needsLabels(p)) {
                MessageNormalizer.label(source, p, MailCharset.DEFAULT_FALLBACK, new ByteArrayOutputStream());
            }
            MessageSummary.Envelope e = p.summary().envelope();
            for (String v : new String[]{e.subject(), e.from(), e.to(), e.cc()}) {
                Rfc2047.decode(v);
                AddressList.parse(v);
            }
        }
    }

    private static byte[] mutate(byte[] original, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] m = original.clone();
        int edits = 1 + random.nextInt(4);
        for (int i = 0; i < edits && m.length > 0; i++) {
            int at = random.nextInt(m.length);
            switch (random.nextInt(4)) {
                case 0 -> m = java.util.Arrays.copyOf(m, at); // truncated
                case 1 -> m[at] = (byte) random.nextInt(256); // a flipped byte
                case 2 -> { // spliced text that parsers trip over
                    byte[] s = SPLICES[random.nextInt(SPLICES.length)];
                    out.reset();
                    out.write(m, 0, at);
                    out.writeBytes(s);
                    out.write(m, at, m.length - at);
                    m = out.toByteArray();
                }
                default -> { // a region repeated (nesting, duplicate headers)
                    int len = Math.min(m.length - at, random.nextInt(200));
                    out.reset();
                    out.write(m, 0, at + len);
                    out.write(m, at, m.length - at);
                    m = out.toByteArray();
                }
            }
        }
        return m;
    }
}

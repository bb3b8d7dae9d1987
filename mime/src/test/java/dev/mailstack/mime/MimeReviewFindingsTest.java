package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Findings of the wt-rmime review of module mime; each test fails until its finding is fixed.
 */
class MimeReviewFindingsTest {
    private static MessageSummary.ParsedMessage parse(byte[] m) throws IOException {
        return MessageSummary.parse(new ByteArrayInputStream(m), MimeLimits.defaults());
    }

    private static byte[] downgrade(byte[] raw) throws IOException {
        MessageSummary s = parse(raw).summary();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SevenBitDowngrade.write(CodecTest.source(raw), s, raw.length, out);
        return out.toByteArray();
    }

    /**
     * Finding 6: the streaming decoder cuts quoted-printable after the last LF of a chunk, or
     * anywhere when a 64 KiB chunk has none: an escape cut in two comes out literally, unlike the
     * array decoder (IMAP BINARY of a long-lined HTML part).
     */
    @Test
    void streamingQuotedPrintableMatchesTheArrayDecoderOnLongLines() throws Exception {
        byte[] encoded = "=41".repeat(70_000).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TransferEncoding.decode(new ByteArrayInputStream(encoded), "quoted-printable", out);
        assertArrayEquals(TransferEncoding.decode(encoded, "quoted-printable"), out.toByteArray());
        assertTrue(out.size() == 70_000);
    }
}

package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The streaming decoder gives exactly what the array decoder gives, however the input is cut into reads. */
class TransferEncodingStreamTest {
    /** Hands out the bytes in reads of random small sizes, as a socket or a file channel may. */
    private static InputStream trickle(byte[] data, Random random) {
        return new FilterInputStream(new java.io.ByteArrayInputStream(data)) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return super.read(b, off, Math.min(len, 1 + random.nextInt(9000)));
            }
        };
    }

    private static void assertSameAsArray(byte[] encoded, String encoding, Random random) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long n = TransferEncoding.decode(trickle(encoded, random), encoding, out);
        byte[] expected = TransferEncoding.decode(encoded, encoding);
        assertEquals(expected.length, n);
        assertArrayEquals(expected, out.toByteArray());
    }

    @Test
    void base64WithOddLinesGarbageAndPaddingInTheMiddle() throws IOException {
        Random random = new Random(7);
        for (int round = 0; round < 20; round++) {
            byte[] data = new byte[200_000 + random.nextInt(100_000)];
            random.nextBytes(data);
            String b64 = Base64.getEncoder().encodeToString(data);
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < b64.length(); ) {
                int line = 1 + random.nextInt(90); // not a multiple of 4: quanta span lines and reads
                text.append(b64, i, Math.min(b64.length(), i + line)).append(random.nextInt(50) == 0 ? "=\r\n" : "\r\n");
                if (random.nextInt(200) == 0) {
                    text.append("*garbage*");
                }
                i += line;
            }
            assertSameAsArray(text.toString().getBytes(StandardCharsets.US_ASCII), "base64", random);
        }
    }

    @Test
    void quotedPrintableWithEscapesAndSoftBreaksAtEveryPosition() throws IOException {
        Random random = new Random(11);
        String[] pieces = {"a", "Z", " ", "=3D", "=E4=BD=A0", "=\r\n", "= \r\n", "=\n", "\r\n", "\n", "=G1", "=", "=4"};
        for (int round = 0; round < 20; round++) {
            StringBuilder text = new StringBuilder();
            while (text.length() < 250_000) {
                text.append(pieces[random.nextInt(pieces.length)]);
            }
            assertSameAsArray(text.toString().getBytes(StandardCharsets.US_ASCII), "Quoted-Printable", random);
        }
    }

    /**
     * A quoted-printable line longer than the 64 KiB chunk (a long-lined HTML part read by IMAP
     * BINARY) has no line end to cut after: an escape cut in two used to come out literally.
     */
    @Test
    void streamingQuotedPrintableMatchesTheArrayDecoderOnLongLines() throws IOException {
        for (int shift = 0; shift < 3; shift++) {
            byte[] encoded = ("x".repeat(shift) + "=41".repeat(70_000)).getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            TransferEncoding.decode(new java.io.ByteArrayInputStream(encoded), "quoted-printable", out);
            assertEquals("x".repeat(shift) + "A".repeat(70_000), out.toString(StandardCharsets.US_ASCII), "shift " + shift);
        }
    }

    @Test
    void otherEncodingsPassThrough() throws IOException {
        byte[] raw = "8bit \u00e4 text\r\n".getBytes(StandardCharsets.UTF_8);
        assertSameAsArray(raw, "8bit", new Random(1));
        assertSameAsArray(raw, null, new Random(1));
    }
}

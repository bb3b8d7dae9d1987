package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CanonicalLineEndsTest {
    private static String canonical(String text, int... cuts) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CanonicalLineEnds c = new CanonicalLineEnds(out);
        byte[] b = text.getBytes(StandardCharsets.ISO_8859_1);
        int from = 0;
        for (int cut : cuts) {
            c.write(b, from, cut - from);
            from = cut;
        }
        c.write(b, from, b.length - from);
        c.finish();
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void bareLfAndBareCrBecomeCrlfAndCrlfStays() throws IOException {
        assertEquals("a\r\nb\r\n", canonical("a\nb\n"));
        assertEquals("a\r\nb", canonical("a\rb"));
        assertEquals("a\r\nb\r\n", canonical("a\r\nb\r\n"));
        assertEquals("\r\n\r\n", canonical("\r\r\n"));
        assertEquals("a\r\n", canonical("a\r"), "a CR at the very end");
        assertEquals("a\r\nb", canonical("a\r\nb", 2), "a CRLF cut between two writes stays one line end");
        assertEquals("a\r\n\r\nb", canonical("a\r\rb", 2));
    }

    @Test
    void howTheTextIsCutIntoWritesDoesNotMatter() throws IOException {
        Random r = new Random(7);
        String alphabet = "ab\r\n.";
        for (int round = 0; round < 500; round++) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                s.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            String whole = canonical(s.toString());
            int cut1 = r.nextInt(s.length() + 1);
            int cut2 = cut1 + r.nextInt(s.length() - cut1 + 1);
            assertEquals(whole, canonical(s.toString(), cut1, cut2), s.toString());
            assertEquals(whole.replace("\r\n", ""), s.toString().replace("\r\n", "").replace("\r", "").replace("\n", ""));
            assertEquals(whole, canonical(whole), "already canonical text is left alone");
        }
    }
}

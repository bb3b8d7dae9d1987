package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeaderFieldsTest {
    private static ByteArrayInputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void fieldsKeepTheirFoldingAndTheStreamIsLeftAtTheBody() throws IOException {
        ByteArrayInputStream in = bytes("Subject: one\r\n two\r\nFrom : a@b\n\r\nbody\r\n");
        List<String> fields = HeaderFields.read(in, 1000);
        assertEquals(List.of("Subject: one\r\n two", "From : a@b"), fields);
        assertEquals("subject", HeaderFields.name(fields.get(0)));
        assertEquals("from", HeaderFields.name(fields.get(1))); // RFC 5322 §4.5.3: white space before the colon
        assertEquals("body\r\n", new String(in.readAllBytes(), StandardCharsets.US_ASCII));
    }

    /** 8-bit octets come back one char each (ISO-8859-1), so a signature hashes exactly what was sent. */
    @Test
    void eightBitOctetsAreKeptAsTheyAre() throws IOException {
        String field = HeaderFields.read(bytes("Subject: 发票\r\n\r\n"), 1000).getFirst();
        assertEquals("Subject: 发票", new String(field.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    }

    @Test
    void linesThatAreNoFieldAreLeftOutAndALongHeaderIsRefused() throws IOException {
        assertEquals(List.of("To: x@y"), HeaderFields.read(bytes("no colon here\r\n continued\r\nTo: x@y"), 1000));
        assertThrows(HeaderFields.TooLong.class, () -> HeaderFields.read(bytes("X: " + "a".repeat(200) + "\r\n\r\n"), 100));
    }
}

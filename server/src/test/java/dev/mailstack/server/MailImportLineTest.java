package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** How an import reads the lines of an mbox or a Maildir file: split past the limit, never with a line added. */
class MailImportLineTest {
    private static InputStream of(byte[]... parts) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            all.write(p);
        }
        return new BufferedInputStream(new ByteArrayInputStream(all.toByteArray()));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aLineOfExactlyTheLimitKeepsItsLineEndAndAddsNoEmptyLine() throws IOException {
        byte[] full = "x".repeat(MailImport.MAX_LINE).getBytes(StandardCharsets.US_ASCII);
        for (String end : new String[] {"\n", "\r\n"}) {
            InputStream in = of(full, ascii(end + "next\r\n"));
            assertEquals(MailImport.MAX_LINE, MailImport.line(in).length, end.length() + "-octet end");
            assertArrayEquals(ascii("next"), MailImport.line(in), "the line after it, not an empty one");
            assertNull(MailImport.line(in));
        }
        // one short of the limit, then CRLF: the CR falls on the limit and is still the line end's
        InputStream in = of(ascii("y".repeat(MailImport.MAX_LINE - 1)), ascii("\r\nnext\n"));
        assertEquals(MailImport.MAX_LINE - 1, MailImport.line(in).length);
        assertArrayEquals(ascii("next"), MailImport.line(in));
    }

    @Test
    void aLongerLineIsSplitAndItsLastLineIsKeptAsItEnds() throws IOException {
        InputStream in = of(ascii("z".repeat(MailImport.MAX_LINE + 5)), ascii("\nlast\r"));
        assertEquals(MailImport.MAX_LINE, MailImport.line(in).length);
        assertArrayEquals(ascii("zzzzz"), MailImport.line(in));
        assertArrayEquals(ascii("last"), MailImport.line(in), "a CR before the end of the file is no part of the line");
        assertNull(MailImport.line(in));
    }
}

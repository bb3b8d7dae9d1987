package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineReaderTest {
    private static LineReader reader(String text) {
        return new LineReader(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)), 1024);
    }

    @Test
    void onlyAWholeLineReadAheadCountsAsAPipelinedCommand() throws IOException {
        LineReader whole = reader("NOOP\r\nRETR 1\r\n");
        assertEquals("NOOP", whole.readLine());
        assertTrue(whole.hasBufferedLine(), "the next command is here: replies may wait for it");
        LineReader partial = reader("NOOP\r\nRET");
        assertEquals("NOOP", partial.readLine());
        assertFalse(partial.hasBufferedLine(), "half a command: the client may be waiting for our reply");
        LineReader bareLf = reader("NOOP\nQUIT\n");
        assertEquals("NOOP", bareLf.readLine());
        assertTrue(bareLf.hasBufferedLine());
    }

    @Test
    void anOverlongLineIsDroppedWithItsLastBytesKeptAndReadingGoesOn() throws IOException {
        LineReader r = reader("a " + "x".repeat(2000) + " {20+}\r\nNOOP\r\n" + "y".repeat(1030) + "\nshort " + "z".repeat(1020) + "\r\nQUIT\r\n");
        LineTooLongException e = assertThrows(LineTooLongException.class, r::readLine);
        assertEquals("x".repeat(LineReader.TAIL_BYTES - 7) + " {20+}", e.tail()); // the CR was one of the bytes kept
        assertEquals("NOOP", r.readLine());
        assertEquals("y".repeat(LineReader.TAIL_BYTES), assertThrows(LineTooLongException.class, r::readLine).tail());
        // just over the limit: the tail reaches back into the bytes kept before the limit was passed
        assertEquals("z".repeat(LineReader.TAIL_BYTES - 1), assertThrows(LineTooLongException.class, r::readLine).tail());
        assertEquals("QUIT", r.readLine());
    }

    @Test
    void aLineThatIsNotUtf8IsMarkedSoAndOnlyThatLine() throws IOException {
        byte[] bytes = {'a', (byte) 0xFF, '\r', '\n', 'b', (byte) 0xEF, (byte) 0xBF, (byte) 0xBD, '\r', '\n', 'c', (byte) 0xC3, '\n'};
        LineReader r = new LineReader(new ByteArrayInputStream(bytes), 1024);
        assertEquals("a\uFFFD", r.readLine());
        assertFalse(r.lastLineUtf8());
        assertEquals("b\uFFFD", r.readLine());
        assertTrue(r.lastLineUtf8(), "a U+FFFD that was sent is UTF-8");
        assertEquals("c\uFFFD", r.readLine());
        assertFalse(r.lastLineUtf8(), "a sequence cut short");
    }
}

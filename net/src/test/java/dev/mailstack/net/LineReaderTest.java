package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
}

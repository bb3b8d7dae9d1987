package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DotStufferTest {
    private static final String MESSAGE = "Subject: x\r\n.Hidden: h\r\n\r\n.one\r\ntwo\r\n..three\r\n.\r\nfive\r\n";

    private static String copy(String message, long lines, int bufferSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long octets = new DotStuffer(bufferSize).copy(
                new ByteArrayInputStream(message.getBytes(StandardCharsets.US_ASCII)), out, lines);
        if (lines == DotStuffer.WHOLE_MESSAGE) {
            assertEquals(message.length(), octets, "octets counted before stuffing");
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void linesStartingWithADotGetOneMoreAndTheTerminatorIsAdded() throws IOException {
        String expected = "Subject: x\r\n..Hidden: h\r\n\r\n..one\r\ntwo\r\n...three\r\n..\r\nfive\r\n.\r\n";
        for (int size = 1; size <= 64; size++) { // dots and line ends falling on every buffer boundary
            assertEquals(expected, copy(MESSAGE, DotStuffer.WHOLE_MESSAGE, size), "buffer " + size);
        }
    }

    @Test
    void topSendsTheHeaderTheBlankLineAndNBodyLines() throws IOException {
        for (int size = 1; size <= 32; size++) {
            assertEquals("Subject: x\r\n..Hidden: h\r\n\r\n.\r\n", copy(MESSAGE, 0, size));
            assertEquals("Subject: x\r\n..Hidden: h\r\n\r\n..one\r\ntwo\r\n.\r\n", copy(MESSAGE, 2, size));
        }
        assertEquals(copy(MESSAGE, DotStuffer.WHOLE_MESSAGE, 16), copy(MESSAGE, 1000, 16));
    }

    @Test
    void aMessageWithoutFinalLineEndStillEndsWithCrlfDot() throws IOException {
        assertEquals("a: b\r\n\r\nbody\r\n.\r\n", copy("a: b\r\n\r\nbody", DotStuffer.WHOLE_MESSAGE, 8));
        assertEquals(".\r\n", copy("", DotStuffer.WHOLE_MESSAGE, 8));
        // damaged mail ending in a bare LF: the terminator still follows a CRLF (RFC 1939 §3)
        for (int size = 1; size <= 12; size++) {
            assertEquals("a: b\r\n\r\nbody\n\r\n.\r\n", copy("a: b\r\n\r\nbody\n", DotStuffer.WHOLE_MESSAGE, size), "buffer " + size);
            assertEquals("a: b\r\n\r\nbody\n\r\n.\r\n", copy("a: b\r\n\r\nbody\n", 5, size), "TOP, buffer " + size);
            assertEquals("a: b\r\n\r\nbody\r\n.\r\n", copy("a: b\r\n\r\nbody\r\n", DotStuffer.WHOLE_MESSAGE, size), "buffer " + size);
            assertEquals("a: b\r\n\r\nl1\n\r\n.\r\n", copy("a: b\r\n\r\nl1\nl2\r\n", 1, size), "TOP cut after a bare LF, buffer " + size);
            assertEquals("a: b\r\n\r\nl1\r\n.\r\n", copy("a: b\r\n\r\nl1\r\nl2\n", 1, size), "TOP cut after a CRLF, buffer " + size);
        }
    }

    @Test
    void aMessageThatStartsWithADotIsStuffedFromItsFirstByte() throws IOException {
        for (int size = 1; size <= 6; size++) {
            assertEquals("..a\r\n..\r\n.\r\n", copy(".a\r\n.\r\n", DotStuffer.WHOLE_MESSAGE, size), "buffer " + size);
            assertEquals("..a\r\n\r\n.\r\n", copy(".a\r\n\r\nbody\r\n", 0, size), "buffer " + size);
        }
    }

    @Test
    void aHeaderOnlyMessageIsSentWholeByTop() throws IOException {
        assertEquals("a: b\r\nc: d\r\n.\r\n", copy("a: b\r\nc: d\r\n", 0, 4));
    }
}

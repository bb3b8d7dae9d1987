package dev.mailstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The benchmark client's IMAP reader, fed by a loopback peer: it must find the tagged line exactly. */
class WireTest {

    @Test
    void literalsThatLookLikeTaggedLinesAreSkippedAndLongLinesAreRead() throws Exception {
        String literal = "a1 OK not the end\r\n* 2 EXISTS\r\n{3}\r\n";
        String response = "* 1 FETCH (BODY[] {" + literal.length() + "}\r\n" + literal + ")\r\n"
                + "* 2 FETCH (BODY[] {5+}\r\nab}\r\n)\r\n"
                + "* OK " + "x".repeat(600_000) + "\r\n" // longer than the client's buffer
                + "a10 OK other tag\r\n"
                + "a1 OK done\r\n";
        try (Peer peer = new Peer(response); Wire w = peer.client()) {
            assertEquals("a1 OK done", w.imapUntil("a1"));
            assertEquals(response.length(), w.bytesRead);
        }
    }

    @Test
    void aTaggedRefusalIsAnError() throws Exception {
        try (Peer peer = new Peer("* 1 EXISTS\r\na1 NO [TRYCREATE] no such mailbox\r\n"); Wire w = peer.client()) {
            IOException e = assertThrows(IOException.class, () -> w.imapUntil("a1"));
            assertEquals("IMAP error: a1 NO [TRYCREATE] no such mailbox", e.getMessage());
        }
    }

    @Test
    void aConnectionClosedBeforeTheTaggedLineIsAnError() throws Exception {
        try (Peer peer = new Peer("* 1 EXISTS\r\n* 2 EXI"); Wire w = peer.client()) {
            assertThrows(IOException.class, () -> w.imapUntil("a1"));
        }
    }

    /** Answers one connection with fixed bytes, then closes it. */
    private static final class Peer implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private final Thread thread;

        Peer(String response) throws IOException {
            thread = Thread.ofVirtual().start(() -> {
                try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                    out.write(response.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException ignored) {
                    // the test's assertions say what went wrong
                }
            });
        }

        Wire client() throws IOException {
            return new Wire(InetAddress.getLoopbackAddress().getHostAddress(), server.getLocalPort());
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join();
        }
    }
}

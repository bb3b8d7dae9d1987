package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.TlsContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The MTA-STS policy fetch (RFC 8461 §3.3) against policy hosts that misbehave, on real loopback sockets. */
class StsPolicyClientTest {
    private static final List<InetAddress> LOOPBACK = List.of(InetAddress.getLoopbackAddress());

    @TempDir
    Path dir;
    NextHopTrust testCa;
    TlsContext stsTls;
    final CountDownLatch testOver = new CountDownLatch(1);

    @BeforeEach
    void open() throws IOException {
        for (String name : List.of("sts-ca.pem", "sts-fullchain.pem", "sts-privkey.pem")) {
            try (InputStream in = getClass().getResourceAsStream("/sts/" + name)) {
                Files.copy(in, dir.resolve(name));
            }
        }
        testCa = NextHopTrust.fromPem(dir.resolve("sts-ca.pem"));
        stsTls = TlsContext.fromPem(dir.resolve("sts-fullchain.pem"), dir.resolve("sts-privkey.pem"));
    }

    @AfterEach
    void close() {
        testOver.countDown();
    }

    /** Serves one TLS connection as the policy host, answering the request with {@code response}. */
    private int policyHost(String response) throws IOException {
        SSLServerSocket server = (SSLServerSocket) stsTls.sslContext().getServerSocketFactory()
                .createServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            try (server; SSLSocket s = (SSLSocket) server.accept()) {
                InputStream in = s.getInputStream();
                for (int state = 0; state < 4; ) { // up to the blank line ending the request
                    int b = in.read();
                    if (b < 0) {
                        return;
                    }
                    state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
                }
                s.getOutputStream().write(response.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            } catch (IOException e) {
                // the client went away
            }
        });
        return server.getLocalPort();
    }

    @Test
    void interimResponsesArePassedOverToTheFinalOne() throws IOException {
        String policy = "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n";
        int port = policyHost("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + policy.length() + "\r\n\r\n" + policy);
        assertEquals(policy, StsPolicyClient.fetch("sts.test", LOOPBACK, port, testCa));
    }

    @Test
    void moreInterimResponsesThanTheLimitAreNoPolicy() throws IOException {
        int port = policyHost("HTTP/1.1 103 Early Hints\r\n\r\n".repeat(StsPolicyClient.MAX_INTERIM + 1)
                + "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n");
        IOException e = assertThrows(IOException.class, () -> StsPolicyClient.fetch("sts.test", LOOPBACK, port, testCa));
        assertTrue(e.getMessage().contains("more than " + StsPolicyClient.MAX_INTERIM + " interim responses"), e.getMessage());
    }

    @Test
    void aNegativeChunkSizeIsAFailedFetch() throws IOException {
        int port = policyHost("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n");
        IOException e = assertThrows(IOException.class, () -> StsPolicyClient.fetch("sts.test", LOOPBACK, port, testCa));
        assertTrue(e.getMessage().contains("bad chunk size -1"), e.getMessage());
    }

    /**
     * A server that sends its TLS handshake a byte at a time, each inside the read timeout, is cut
     * off when the fetch's time is up: the deliveries waiting for the policy are not held for hours.
     */
    @Test
    void aHandshakeTrickledByteByByteEndsWithTheFetchsTime() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket s = server.accept()) {
                    OutputStream out = s.getOutputStream();
                    // a handshake record header announcing 16 KiB, then its body one byte each 200 ms
                    out.write(new byte[] {0x16, 0x03, 0x03, 0x40, 0x00});
                    out.flush();
                    while (!testOver.await(200, TimeUnit.MILLISECONDS)) {
                        out.write(0x02);
                        out.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    // the client gave up, or the test is over
                }
            });
            long start = System.nanoTime();
            IOException e = assertThrows(IOException.class, () -> StsPolicyClient.fetch("sts.test", LOOPBACK,
                    server.getLocalPort(), testCa, Duration.ofSeconds(1)));
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(e.getMessage().contains("no policy within 1 s"), e.getMessage());
            assertTrue(took < 5000, "ended after " + took + " ms, not when the trickle did");
        }
    }
}

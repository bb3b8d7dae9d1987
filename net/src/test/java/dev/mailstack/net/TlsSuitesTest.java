package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a client can and cannot negotiate, on an implicit-TLS endpoint and after STARTTLS (the test certificate is RSA). */
class TlsSuitesTest {
    /** TLS 1.2 suites the JDK would take by default (some only on older JDKs) and the server must not. */
    static final Map<String, Integer> REFUSED_TLS12 = Map.of(
            "TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f,
            "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c,
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013,
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xc027,
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0x009e);
    static final int TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xc02f;

    @TempDir
    Path dir;
    TcpListener listener;

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
        }
    }

    private int start(TlsMode mode) throws Exception {
        listener = TcpListener.start(new Endpoint("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mode),
                new EchoProtocol(), NetLimits.defaults(), TestTls.serverContext(dir));
        return listener.port();
    }

    @Test
    void aClientOfferingOnlyTls11IsRefused() throws Exception {
        int port = start(TlsMode.IMPLICIT);
        assertNotEquals(RawClientHello.Answer.SERVER_HELLO, implicit(port,
                RawClientHello.of(RawClientHello.TLS_1_1, 0xc013, 0xc014, 0x002f)));
    }

    @Test
    void tls12WithoutForwardSecrecyOrWithCbcIsRefused() throws Exception {
        int port = start(TlsMode.IMPLICIT);
        // The same bytes with a suite we keep are answered: the refusals below are the suites' doing
        assertEquals(RawClientHello.Answer.SERVER_HELLO, implicit(port,
                RawClientHello.of(RawClientHello.TLS_1_2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)));
        REFUSED_TLS12.forEach((name, code) -> {
            try {
                assertNotEquals(RawClientHello.Answer.SERVER_HELLO, implicit(port, RawClientHello.of(RawClientHello.TLS_1_2, code)),
                        name);
            } catch (Exception e) {
                throw new AssertionError(name, e);
            }
        });
    }

    @Test
    void afterStartTlsTheSameSuitesAreRefused() throws Exception {
        int port = start(TlsMode.STARTTLS);
        assertEquals(RawClientHello.Answer.SERVER_HELLO, afterStartTls(port,
                RawClientHello.of(RawClientHello.TLS_1_2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)));
        assertNotEquals(RawClientHello.Answer.SERVER_HELLO, afterStartTls(port,
                RawClientHello.of(RawClientHello.TLS_1_2, REFUSED_TLS12.get("TLS_RSA_WITH_AES_128_CBC_SHA"))));
        assertNotEquals(RawClientHello.Answer.SERVER_HELLO, afterStartTls(port,
                RawClientHello.of(RawClientHello.TLS_1_2, REFUSED_TLS12.get("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"))));
        assertNotEquals(RawClientHello.Answer.SERVER_HELLO, afterStartTls(port,
                RawClientHello.of(RawClientHello.TLS_1_1, 0xc013, 0x002f)));
    }

    @Test
    void aTls12EcdheGcmClientAndATls13ClientGetThrough() throws Exception {
        int port = start(TlsMode.IMPLICIT);
        SSLSession tls12 = handshake(port, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assertEquals("TLSv1.2", tls12.getProtocol());
        assertEquals("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", tls12.getCipherSuite());
        SSLSession tls13 = handshake(port, "TLSv1.3", null);
        assertEquals("TLSv1.3", tls13.getProtocol());
        assertEquals("TLS_AES_128_GCM_SHA256", tls13.getCipherSuite()); // the server's first choice
    }

    /** A renegotiation asked by the client costs the server a handshake outside any deadline: refused. */
    @Test
    void aTls12ClientMayNotRenegotiate() throws Exception {
        int port = start(TlsMode.IMPLICIT);
        try (SSLSocket s = (SSLSocket) TestTls.clientContext().getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(new String[]{"TLSv1.2"});
            s.setSSLParameters(p);
            s.startHandshake();
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                    StandardCharsets.US_ASCII));
            assertEquals("+OK echo ready", in.readLine());
            s.startHandshake(); // on an established TLS 1.2 session: a new ClientHello, a renegotiation
            s.getOutputStream().write("SECURE\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> {
                String answer = in.readLine();
                if (answer == null) {
                    throw new java.io.EOFException("closed"); // refused with a close rather than an alert: as good
                }
            }, "a renegotiated session went on");
        }
    }

    private static RawClientHello.Answer implicit(int port, byte[] hello) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            return RawClientHello.send(s.getOutputStream(), s.getInputStream(), hello);
        }
    }

    private static RawClientHello.Answer afterStartTls(int port, byte[] hello) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            // Unbuffered reads of the two lines, so no byte of the server's TLS answer is swallowed
            assertEquals("+OK echo ready", line(s));
            OutputStream out = s.getOutputStream();
            out.write("STARTTLS\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals("+OK go ahead", line(s));
            return RawClientHello.send(out, s.getInputStream(), hello);
        }
    }

    private static String line(Socket s) throws Exception {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = s.getInputStream().read()) != '\n') {
            if (c < 0) {
                throw new java.io.EOFException("closed after " + b);
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }

    private static SSLSession handshake(int port, String protocol, String suite) throws Exception {
        try (SSLSocket s = (SSLSocket) TestTls.clientContext().getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(new String[]{protocol});
            if (suite != null) {
                p.setCipherSuites(new String[]{suite});
            }
            s.setSSLParameters(p);
            s.startHandshake();
            return s.getSession();
        }
    }
}

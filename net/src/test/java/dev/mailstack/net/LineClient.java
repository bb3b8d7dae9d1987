package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import javax.net.ssl.SSLSocket;

/** A raw-socket client that talks like a telnet user: send lines, expect replies by regex. */
public final class LineClient implements AutoCloseable {
    private Socket socket;
    private BufferedReader in;
    private OutputStream out;

    public LineClient(int port) throws IOException {
        this(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    private LineClient(Socket socket) throws IOException {
        attach(socket);
        socket.setSoTimeout((int) Duration.ofSeconds(10).toMillis());
    }

    public static LineClient tls(int port) throws IOException {
        SSLSocket s = (SSLSocket) TestTls.clientContext().getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), port);
        s.startHandshake();
        return new LineClient(s);
    }

    private void attach(Socket s) throws IOException {
        this.socket = s;
        this.in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        this.out = s.getOutputStream();
    }

    /** Upgrades this connection after the server said go ahead. */
    public void startTls() throws IOException {
        SSLSocket s = (SSLSocket) TestTls.clientContext().getSocketFactory()
                .createSocket(socket, "localhost", socket.getPort(), true);
        s.setUseClientMode(true);
        s.startHandshake();
        attach(s);
    }

    public LineClient send(String line) throws IOException {
        return sendRaw(line + "\r\n");
    }

    public LineClient sendRaw(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
        return this;
    }

    public LineClient sendBytes(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Null at end of stream. */
    public String readLine() throws IOException {
        return in.readLine();
    }

    /** Reads one line and checks it against a regular expression; returns the line. */
    public String expect(String regex) throws IOException {
        String line = in.readLine();
        assertTrue(line != null && line.matches(regex), "expected /" + regex + "/ but got: " + line);
        return line;
    }

    /** Reads lines until one matches, returning it; fails at end of stream. */
    public String expectEventually(String regex) throws IOException {
        for (String line; (line = in.readLine()) != null; ) {
            if (line.matches(regex)) {
                return line;
            }
        }
        throw new AssertionError("stream ended before /" + regex + "/");
    }

    public void expectClosed() throws IOException {
        String line = in.readLine();
        assertTrue(line == null, "expected the server to close, got: " + line);
    }

    public void setTimeout(Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

package dev.mailstack.mta.delivery;

import dev.mailstack.net.LineReader;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * One outbound SMTP transaction to one host (RFC 5321 client side): EHLO, STARTTLS when offered
 * (opportunistic, unauthenticated, like Postfix's smtp_tls_security_level=may), MAIL, one RCPT
 * per recipient, DATA, QUIT. Each recipient gets its own reply: the RCPT's if refused, else the
 * one after the final dot.
 */
final class SmtpClient implements AutoCloseable {

    /** A multi-line reply reduced to what we keep. */
    record Reply(int code, List<String> lines) {
        boolean ok() {
            return code >= 200 && code < 400;
        }

        String text() {
            return code + " " + String.join(" ", lines);
        }
    }

    private final Socket tcp;
    private final SmtpTimeouts timeouts;
    private Socket socket;
    private LineReader in;
    private OutputStream out;
    private final Set<String> extensions = new HashSet<>();

    private SmtpClient(Socket tcp, SmtpTimeouts timeouts) throws IOException {
        this.tcp = tcp;
        this.timeouts = timeouts;
        attach(tcp);
    }

    static SmtpClient connect(Route route, SmtpTimeouts timeouts) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(route.host(), route.port()), (int) timeouts.connect().toMillis());
            s.setSoTimeout((int) timeouts.reply().toMillis());
            s.setTcpNoDelay(true);
            return new SmtpClient(s, timeouts);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    private void attach(Socket s) throws IOException {
        this.socket = s;
        this.in = new LineReader(new BufferedInputStream(s.getInputStream()), 8192);
        this.out = new BufferedOutputStream(new SendDeadline(s.getOutputStream(), tcp, timeouts.dataBlock()), 64 * 1024);
    }

    Reply greeting() throws IOException {
        return read();
    }

    /** EHLO, falling back to HELO; then STARTTLS and EHLO again when the server offers it. */
    Reply hello(String hostname) throws IOException {
        Reply r = command("EHLO " + hostname);
        if (!r.ok()) {
            extensions.clear();
            return command("HELO " + hostname);
        }
        learn(r);
        if (has("STARTTLS") && !(socket instanceof SSLSocket)) {
            Reply tls = command("STARTTLS");
            if (tls.ok()) {
                SSLSocket ssl = (SSLSocket) anyCertificate().getSocketFactory()
                        .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
                ssl.setUseClientMode(true);
                ssl.startHandshake();
                attach(ssl);
                r = command("EHLO " + hostname);
                learn(r);
            }
        }
        return r;
    }

    private void learn(Reply ehlo) {
        extensions.clear();
        for (int i = 1; i < ehlo.lines().size(); i++) {
            extensions.add(ehlo.lines().get(i).toUpperCase(Locale.ROOT).split(" ")[0]);
        }
    }

    boolean has(String extension) {
        return extensions.contains(extension);
    }

    Reply command(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        return read();
    }

    /** Sends the message octets after a 354, dot-stuffed, and reads the final reply. */
    Reply data(InputStream message) throws IOException {
        Reply go = command("DATA");
        if (go.code() != 354) {
            return go;
        }
        byte[] buf = new byte[64 * 1024];
        boolean lineStart = true;
        boolean lastWasCr = false;
        for (int n; (n = message.read(buf)) > 0; ) {
            int from = 0;
            for (int i = 0; i < n; i++) {
                if (lineStart && buf[i] == '.') {
                    out.write(buf, from, i - from);
                    out.write('.'); // RFC 5321 §4.5.2: transparency
                    from = i;
                }
                lineStart = buf[i] == '\n';
                lastWasCr = buf[i] == '\r';
            }
            out.write(buf, from, n - from);
        }
        if (!lineStart) {
            out.write(lastWasCr ? new byte[]{'\n'} : new byte[]{'\r', '\n'});
        }
        out.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        socket.setSoTimeout((int) timeouts.finalReply().toMillis());
        return read();
    }

    private Reply read() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed by the server");
            }
            if (line.length() < 3) {
                throw new IOException("malformed reply: " + line);
            }
            int code;
            try {
                code = Integer.parseInt(line.substring(0, 3));
            } catch (NumberFormatException e) {
                throw new IOException("malformed reply: " + line);
            }
            lines.add(line.length() > 4 ? line.substring(4) : "");
            if (line.length() == 3 || line.charAt(3) != '-') {
                return new Reply(code, lines);
            }
            if (lines.size() > 1000) {
                throw new IOException("reply too long");
            }
        }
    }

    @Override
    public void close() {
        try {
            if (!socket.isClosed()) {
                out.write("QUIT\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    private static SSLContext anyCertificate() throws IOException {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[]{new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    // Opportunistic TLS between MTAs: encryption against passive listeners, no authentication.
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, new SecureRandom());
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("TLS unavailable: " + e.getMessage(), e);
        }
    }
}

package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.LineMutator;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.TestMessages;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stored mail that is damaged or not canonical (bare LF and CR, lines of dots, no blank line, no
 * final line end), retrieved over POP3: RETR gives back exactly the stored octets, as many as LIST
 * announced, and TOP a prefix of them, each ended so that the next reply follows in step.
 */
class DamagedMailTest {
    private static final List<String> SAMPLES = List.of(Pop3SessionTest.FIRST, Pop3SessionTest.SECOND,
            "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\nend\r\n", "No-Blank-Line: here\r\nX: y\r\n",
            "Subject: crlf\r\n\r\nline\r\n.\r\nline after a lone dot\r\n");
    private static final List<String> TOKENS = List.of("\r\n", "\n", "\r", "\r\n\r\n", ".", "\r\n.\r\n", "\n.\n",
            "\r.\r\n", "..", "\u0000", "\u00ff", " ");

    @TempDir
    Path dir;
    StoreFixture store;
    TcpListener listener;

    @BeforeEach
    void start() throws IOException {
        store = StoreFixture.create(dir.resolve("data"));
        listener = TcpListener.start(new Endpoint("pop3", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.NONE), new Pop3Protocol(store.store(), Pop3Settings.defaults("pop.example.org"),
                new AuthThrottle(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMinutes(1), Clock.systemUTC())),
                NetLimits.defaults(), null);
    }

    @AfterEach
    void stop() {
        listener.close();
        store.close();
    }

    @Test
    void retrGivesBackTheStoredOctetsAndTopAPrefixOfThem() throws Exception {
        LineMutator mutator = new LineMutator(Long.getLong("damaged.seed", 20261205L), TOKENS); // -Ddamaged.seed=N: another sequence
        List<byte[]> stored = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            byte[] m = mutator.mutate(mutator.pick(SAMPLES));
            if (m.length == 0) {
                continue;
            }
            TestMessages.append(store.session(), store.inbox(), m);
            stored.add(m);
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.port())) {
            s.setSoTimeout(10_000);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            assertTrue(line(in).startsWith("+OK"));
            send(out, "USER alice@example.org");
            assertTrue(line(in).startsWith("+OK"));
            send(out, "PASS secret");
            assertTrue(line(in).startsWith("+OK"));
            for (int n = 1; n <= stored.size(); n++) {
                byte[] m = stored.get(n - 1);
                String where = "message " + n + ": " + new String(m, StandardCharsets.ISO_8859_1);
                send(out, "LIST " + n);
                assertEquals("+OK " + n + " " + m.length, line(in), where);
                send(out, "RETR " + n);
                assertEquals("+OK " + m.length + " octets", line(in), where);
                byte[] retrieved = multiLine(in);
                // RFC 1939 §3: the terminator follows a CRLF; a message not ending with one (a bare LF
                // included) gets CRLF first
                byte[] expected = endsWithCrlf(m) ? m : concat(m, "\r\n".getBytes(StandardCharsets.US_ASCII));
                assertArrayEquals(expected, retrieved, where);
                for (int lines : new int[] {0, 2}) {
                    send(out, "TOP " + n + " " + lines);
                    assertTrue(line(in).startsWith("+OK"), where);
                    assertArrayEquals(top(m, lines), multiLine(in), "TOP " + lines + " of " + where);
                }
                send(out, "NOOP");
                assertEquals("+OK", line(in), "in step after " + where);
            }
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void send(OutputStream out, String command) throws IOException {
        out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** A multi-line response's body up to the "." CRLF line, dot-unstuffed, line ends as sent. */
    /**
     * RFC 1939 §7: the header, the blank line that ends it (the first line with no text) and
     * {@code lines} body lines, as stored; a CRLF after them when they do not end in one.
     */
    private static byte[] top(byte[] m, int lines) {
        boolean inBody = false;
        boolean hasText = false;
        int sent = 0;
        int i = 0;
        for (; i < m.length; i++) {
            if (inBody && sent >= lines && (i == 0 || m[i - 1] == '\n')) {
                break;
            }
            if (m[i] == '\n') {
                if (inBody) {
                    sent++;
                } else if (!hasText) {
                    inBody = true;
                }
                hasText = false;
            } else if (m[i] != '\r') {
                hasText = true;
            }
        }
        byte[] cut = Arrays.copyOf(m, i);
        return cut.length == 0 || endsWithCrlf(cut) ? cut : concat(cut, "\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean endsWithCrlf(byte[] b) {
        return b.length >= 2 && b[b.length - 2] == '\r' && b[b.length - 1] == '\n';
    }

    /** A multi-line response's body, read as a strict client does: the terminator is ".CRLF" after a CRLF. */
    private static byte[] multiLine(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            byte[] l = rawLine(in);
            byte[] sofar = body.toByteArray();
            if (Arrays.equals(l, ".\r\n".getBytes(StandardCharsets.US_ASCII)) && (sofar.length == 0 || endsWithCrlf(sofar))) {
                return sofar;
            }
            int off = l.length > 0 && l[0] == '.' ? 1 : 0;
            body.write(l, off, l.length - off);
        }
    }

    /** Bytes up to and including the next LF. */
    private static byte[] rawLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; ; ) {
            c = in.read();
            if (c < 0) {
                throw new IOException("connection closed after: " + b.toString(StandardCharsets.ISO_8859_1));
            }
            b.write(c);
            if (c == '\n') {
                return b.toByteArray();
            }
        }
    }

    private static String line(InputStream in) throws IOException {
        String l = new String(rawLine(in), StandardCharsets.ISO_8859_1);
        return l.endsWith("\r\n") ? l.substring(0, l.length() - 2) : l.strip();
    }
}

package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.LineMutator;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TestTls;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.TestMessages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of damaged POP3 commands, each followed by a NOOP: every one gets exactly one reply
 * (multi-line where the command's reply is), the NOOP's "+OK" comes next, and a dropped session
 * deletes nothing (DEVELOPERS.md, non-negotiables 2 and 3).
 */
class HostileCommandsTest {
    private static final List<String> COMMANDS = List.of(
            "STAT", "LIST", "LIST 1", "UIDL", "UIDL 2", "RETR 1", "RETR 2", "TOP 1 0", "TOP 2 5", "DELE 1", "NOOP",
            "RSET", "CAPA", "USER alice@example.org", "PASS secret", "AUTH", "AUTH PLAIN", "AUTH LOGIN",
            "AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==", "APOP alice 0123456789abcdef0123456789abcdef");
    /** No STLS or QUIT among them: a TLS handshake or an UPDATE state is not what this test is about. */
    private static final List<String> TOKENS = List.of(
            " ", "  ", "\t", "0", "-1", "+1", "1e3", "*", "=", "中文", "\\", "\"", "%s", "%n", ".", "..", "\u0000",
            "AUTH", "PLAIN", "LOGIN", "RETR", "TOP", "LIST", "1 2 3 4 5 6 7 8 9");
    /** First lines of the multi-line replies (RFC 1939, 2449, 5034); every other reply is one line. */
    private static final Pattern MULTI_LINE = Pattern.compile("\\+OK (Capability list follows|SASL mechanisms follow"
            + "|Top of message follows|Unique-id listing follows|\\d+ octets|\\d+ messages \\(\\d+ octets\\))");

    private static final Pattern LOGGED_IN = Pattern.compile("\\+OK alice@example.org has .*");

    @TempDir
    Path dir;
    StoreFixture store;
    Pop3Protocol protocol;
    TcpListener listener;

    @BeforeEach
    void start() throws IOException {
        store = StoreFixture.create(dir.resolve("data"));
        TestMessages.append(store.session(), store.inbox(), Pop3SessionTest.FIRST);
        TestMessages.append(store.session(), store.inbox(), Pop3SessionTest.SECOND);
        protocol = new Pop3Protocol(store.store(), Pop3Settings.defaults("pop.example.org"),
                new AuthThrottle(Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMinutes(1), Clock.systemUTC()));
        listener = TcpListener.start(new Endpoint("pop3", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.STARTTLS), protocol, NetLimits.defaults(),
                TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))));
    }

    @AfterEach
    void stop() {
        listener.close();
        store.close();
    }

    @Test
    void everyDamagedCommandGetsOneReplyAndADroppedSessionDeletesNothing() throws Exception {
        LineMutator mutator = new LineMutator(Long.getLong("hostile.seed", 20261205L), TOKENS); // -Dhostile.seed=N explores another sequence
        LineClient user = null;
        LineClient stranger = null;
        int closed = 0;
        for (int i = 0; i < 3000; i++) {
            boolean authorization = i % 4 == 0; // every fourth case before login
            if (authorization && stranger == null) {
                stranger = greeted();
            } else if (!authorization && user == null) {
                user = login();
            }
            LineClient c = authorization ? stranger : user;
            String command = mutator.pick(COMMANDS);
            byte[] damaged = mutator.mutate(command, i % 5 == 0 ? 0 : name(command));
            String input = new String(damaged, StandardCharsets.ISO_8859_1);
            String reply;
            try {
                reply = exchange(c, damaged, authorization);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no reply within 5 s to: " + input, e);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + " after: " + input, e);
            }
            // A session the server closed (after saying so), or a stranger who got in, is dropped: not QUIT, so nothing DELE marked goes.
            if (reply == null || authorization && LOGGED_IN.matcher(reply).matches()) {
                closed += reply == null ? 1 : 0;
                c.close();
                if (authorization) {
                    stranger = null;
                } else {
                    user = null;
                }
            }
        }
        for (LineClient c : new LineClient[] {user, stranger}) {
            if (c != null) {
                c.close();
            }
        }
        assertTrue(closed < 300, "sessions closed by the server: " + closed);
        awaitMaildropReleased();
        assertEquals(2, store.session().status(MailboxName.INBOX).messages(), "DELE without QUIT removed mail");
    }

    private static int name(String command) {
        int space = command.indexOf(' ');
        return space < 0 ? command.length() : space;
    }

    private LineClient greeted() throws IOException {
        LineClient c = new LineClient(listener.port());
        c.setTimeout(Duration.ofSeconds(5));
        c.expect("\\+OK .*");
        return c;
    }

    private LineClient login() throws IOException {
        awaitMaildropReleased(); // the session just closed may still hold the maildrop
        LineClient c = greeted();
        c.send("USER alice@example.org").expect("\\+OK .*");
        c.send("PASS secret").expect("\\+OK .*");
        return c;
    }

    private void awaitMaildropReleased() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (protocol.locks().isHeld(store.user().id())) {
            assertTrue(System.nanoTime() < deadline, "the maildrop was never released");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /**
     * One damaged command, its one reply, then a NOOP whose answer must come next ("+OK", or an error
     * before login: RFC 1939 has NOOP only in the TRANSACTION state); null if the server said it
     * closes and did. A hang-up without a reply fails the test.
     */
    private static String exchange(LineClient c, byte[] damaged, boolean authorization) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        line.writeBytes(damaged);
        line.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        c.sendBytes(line.toByteArray()); // one write: split writes meet Nagle and delayed ACKs
        String first = c.readLine();
        if (first != null && first.startsWith("+ ")) {
            c.sendRaw("*\r\n"); // a SASL challenge: cancel (RFC 5034 §4)
            first = c.readLine();
        }
        assertTrue(first != null, "the server hung up without a reply");
        assertTrue(first.startsWith("+OK") || first.startsWith("-ERR"), "not a POP3 reply: " + first);
        if (first.startsWith("-ERR") && first.contains("closing")) {
            assertEquals(null, c.readLine(), "the server said it closes");
            return null;
        }
        if (MULTI_LINE.matcher(first).matches()) {
            for (String body; !".".equals(body = c.readLine()); ) {
                assertTrue(body != null, "multi-line reply ended without a dot: " + first);
            }
        }
        c.sendRaw("NOOP\r\n");
        String noop = authorization && !LOGGED_IN.matcher(first).matches() ? Pop3Replies.NEEDS_LOGIN.line() : "+OK";
        String answer = c.readLine();
        if (answer != null && authorization && answer.equals(Pop3Replies.TOO_MANY_ERRORS.line())) {
            assertEquals(null, c.readLine(), "the server said it closes");
            return null; // the NOOP before login was the error too many
        }
        assertEquals(noop, answer, "out of step after the reply " + first);
        return first;
    }
}

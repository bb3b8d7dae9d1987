package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TlsMode;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LMTP (RFC 2033) as Postfix's lmtp transport speaks it: pipelined, one reply per recipient after DATA. */
class LmtpSessionTest {
    @TempDir
    Path dir;
    MtaFixture mta;
    StoreSession bob;

    @BeforeEach
    void start() throws Exception {
        mta = MtaFixture.create(dir);
        var account = mta.store.store().accounts().addUser("bob@example.org", PasswordScheme.hash("pw"));
        bob = mta.store.store().open(account.id());
    }

    @AfterEach
    void stop() {
        mta.close();
    }

    @Test
    void aPipelinedTransactionGetsOneReplyPerAcceptedRecipientAndIsDelivered() throws Exception {
        try (LineClient c = new LineClient(mta.lmtp.port())) {
            c.expect("220 mx.example.org LMTP mailstack ready");
            c.send("LHLO postfix.example.org").expectEventually("250 HELP");
            // what Postfix sends in one write once PIPELINING is announced
            c.sendRaw("MAIL FROM:<carol@remote.test> BODY=8BITMIME SIZE=120\r\n"
                    + "RCPT TO:<alice@example.org>\r\n"
                    + "RCPT TO:<nobody@example.org>\r\n"
                    + "RCPT TO:<dave@remote.test>\r\n"
                    + "RCPT TO:<bob+lists@example.org>\r\n"
                    + "DATA\r\n");
            c.expect("250 .*");
            c.expect("250 .*");
            c.expect("550 5\\.1\\.1 .*");
            c.expect("550 5\\.1\\.1 Not a mailbox of this server: LMTP delivers to local mailboxes only");
            c.expect("250 .*");
            c.expect("354 .*");
            c.sendRaw("Received: from client.remote.test by postfix.example.org\r\n"
                    + "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=remote.test\r\n"
                    + "Subject: =?UTF-8?B?5L2g5aW9?=\r\n\r\nhello\r\n.\r\n");
            String first = c.expect("250 2\\.0\\.0 .*");
            String second = c.expect("250 2\\.0\\.0 .*");
            assertEquals(first, second, "one reply for alice, one for bob: the same queued message");
            c.send("QUIT").expect("221 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitMessages(bob, MailboxName.INBOX, 1);
        String text = text(bob, 0);
        assertTrue(text.contains("with LMTP id"), text);
        assertTrue(text.contains("Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=remote.test"),
                "the front MTA's results are kept, even in our name: " + text);
    }

    @Test
    void theCapabilitiesAreLmtpsAndSmtpGreetingsAndAuthAreRefused() throws Exception {
        try (LineClient c = new LineClient(mta.lmtp.port())) {
            c.expect("220 .*");
            c.send("EHLO postfix.example.org").expect("500 5\\.5\\.1 This is LMTP: say LHLO your\\.host\\.name");
            c.send("HELO postfix.example.org").expect("500 5\\.5\\.1 .*");
            c.send("MAIL FROM:<carol@remote.test>").expect("503 5\\.5\\.1 .*");
            c.send("LHLO postfix.example.org");
            StringBuilder caps = new StringBuilder();
            String line;
            do {
                line = c.expect("250[ -].*");
                caps.append(line).append('\n');
            } while (line.startsWith("250-"));
            for (String keyword : new String[]{"PIPELINING", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "DSN"}) {
                assertTrue(caps.toString().contains(keyword), caps.toString());
            }
            for (String keyword : new String[]{"AUTH", "STARTTLS", "CHUNKING"}) {
                assertFalse(caps.toString().contains(keyword), caps.toString());
            }
            c.send("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==").expect("503 5\\.5\\.1 No AUTH in LMTP.*");
            c.send("HELP").expect("214-2\\.0\\.0 mailstack LMTP .*");
            c.expectEventually("214 2\\.0\\.0 After the message.*");
            c.send("MAIL FROM:<carol@remote.test>").expect("250 .*");
        }
        try (LineClient c = new LineClient(mta.smtp.port())) {
            c.expect("220 .*ESMTP.*");
            c.send("LHLO postfix.example.org").expect("500 5\\.5\\.1 This is SMTP, not LMTP.*");
        }
    }

    /** RFC 2033 §4.2: a refusal of the message after DATA is repeated for every recipient too. */
    @Test
    void aMessageRefusedAfterDataIsRefusedOncePerRecipient() throws Exception {
        try (LineClient c = new LineClient(mta.lmtp.port())) {
            c.expect("220 .*");
            c.send("LHLO postfix.example.org").expectEventually("250 HELP");
            c.send("MAIL FROM:<carol@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<bob@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Received: from a by b\r\n".repeat(100) + "Subject: loop\r\n\r\nx\r\n.\r\n");
            c.expect("554 5\\.4\\.6 .*");
            c.expect("554 5\\.4\\.6 .*");
            c.send("NOOP").expect("250 .*"); // in step: exactly two replies came
        }
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
    }

    /** The greeting's gate (tests listen on loopback only, so the refusal itself is not reached here). */
    @Test
    void onlyThisMachineAndTrustedNetworksMayUseLmtp() throws Exception {
        var trusted = java.util.List.of(dev.mailstack.net.Cidr.parse("10.1.0.0/16"));
        assertTrue(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("127.0.0.1"), java.util.List.of()));
        assertTrue(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("::1"), java.util.List.of()));
        assertTrue(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("10.1.2.3"), trusted));
        assertFalse(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("10.2.2.3"), trusted));
        assertFalse(SmtpSession.mayUseLmtp(java.net.InetAddress.getByName("192.0.2.1"), java.util.List.of()));
    }

    /** A client of a Unix domain socket, line by line (LineClient speaks TCP). */
    private static final class UnixClient implements AutoCloseable {
        final SocketChannel channel;
        final java.io.BufferedReader in;

        UnixClient(Path socket) throws IOException {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            in = new java.io.BufferedReader(new java.io.InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        }

        UnixClient send(String text) throws IOException {
            channel.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            return this;
        }

        String expect(String regex) throws IOException {
            String line = in.readLine();
            assertTrue(line != null && line.matches(regex), "expected " + regex + ", got " + line);
            return line;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> RW_RW =
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----");

    /** A folder under /tmp: a socket's path must fit sun_path (108 bytes). */
    private static Path shortDir() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "lmtp");
    }

    private TcpListener unixLmtp(Path socket, NetLimits limits) throws IOException {
        return unixLmtp(socket, limits, java.util.Optional.empty());
    }

    private TcpListener unixLmtp(Path socket, NetLimits limits, java.util.Optional<String> group) throws IOException {
        InetSocketAddress local = new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0);
        return TcpListener.startUnix(new Endpoint("lmtp-unix", local, TlsMode.NONE), socket, RW_RW, group, mta.lmtpProtocol, limits);
    }

    /** Postfix's lmtp:unix:/run/mailstack/lmtp: the same LMTP, one reply per recipient, as from this machine. */
    @Test
    @Timeout(60)
    void aTransactionOverTheUnixSocketIsDeliveredAndTheSocketFileGoesAtStop() throws Exception {
        Path folder = shortDir();
        Path socket = folder.resolve("lmtp");
        try {
            // lmtp.socket_group: a group of its own for the MTA to join (the tests run as root, who may give any)
            TcpListener listener = unixLmtp(socket, NetLimits.defaults(), java.util.Optional.of("daemon"));
            assertEquals(RW_RW, Files.getPosixFilePermissions(socket));
            assertEquals("daemon", Files.readAttributes(socket, java.nio.file.attribute.PosixFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS).group().getName());
            try (UnixClient c = new UnixClient(socket)) {
                c.expect("220 mx\\.example\\.org LMTP mailstack ready");
                c.send("LHLO postfix.example.org\r\n");
                StringBuilder caps = new StringBuilder();
                String line;
                do {
                    line = c.expect("250[ -].*");
                    caps.append(line).append('\n');
                } while (line.startsWith("250-"));
                assertFalse(caps.toString().contains("STARTTLS"), "no TLS on a local socket: " + caps);
                c.send("MAIL FROM:<carol@remote.test>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
                        + "RCPT TO:<bob@example.org>\r\nDATA\r\n");
                c.expect("250 .*");
                c.expect("250 .*");
                c.expect("550 5\\.1\\.1 .*");
                c.expect("250 .*");
                c.expect("354 .*");
                c.send("Subject: by the socket\r\n\r\nhello\r\n.\r\n");
                c.expect("250 2\\.0\\.0 .*");
                c.expect("250 2\\.0\\.0 .*");
                c.send("QUIT\r\n").expect("221 .*");
            }
            mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
            mta.awaitMessages(bob, MailboxName.INBOX, 1);
            String text = text(bob, 0);
            assertTrue(text.contains("Subject: by the socket") && text.contains("with LMTP id"), text);
            listener.close();
            assertFalse(Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the socket file goes at stop");
        } finally {
            Files.deleteIfExists(socket);
            Files.delete(folder);
        }
    }

    /** A socket file a killed server left is replaced; a file that is no socket, or one in use, is left alone. */
    @Test
    @Timeout(60)
    void aStaleSocketFileIsReplacedButNothingElseIs() throws Exception {
        Path folder = shortDir();
        Path socket = folder.resolve("lmtp");
        try {
            ServerSocketChannel killed = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
            killed.bind(UnixDomainSocketAddress.of(socket));
            killed.close(); // as after a SIGKILL: the file stays, nobody listens
            assertTrue(Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            try (TcpListener listener = unixLmtp(socket, NetLimits.defaults());
                 UnixClient c = new UnixClient(socket)) {
                c.expect("220 .*LMTP.*");
                IOException inUse = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                        () -> unixLmtp(socket, NetLimits.defaults()));
                assertTrue(inUse.getMessage().contains("in use"), inUse.getMessage());
            }
            Files.writeString(socket, "not a socket");
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                    () -> unixLmtp(socket, NetLimits.defaults()));
            assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
            assertEquals("not a socket", Files.readString(socket));
        } finally {
            Files.deleteIfExists(socket);
            Files.delete(folder);
        }
    }

    /** A channel has no SO_TIMEOUT: the idle timeout still ends a silent client, with SMTP's 421. */
    @Test
    @Timeout(60)
    void anIdleClientOfTheUnixSocketIsTimedOut() throws Exception {
        Path folder = shortDir();
        Path socket = folder.resolve("lmtp");
        try (TcpListener listener = unixLmtp(socket, NetLimits.defaults().withIdleTimeout(java.time.Duration.ofSeconds(1)));
             UnixClient c = new UnixClient(socket)) {
            c.expect("220 .*");
            c.send("LHLO postfix.example.org\r\n");
            String line;
            do {
                line = c.expect("250[ -].*");
            } while (line.startsWith("250-"));
            long start = System.nanoTime();
            c.expect("421 4\\.4\\.2 .*"); // the read blocks until the server gives up on us
            assertTrue(c.in.readLine() == null, "closed after the goodbye");
            // the server's idle clock started as it sent the last 250, a moment before this one
            assertTrue(System.nanoTime() - start >= java.time.Duration.ofMillis(900).toNanos());
        } finally {
            Files.deleteIfExists(socket);
            Files.delete(folder);
        }
    }

    /**
     * The watchdog keeps a Unix domain socket's payload to the minimum data rate too: DATA trickled at
     * a byte every 200 ms, each read well inside the 1 s idle timeout, ends with 421 and no delivery.
     */
    @Test
    @Timeout(60)
    void aMessageTrickledOverTheUnixSocketEndsWith421() throws Exception {
        Path folder = shortDir();
        Path socket = folder.resolve("lmtp");
        NetLimits limits = new NetLimits(1024, java.time.Duration.ofSeconds(1), 10, 10).withMinDataRate(100);
        try (TcpListener listener = unixLmtp(socket, limits);
             UnixClient c = new UnixClient(socket)) {
            c.expect("220 .*");
            c.send("LHLO postfix.example.org\r\n");
            String line;
            do {
                line = c.expect("250[ -].*");
            } while (line.startsWith("250-"));
            c.send("MAIL FROM:<carol@remote.test>\r\n").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>\r\n").expect("250 .*");
            c.send("DATA\r\n").expect("354 .*");
            c.send("Subject: slow\r\n\r\n");
            long start = System.nanoTime();
            dev.mailstack.net.Trickle trickle = dev.mailstack.net.Trickle.start(c::send, "x", java.time.Duration.ofMillis(200));
            try {
                c.expect("421 4\\.4\\.2 .*");
            } finally {
                trickle.close();
            }
            // the watchdog looks once a second: the 1 s and its bytes' 10 ms each, and up to a second more
            long took = System.nanoTime() - start;
            assertTrue(took < java.time.Duration.ofMillis(3500).toNanos(), "cut off only after " + took / 1_000_000 + " ms");
            assertTrue(c.in.readLine() == null, "closed after the goodbye");
        } finally {
            Files.deleteIfExists(socket);
            Files.delete(folder);
        }
        assertTrue(mta.store.store().queue().list().isEmpty(), "nothing queued");
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages());
    }

    private static String text(StoreSession session, int index) throws IOException {
        MessageRef ref = session.select(MailboxName.INBOX).messages().get(index);
        try (InputStream in = session.openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TestTls;
import dev.mailstack.net.TlsMode;
import dev.mailstack.net.TranscriptRunner;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.TestMessages;
import dev.mailstack.store.Transaction;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Pop3SessionTest {
    static final String FIRST = "Subject: one\r\n\r\nfirst\r\n.dot line\r\n";
    static final String SECOND = "Subject: two\r\nX-Long: a\r\n\r\nline 1\r\nline 2\r\nline 3\r\n";

    @TempDir
    Path dir;
    StoreFixture store;
    TcpListener listener;

    @BeforeEach
    void start() throws IOException {
        store = StoreFixture.create(dir.resolve("data"));
        TestMessages.append(store.session(), store.inbox(), FIRST);
        TestMessages.append(store.session(), store.inbox(), SECOND);
        listen();
    }

    private void listen() throws IOException {
        AuthThrottle throttle = new AuthThrottle(Duration.ofMillis(10), Duration.ofMillis(40), Duration.ofMinutes(1),
                Clock.systemUTC());
        listener = TcpListener.start(new Endpoint("pop3", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.STARTTLS), new Pop3Protocol(store.store(), Pop3Settings.defaults("pop.example.org"), throttle),
                NetLimits.defaults(), TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))));
    }

    @AfterEach
    void stop() {
        listener.close();
        store.close();
    }

    private LineClient login() throws IOException {
        LineClient c = new LineClient(listener.port());
        c.expect("\\+OK mailstack POP3 ready");
        c.send("USER alice@example.org").expect("\\+OK .*");
        c.send("PASS secret").expect("\\+OK alice@example.org has \\d+ messages .*");
        return c;
    }

    private long inboxCount() {
        return store.session().status(MailboxName.INBOX).messages();
    }

    @Test
    void aTelnetSessionWithEveryCommand() throws Exception {
        TranscriptRunner.run("/transcripts/telnet.txt", port -> {
            try {
                return new LineClient(listener.port());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(1, inboxCount(), "DELE 1 applied at QUIT");
    }

    @Test
    void aDroppedConnectionDeletesNothing() throws Exception {
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK .*");
            c.send("DELE 2").expect("\\+OK .*");
        } // closed without QUIT
        assertEquals(2, inboxCount());
        try (LineClient c = login()) {
            c.send("STAT").expect("\\+OK 2 \\d+");
            c.send("DELE 2").expect("\\+OK .*");
            c.send("QUIT").expect("\\+OK .*1 messages deleted.*");
        }
        assertEquals(1, inboxCount());
    }

    @Test
    void aSecondSessionForTheSameUserIsInUseAndIsFreedAfterQuit() throws Exception {
        try (LineClient first = login(); LineClient second = new LineClient(listener.port())) {
            second.expect("\\+OK .*");
            second.send("USER alice@example.org").expect("\\+OK .*");
            second.send("PASS secret").expect("-ERR \\[IN-USE\\] .*");
            first.send("QUIT").expect("\\+OK .*");
            first.expectClosed();
            second.send("USER alice@example.org").expect("\\+OK .*");
            second.send("PASS secret").expect("\\+OK .*");
        }
    }

    @Test
    void uidlStaysTheSameAcrossSessionsAndRestarts() throws Exception {
        String before;
        try (LineClient c = login()) {
            c.send("UIDL 2");
            before = c.expect("\\+OK 2 [0-9a-f]+-2");
        }
        listener.close();
        store.close();
        store = new StoreFixture(MailboxStore.open(dir.resolve("data"), null), store.user());
        listen();
        try (LineClient c = login()) {
            c.send("DELE 1").expect("\\+OK .*");
            c.send("UIDL").expect("\\+OK");
            c.expect("2 " + before.substring(6));
            c.expect("\\.");
            c.send("QUIT").expect("\\+OK .*");
        }
    }

    @Test
    void mailDeliveredDuringASessionStaysOutOfItsSnapshot() throws Exception {
        try (LineClient c = login()) {
            TestMessages.append(store.session(), store.inbox(), "Subject: late\r\n\r\nlate\r\n");
            c.send("STAT").expect("\\+OK 2 \\d+");
            c.send("RETR 3").expect("-ERR No such message");
            c.send("QUIT").expect("\\+OK .*");
        }
        assertEquals(3, inboxCount());
    }

    @Test
    void retrievedMessagesAreSeenAfterQuit() throws Exception {
        try (LineClient c = login()) {
            c.send("RETR 2").expect("\\+OK \\d+ octets");
            c.expectEventually("\\.");
            c.send("QUIT").expect("\\+OK .*");
        }
        StoreSession s = store.session();
        var messages = s.select(MailboxName.INBOX).messages();
        assertTrue(messages.get(1).flags().has(dev.mailstack.store.Flag.SEEN));
        assertTrue(!messages.get(0).flags().has(dev.mailstack.store.Flag.SEEN));
    }

    @Test
    void stlsDropsInjectedCommandsAndAuthPlainWorksAfterIt() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("CAPA").expect("\\+OK Capability list follows");
            assertTrue(c.expectEventually("STLS|\\.").equals("STLS"));
            c.expectEventually("\\.");
            c.sendRaw("STLS\r\nUSER injected\r\n").expect("\\+OK Begin TLS negotiation");
            c.startTls();
            c.send("PASS secret").expect("-ERR USER first");
            String plain = Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8));
            c.send("AUTH PLAIN " + plain).expect("\\+OK .*");
            c.send("STAT").expect("\\+OK 2 \\d+");
        }
    }

    @Test
    void wrongPasswordsAndBadCommandsGetClearErrors() throws Exception {
        try (LineClient c = new LineClient(listener.port())) {
            c.expect("\\+OK .*");
            c.send("STAT").expect("-ERR Log in first.*");
            c.send("PASS secret").expect("-ERR USER first");
            c.send("USER alice@example.org").expect("\\+OK .*");
            c.send("PASS wrong").expect("-ERR \\[AUTH\\] Authentication failed");
            c.send("FROB").expect("-ERR Unknown command.*");
            c.send("x".repeat(10000)).expect("-ERR Line too long");
            c.send("USER alice@example.org").expect("\\+OK .*");
            c.send("PASS secret").expect("\\+OK .*");
            c.send("RETR").expect("-ERR Message number required");
            c.send("RETR x").expect("-ERR Not a message number");
            c.send("RETR 9").expect("-ERR No such message");
            c.send("DELE 1").expect("\\+OK .*");
            c.send("RETR 1").expect("-ERR Message is deleted");
            c.send("LIST 1").expect("-ERR Message is deleted");
            c.send("RSET").expect("\\+OK .*");
            c.send("LIST 1").expect("\\+OK 1 \\d+");
            c.send("TOP 2").expect("-ERR Usage: TOP message lines");
            c.send("USER bob").expect("-ERR Already logged in");
            c.send("QUIT").expect("\\+OK .*");
        }
        assertEquals(2, inboxCount());
    }

    @Test
    void angusMailReadsTheMaildrop() throws Exception {
        Properties props = new Properties();
        props.put("mail.pop3.host", "127.0.0.1");
        props.put("mail.pop3.port", Integer.toString(listener.port()));
        Session session = Session.getInstance(props);
        Store pop = session.getStore("pop3");
        pop.connect("alice@example.org", "secret");
        try {
            Folder inbox = pop.getFolder("INBOX");
            inbox.open(Folder.READ_WRITE);
            Message[] messages = inbox.getMessages();
            assertEquals(2, messages.length);
            assertEquals("one", messages[0].getSubject());
            assertEquals("line 1\r\nline 2\r\nline 3\r\n", messages[1].getContent());
            messages[0].setFlag(jakarta.mail.Flags.Flag.DELETED, true);
            inbox.close(true);
        } finally {
            pop.close();
        }
        assertEquals(1, inboxCount());
    }

    @Test
    void aFiftyMegabyteMessageIsStreamedWithExactOctets() throws Exception {
        long size = 50L * 1024 * 1024;
        MessageSpool.Spooled m;
        try (MessageSpool spool = store.store().spool()) {
            spool.write("Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            TestMessages.writeRepeated(spool, ".starts with a dot and is stuffed on the wire\r\n".getBytes(StandardCharsets.US_ASCII),
                    size - spool.size() - 2);
            spool.write("\r\n".getBytes(StandardCharsets.US_ASCII)); // end on a line boundary, as stored mail does
            m = spool.finish();
        }
        try (Transaction t = store.session().begin()) {
            t.append(store.inbox(), m, TestMessages.facts(m), dev.mailstack.store.Flags.NONE, Instant.now(), Optional.empty());
            t.commit();
        }
        m.discard();
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();
        try (LineClient c = login()) {
            c.send("LIST 3").expect("\\+OK 3 " + size);
            c.send("RETR 3").expect("\\+OK " + size + " octets");
            long octets = 0;
            for (String line; !(line = c.readLine()).equals("."); ) {
                octets += (line.startsWith("..") ? line.length() - 1 : line.length()) + 2;
            }
            assertEquals(size, octets, "unstuffed octets equal what LIST announced");
        }
        long heapAfter = rt.totalMemory() - rt.freeMemory();
        assertTrue(heapAfter - heapBefore < 64L * 1024 * 1024, "heap grew " + (heapAfter - heapBefore));
    }
}

package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.net.LineReader;
import dev.mailstack.store.Account;
import dev.mailstack.store.Flag;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MailboxView;
import dev.mailstack.store.PasswordScheme;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The control socket's requests and its answers to wrong ones, spoken raw over the real socket. */
class ControlSocketTest {
    @TempDir
    Path dir;

    private static final class Raw implements AutoCloseable {
        final SocketChannel channel;
        final OutputStream out;
        final LineReader in;

        Raw(Path socket) throws IOException {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            out = Channels.newOutputStream(channel);
            in = new LineReader(Channels.newInputStream(channel), 4096);
        }

        String send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
            return in.readLine();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static String chunked(String message, String end) {
        int half = message.length() / 2;
        return "MESSAGE\nDATA " + half + "\n" + message.substring(0, half) + "DATA " + (message.length() - half) + "\n"
                + message.substring(half) + end + "\n";
    }

    private MailboxStore storeWithAlice(Path data) {
        MailboxStore store = MailboxStore.open(data, null);
        store.accounts().addDomain("example.org");
        store.accounts().addUser("alice@example.org", PasswordScheme.hash("pw"));
        return store;
    }

    private static ControlSocket open(Path data, MailboxStore store, Duration idle) throws IOException {
        return ControlSocket.open(data, store, MimeLimits.defaults(), idle)
                .orElseThrow(() -> new AssertionError("control socket off (see the warning logged): path too long?"));
    }

    private static long spoolFiles(Path data) throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("contents/spool"))) {
            return files.count();
        }
    }

    @Test
    void requestsAndTheirErrors() throws Exception {
        Path data = dir.resolve("data");
        try (MailboxStore store = storeWithAlice(data);
             ControlSocket control = open(data, store, ControlSocket.IDLE)) {
            Path socket = ControlSocket.path(data);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())),
                    "only the server's user and root reach the socket");
            // past the memory limit: each message spools to a file, which every ending must take away
            String message = "Subject: hi\r\n\r\n" + "hello\r\n".repeat(dev.mailstack.store.MessageSpool.IN_MEMORY_MAX / 7 + 1);
            try (Raw c = new Raw(socket)) {
                assertEquals("ERR IMPORT address first", c.send("MAILBOX Old\n"));
                assertEquals("ERR IMPORT address first", c.send(chunked(message, "END 0 - INBOX")), "its chunks are skipped");
                assertEquals("ERR unknown request HELLO (IMPORT, MAILBOX, MESSAGE, USER)", c.send("HELLO\n"));
                assertEquals("OK", c.send("IMPORT alice@example.org\n"));
                assertEquals("ERR no user bob@example.org: create it first (mailstack user add)",
                        c.send("IMPORT bob@example.org\n"));
                assertEquals("ERR IMPORT address first", c.send("MAILBOX Old\n"), "a failed IMPORT leaves no account chosen");
                assertEquals("OK", c.send("IMPORT alice@example.org\n"));
                assertTrue(c.send("MAILBOX a//b\n").startsWith("ERR mailbox name has an empty level"));
                assertEquals("OK", c.send("MAILBOX Old\n"));
                assertEquals("ERR not a time in milliseconds: soon", c.send(chunked(message, "END soon - Old")));
                assertTrue(c.send(chunked(message, "END 0 - Missing")).startsWith("ERR "), "no such mailbox");
                assertEquals("OK", c.send(chunked(message, "DROP")));
                assertEquals("OK", c.send(chunked(message, "END 1700000000000 SF Old")));
                assertEquals("ERR DATA needs an octet count from 0 to 1073741824; connection closed",
                        c.send("MESSAGE\nDATA many\n"));
                assertNull(c.in.readLine(), "closed");
            }
            try (Raw c = new Raw(socket)) {
                assertEquals("ERR END outside a MESSAGE; connection closed", c.send("END 0 - INBOX\n"));
            }
            try (Raw c = new Raw(socket)) {
                assertEquals("ERR request line over 4096 bytes; connection closed", c.send("X".repeat(5000) + "\n"));
            }
            var alice = store.open(store.accounts().find("alice@example.org").orElseThrow().id());
            try (MailboxView old = alice.select(new MailboxName("Old"))) {
                assertEquals(1, old.size(), "only the message that ended well was stored");
                assertEquals(EnumSet.of(Flag.SEEN, Flag.FLAGGED), old.messages().get(0).flags().system());
                assertEquals(1700000000000L, old.messages().get(0).internalDate().toEpochMilli());
            }
            assertEquals(0, spoolFiles(data), "refused, dropped and broken messages leave no spool file");
        }
        assertTrue(Files.notExists(ControlSocket.path(data)), "closing removes the socket");
    }

    /** mailstack user add, passwd and del as the server gets them: applied by its store, refusals in the store's words. */
    @Test
    void userRequestsAndTheirErrors() throws Exception {
        Path data = dir.resolve("data");
        try (MailboxStore store = storeWithAlice(data);
             ControlSocket control = open(data, store, ControlSocket.IDLE)) {
            String hash = PasswordScheme.hash("new");
            Account alice = store.accounts().find("alice@example.org").orElseThrow();
            AtomicInteger ended = new AtomicInteger(); // what alice's IMAP and POP3 sessions listen to
            try (AutoCloseable session = store.accounts().watch(alice.id(), ended::incrementAndGet);
                 Raw c = new Raw(ControlSocket.path(data))) {
                assertEquals("ERR unknown request USER MOVE (USER ADD, USER PASSWD, USER QUOTA, USER DEL, USER DISABLE, USER ENABLE)",
                        c.send("USER MOVE x\n"));
                assertEquals("ERR USER ADD hash quota address", c.send("USER ADD " + hash + " bob@example.org\n"));
                assertEquals("ERR not a whole SHA512-CRYPT hash ($6$[rounds=N$]salt$ and 86 characters of digest)", c.send("USER ADD secret - bob@example.org\n"));
                assertEquals("ERR not a quota in bytes (or - for none): lots",
                        c.send("USER ADD " + hash + " lots bob@example.org\n"));
                assertEquals("ERR domain example.net is not hosted here: add it first (mailstack domain add example.net)",
                        c.send("USER ADD " + hash + " - bob@example.net\n"));
                assertEquals("OK", c.send("USER ADD " + hash + " 1000 Bob@Example.org\n"));
                assertEquals("ERR user bob@example.org exists already", c.send("USER ADD " + hash + " - bob@example.org\n"));

                assertEquals("ERR USER PASSWD hash address", c.send("USER PASSWD alice@example.org\n"));
                assertEquals("ERR no user carol@example.org", c.send("USER PASSWD " + hash + " carol@example.org\n"));
                assertEquals("OK", c.send("USER PASSWD " + hash + " alice@example.org\n"));
                assertTrue(store.accounts().authenticate("alice@example.org", "pw").isEmpty(), "the old password is refused");
                assertTrue(store.accounts().authenticate("alice@example.org", "new").isPresent());
                assertEquals(0, ended.get(), "a new password leaves open sessions alone");

                assertEquals("ERR USER QUOTA quota address", c.send("USER QUOTA alice@example.org\n"));
                assertEquals("ERR not a quota in bytes (or - for none): -3", c.send("USER QUOTA -3 alice@example.org\n"));
                assertEquals("ERR no user carol@example.org", c.send("USER QUOTA 5 carol@example.org\n"));
                assertEquals("OK", c.send("USER QUOTA 4096 alice@example.org\n"));
                assertEquals(4096, store.accounts().find("alice@example.org").orElseThrow().quotaBytes().getAsLong());
                assertEquals("OK", c.send("USER QUOTA - alice@example.org\n"));
                assertTrue(store.accounts().find("alice@example.org").orElseThrow().quotaBytes().isEmpty());

                assertEquals("ERR no user carol@example.org", c.send("USER DISABLE carol@example.org\n"));
                assertEquals("OK", c.send("USER DISABLE alice@example.org\n"));
                assertEquals(1, ended.get(), "disabling ends the account's sessions");
                assertTrue(store.accounts().authenticate("alice@example.org", "new").isEmpty());
                assertEquals("OK", c.send("USER ENABLE alice@example.org\n"));
                assertTrue(store.accounts().authenticate("alice@example.org", "new").isPresent());
                ended.set(0);
                store.accounts().watch(alice.id(), ended::incrementAndGet); // a session of the enabled account; told below

                assertEquals("ERR no user carol@example.org", c.send("USER DEL carol@example.org\n"));
                assertEquals("ERR not an address (want user@domain): ", c.send("USER DEL\n"));
                assertEquals("OK", c.send("USER DEL alice@example.org\n"));
                assertEquals(1, ended.get(), "the account's sessions were told before the OK");
                assertEquals("OK", c.send("IMPORT bob@example.org\n"), "the connection goes on after USER requests");
            }
            assertTrue(store.accounts().find("alice@example.org").isEmpty());
            assertEquals(1000, store.accounts().find("bob@example.org").orElseThrow().quotaBytes().getAsLong());
            assertTrue(store.accounts().authenticate("bob@example.org", "new").isPresent());
        }
    }

    /**
     * The command line goes through the socket whenever another holder of the data folder answers
     * there (here this JVM's, as a running server's would), and refuses when none does.
     */
    @Test
    void userCommandsGoThroughTheServerThatOwnsTheFolder() throws Exception {
        Path data = dir.resolve("data");
        String folder = data.toString();
        try (MailboxStore store = storeWithAlice(data);
             DataFolderLock owner = DataFolderLock.tryTake(data).orElseThrow()) {
            assertEquals(1, cli("user", "del", "alice@example.org", "--data", folder), "no socket: refused, not written");
            String refusal = lastErr.toString(StandardCharsets.UTF_8);
            assertTrue(refusal.contains("no server answered on " + ControlSocket.path(data) + " for 10 s: a server that is"
                    + " still starting (try again in a moment), an import with no server running (wait for it to end), or"
                    + " a server whose control socket is off (its log says why)"), refusal);
            assertTrue(store.accounts().find("alice@example.org").isPresent());
            try (ControlSocket control = open(data, store, ControlSocket.IDLE)) {
                AtomicInteger ended = new AtomicInteger();
                Account alice = store.accounts().find("alice@example.org").orElseThrow();
                try (AutoCloseable session = store.accounts().watch(alice.id(), ended::incrementAndGet)) {
                    assertEquals(1, Main.run("user", "del", "nobody@example.org", "--data", folder));
                    assertEquals(0, Main.run("user", "del", "alice@example.org", "--data", folder));
                    assertEquals(1, ended.get(), "the deletion reached the server's sessions");
                }
                Path users = dir.resolve("users.txt");
                Files.writeString(users, "carol@example.org pw\nnobody@example.net pw\n");
                assertEquals(1, Main.run("user", "import", users.toString(), "--data", folder), "one of two lines failed");
                assertTrue(store.accounts().authenticate("carol@example.org", "pw").isPresent());
            }
        }
        assertFalse(Files.exists(ControlSocket.path(data)));
    }

    /**
     * The watchdog counts only the time the server waits on its client: a request the server works
     * on longer than the limit (a USER DEL of an account with very many messages) gets its answer,
     * while a silent connection opened after it began is cut. The account's watcher stands in for
     * the long work: it runs on the deleting thread and holds it until released.
     */
    @Test
    @Timeout(60)
    void aRequestLongerThanTheIdleLimitIsAnsweredWhileASilentClientIsCut() throws Exception {
        Path data = dir.resolve("data");
        try (MailboxStore store = storeWithAlice(data);
             ControlSocket control = open(data, store, Duration.ofMillis(1500))) {
            Path socket = ControlSocket.path(data);
            Account alice = store.accounts().find("alice@example.org").orElseThrow();
            CountDownLatch deleting = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            Runnable slowWork = () -> {
                deleting.countDown();
                try {
                    finish.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            try (AutoCloseable watch = store.accounts().watch(alice.id(), slowWork);
                 Raw busy = new Raw(socket)) {
                busy.out.write("USER DEL alice@example.org\n".getBytes(StandardCharsets.US_ASCII));
                busy.out.flush();
                assertTrue(deleting.await(20, TimeUnit.SECONDS), "the deletion began");
                try (Raw silent = new Raw(socket)) {
                    // Silent since after the deletion began: once it is cut, the busy connection has
                    // been "silent" longer and would have been cut in the same pass or before.
                    assertNull(silent.in.readLine(), "the watchdog closes a silent connection");
                }
                finish.countDown();
                assertEquals("OK", busy.in.readLine(), "the long request was answered");
                assertEquals("ERR no user alice@example.org", busy.send("USER DEL alice@example.org\n"), "and goes on");
            }
        }
    }

    /**
     * The socket is named for what it carries; one a server of the former name left behind (killed,
     * or stopped for an update) is removed, so only the live socket is there to be found.
     */
    @Test
    void theSocketIsControlSockAndAFormerImportSockIsRemoved() throws Exception {
        Path data = dir.resolve("data");
        Path former = DataFolderLock.controlFolder(data).resolve("import.sock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(former)); // closing leaves the file, as SIGKILL does
        }
        try (MailboxStore store = storeWithAlice(data);
             ControlSocket control = open(data, store, ControlSocket.IDLE)) {
            assertEquals(data.resolve("control/control.sock"), ControlSocket.path(data));
            assertTrue(Files.notExists(former), "the former socket is gone");
            try (Raw c = new Raw(ControlSocket.path(data))) {
                assertEquals("OK", c.send("IMPORT alice@example.org\n"));
            }
        }
    }

    /**
     * A negative --quota is a usage error before anything is asked or sent, with no server and with
     * one; user quota changes the limit both ways, in bytes or with a 1024-based suffix.
     */
    @Test
    void quotasWithAndWithoutAServer() throws Exception {
        Path data = dir.resolve("data");
        String folder = data.toString();
        try (MailboxStore store = storeWithAlice(data)) {
            // store open, lock free: the command would write to the store itself
        }
        assertEquals(2, userAdd("bob@example.org", folder, "--quota", "-5"), "no server: refused as a usage error");
        String refusal = lastErr.toString(StandardCharsets.UTF_8);
        assertTrue(refusal.contains("--quota: not a quota: \"-5\" (bytes, or a number with K, M, G or T"), refusal);
        assertEquals(0, cli("user", "quota", "alice@example.org", "500M", "--data", folder), "no server: into the store");
        assertEquals(2, cli("user", "quota", "alice@example.org", "lots", "--data", folder));
        assertEquals(1, cli("user", "quota", "carol@example.org", "1K", "--data", folder), "no such user");
        try (MailboxStore store = MailboxStore.open(data, null);
             DataFolderLock owner = DataFolderLock.tryTake(data).orElseThrow();
             ControlSocket control = open(data, store, ControlSocket.IDLE)) {
            assertTrue(store.accounts().find("bob@example.org").isEmpty(), "nothing was made");
            assertEquals(2, userAdd("bob@example.org", folder, "--quota", "-1"), "through a server: refused the same way");
            assertTrue(lastErr.toString(StandardCharsets.UTF_8).contains("not a quota"));
            assertEquals(0, userAdd("bob@example.org", folder, "--quota", "0"), "0 is a limit (nothing may be stored)");
            assertEquals(0, store.accounts().find("bob@example.org").orElseThrow().quotaBytes().getAsLong());
            assertEquals(500L << 20, store.accounts().find("alice@example.org").orElseThrow().quotaBytes().getAsLong());
            assertEquals(0, cli("user", "quota", "alice@example.org", "2g", "--data", folder), "through the server");
            assertEquals(2L << 30, store.accounts().find("alice@example.org").orElseThrow().quotaBytes().getAsLong());
            assertEquals(0, cli("user", "quota", "alice@example.org", "none", "--data", folder));
            assertTrue(store.accounts().find("alice@example.org").orElseThrow().quotaBytes().isEmpty());
            assertEquals(1, cli("user", "quota", "carol@example.org", "1K", "--data", folder), "no such user, said by the server");
            assertTrue(lastErr.toString(StandardCharsets.UTF_8).contains("no user carol@example.org"), lastErr.toString(StandardCharsets.UTF_8));
        }
    }

    private ByteArrayOutputStream lastErr = new ByteArrayOutputStream();

    /** mailstack user add with the password on standard input. */
    private int userAdd(String address, String folder, String... more) {
        return cli(Stream.concat(Stream.of("user", "add", address, "--password-stdin", "--data", folder), Stream.of(more))
                .toArray(String[]::new));
    }

    /** The command line with "pw" on standard input; what it wrote to standard error is in lastErr. */
    private int cli(String... args) {
        InputStream stdin = System.in;
        PrintStream stderr = System.err;
        lastErr = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream("pw\n".getBytes(StandardCharsets.UTF_8)));
            System.setErr(new PrintStream(lastErr, true, StandardCharsets.UTF_8));
            return Main.run(args);
        } finally {
            System.setIn(stdin);
            System.setErr(stderr);
        }
    }

    /**
     * A server takes the data folder before it opens its store and its socket after: a command run
     * in between says it waits, and goes through the socket once it opens.
     */
    @Test
    @Timeout(60)
    void aCommandRunWhileTheServerStartsWaitsForItsSocket() throws Exception {
        Path data = dir.resolve("data");
        String folder = data.toString();
        try (MailboxStore store = storeWithAlice(data);
             DataFolderLock owner = DataFolderLock.tryTake(data).orElseThrow()) { // the server, not yet listening
            CountDownLatch waitingOrDone = new CountDownLatch(1);
            StringBuffer said = new StringBuffer();
            OutputStream stderr = new OutputStream() {
                @Override
                public void write(int b) {
                    write(new byte[]{(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    said.append(new String(b, off, len, StandardCharsets.UTF_8));
                    if (said.indexOf("waiting up to 10 s") >= 0) {
                        waitingOrDone.countDown();
                    }
                }
            };
            PrintStream before = System.err;
            System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
            try {
                FutureTask<Integer> del = new FutureTask<>(() -> {
                    try {
                        return Main.run("user", "del", "alice@example.org", "--data", folder);
                    } finally {
                        waitingOrDone.countDown();
                    }
                });
                Thread.ofVirtual().start(del);
                assertTrue(waitingOrDone.await(30, TimeUnit.SECONDS));
                assertFalse(del.isDone(), "still waiting for the socket; said: " + said);
                assertTrue(said.indexOf("another mailstack process owns " + folder + " and has no control socket yet"
                        + " (a server starting?); waiting up to 10 s for it") >= 0, said.toString());
                try (ControlSocket control = open(data, store, ControlSocket.IDLE)) {
                    assertEquals(0, del.get(30, TimeUnit.SECONDS), said.toString());
                }
            } finally {
                System.setErr(before);
            }
            assertTrue(store.accounts().find("alice@example.org").isEmpty(), "deleted by the server it waited for");
        }
    }

    @Test
    @Timeout(60)
    void silentConnectionsAreClosedAndAStopEndsAHalfSentMessage() throws Exception {
        Path data = dir.resolve("data");
        try (MailboxStore store = storeWithAlice(data)) {
            Path socket = ControlSocket.path(data);
            try (ControlSocket control = open(data, store, Duration.ofMillis(1500));
                 Raw silent = new Raw(socket)) {
                assertEquals("OK", silent.send("IMPORT alice@example.org\n"));
                silent.out.write("MESSAGE\nDATA 100\nonly part of it".getBytes(StandardCharsets.US_ASCII));
                silent.out.flush();
                assertNull(silent.in.readLine(), "the watchdog closes a connection that went silent");
            }
            ControlSocket control = open(data, store, ControlSocket.IDLE);
            try (Raw half = new Raw(socket)) {
                assertEquals("OK", half.send("IMPORT alice@example.org\n"));
                // past what is held in memory, so that the spool file shows the server reading it
                int part = dev.mailstack.store.MessageSpool.IN_MEMORY_MAX + 100;
                half.out.write(("MESSAGE\nDATA " + 2 * part + "\n" + "x".repeat(part)).getBytes(StandardCharsets.US_ASCII));
                half.out.flush();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (spoolFiles(data) == 0) {
                    assertTrue(System.nanoTime() < deadline, "the server began the message");
                    java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
                }
                long start = System.nanoTime();
                control.close();
                assertTrue(System.nanoTime() - start < Duration.ofSeconds(4).toNanos(), "a stop does not wait for the client");
                assertNull(half.in.readLine(), "closed by the stop");
            }
            assertEquals(0, spoolFiles(data), "the half-sent message left no spool file");
        }
    }
}

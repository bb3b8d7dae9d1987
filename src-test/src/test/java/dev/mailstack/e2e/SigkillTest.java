package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.PasswordScheme;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server in a child JVM, killed with SIGKILL right after it said 250, and in the middle of a
 * DATA transfer: after a restart every accepted message is delivered exactly once, and the
 * unfinished one not at all (STYLE.md R10).
 */
class SigkillTest {
    @TempDir
    Path dir;

    private Process serve(Path data, int smtpPort) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        return ServerProcess.builder(data, smtpPort).redirectOutput(dir.resolve("server.log").toFile()).start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitListening(int port) throws InterruptedException {
        Await.until("the server to listen on " + port, Duration.ofSeconds(60), () -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static long inbox(Path data) {
        try (MailboxStore store = MailboxStore.open(data, null)) {
            var alice = store.accounts().find("alice@example.org").orElseThrow();
            return store.open(alice.id()).status(MailboxName.INBOX).messages();
        }
    }

    private static long queued(Path data) {
        try (MailboxStore store = MailboxStore.open(data, null)) {
            return store.queue().list().size();
        }
    }

    private static void begin(LineClient c, String subject) throws IOException {
        c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
        c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        c.send("DATA").expect("354 .*");
        c.send("Subject: " + subject);
        c.send("");
    }

    @Test
    void killedRightAfter250AndDuringDataThenRestarted() throws Exception {
        Path data = dir.resolve("data");
        try (MailboxStore store = MailboxStore.open(data, null)) {
            store.accounts().addDomain("example.org");
            store.accounts().addUser("alice@example.org", PasswordScheme.hash("secret"));
        }
        int port = freePort();
        Process server = serve(data, port);
        try {
            awaitListening(port);
            try (LineClient c = new LineClient(port); LineClient unfinished = new LineClient(port)) {
                c.expect("220 .*");
                unfinished.expect("220 .*");
                c.send("HELO client").expect("250 .*");
                unfinished.send("HELO client").expect("250 .*");
                begin(unfinished, "never finished");
                unfinished.send(LARGE_BODY); // both past the memory limit: each spooled to a file
                begin(c, "acknowledged");
                c.send(LARGE_BODY);
                c.send(".");
                c.expect("250 2.0.0 Ok: queued as .*");
                server.destroyForcibly(); // SIGKILL the moment the client was told 250
                assertTrue(server.waitFor(20, TimeUnit.SECONDS));
            }
        } finally {
            server.destroyForcibly();
        }
        Process restarted = serve(data, port);
        try {
            awaitListening(port);
            Await.until("the accepted message is delivered after the restart", Duration.ofSeconds(30),
                    () -> inbox(data) >= 1 && queued(data) == 0);
            assertEquals(1, inbox(data), "delivered exactly once, and nothing of the unfinished DATA");
        } finally {
            restarted.destroy();
            assertTrue(restarted.waitFor(30, TimeUnit.SECONDS));
        }
        try (MailboxStore store = MailboxStore.open(data, null)) {
            var alice = store.open(store.accounts().find("alice@example.org").orElseThrow().id());
            try (var in = alice.openContent(alice.select(MailboxName.INBOX).messages().getFirst())) {
                String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
                assertTrue(text.contains("Subject: acknowledged\r\n") && text.endsWith(LARGE_BODY + "\r\n"), "the whole message");
            }
        }
    }

    /** Past MessageSpool.IN_MEMORY_MAX: a message with it is written to a spool file as it comes. */
    private static final String LARGE_BODY = ("x".repeat(76) + "\r\n").repeat(1700) + "the end of the body";
}

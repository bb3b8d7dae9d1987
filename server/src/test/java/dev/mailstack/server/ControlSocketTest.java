package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.net.LineReader;
import dev.mailstack.store.Flag;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MailboxView;
import dev.mailstack.store.PasswordScheme;
import java.io.IOException;
import java.io.OutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket's requests and its answers to wrong ones, spoken raw. */
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

    @Test
    void requestsAndTheirErrors() throws Exception {
        Path data = dir.resolve("data");
        try (MailboxStore store = MailboxStore.open(data, null)) {
            store.accounts().addDomain("example.org");
            store.accounts().addUser("alice@example.org", PasswordScheme.hash("pw"));
            try (ControlSocket control = ControlSocket.open(data, store, MimeLimits.defaults()).orElseThrow()) {
                Path socket = ControlSocket.path(data);
                assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())),
                        "only the server's user reaches the socket");
                try (Raw c = new Raw(socket)) {
                    assertEquals("ERR IMPORT address first", c.send("MAILBOX Old\n"));
                    assertEquals("ERR IMPORT address first", c.send("MESSAGE 5 0 - INBOX\nhello"), "the octets are skipped");
                    assertEquals("ERR unknown request HELLO (IMPORT, MAILBOX or MESSAGE)", c.send("HELLO\n"));
                    assertEquals("ERR no user bob@example.org: create it first (mailstack user add)",
                            c.send("IMPORT bob@example.org\n"));
                    assertEquals("OK", c.send("IMPORT alice@example.org\n"));
                    assertTrue(c.send("MAILBOX a//b\n").startsWith("ERR mailbox name has an empty level"));
                    assertEquals("OK", c.send("MAILBOX Old\n"));
                    String message = "Subject: hi\r\n\r\nhello\r\n";
                    assertEquals("ERR not a time in milliseconds: soon",
                            c.send("MESSAGE " + message.length() + " soon - Old\n" + message));
                    assertEquals("OK", c.send("MESSAGE " + message.length() + " 1700000000000 SF Old\n" + message));
                    assertEquals("ERR MESSAGE needs its octet count first; connection closed", c.send("MESSAGE many\n"));
                    assertNull(c.in.readLine(), "closed");
                }
                try (Raw c = new Raw(socket)) {
                    assertEquals("ERR request line over 4096 bytes; connection closed", c.send("X".repeat(5000) + "\n"));
                }
                var alice = store.open(store.accounts().find("alice@example.org").orElseThrow().id());
                try (MailboxView old = alice.select(new MailboxName("Old"))) {
                    assertEquals(1, old.size(), "only the well-formed MESSAGE was stored");
                    assertEquals(EnumSet.of(Flag.SEEN, Flag.FLAGGED), old.messages().get(0).flags().system());
                    assertEquals(1700000000000L, old.messages().get(0).internalDate().toEpochMilli());
                }
            }
            assertTrue(Files.notExists(ControlSocket.path(data)), "closing removes the socket");
        }
    }
}

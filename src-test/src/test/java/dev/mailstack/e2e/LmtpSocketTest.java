package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.server.ConfigKey;
import dev.mailstack.store.MailboxName;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** lmtp.socket in a whole server: open once it has started, delivering, and gone once it has stopped. */
class LmtpSocketTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void postfixsLmtpUnixTransportDeliversThroughTheServersSocket() throws Exception {
        Path folder = Files.createTempDirectory(Path.of("/tmp"), "mls"); // sun_path holds 108 bytes
        Path socket = folder.resolve("lmtp");
        try {
            try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org",
                    Map.of(ConfigKey.WARM_UP, "false", ConfigKey.LMTP_SOCKET, socket.toString()))) {
                mx.addUser("alice", "secret");
                try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
                    assertTrue(in.readLine().startsWith("220 "));
                    c.write(ByteBuffer.wrap(("LHLO postfix.example.org\r\nMAIL FROM:<bob@remote.test>\r\n"
                            + "RCPT TO:<alice@example.org>\r\nDATA\r\n").getBytes(StandardCharsets.UTF_8)));
                    String line;
                    do {
                        line = in.readLine();
                    } while (line.startsWith("250-"));
                    assertTrue(in.readLine().startsWith("250 "), "MAIL");
                    assertTrue(in.readLine().startsWith("250 "), "RCPT");
                    assertTrue(in.readLine().startsWith("354 "), "DATA");
                    c.write(ByteBuffer.wrap("Subject: via lmtp:unix\r\n\r\nhi\r\n.\r\nQUIT\r\n".getBytes(StandardCharsets.UTF_8)));
                    assertTrue(in.readLine().startsWith("250 2.0.0 "));
                    assertTrue(in.readLine().startsWith("221 "));
                }
                var alice = mx.server.store().open(mx.server.store().accounts().find("alice@example.org").orElseThrow().id());
                Await.until("the message in alice's INBOX", Duration.ofSeconds(20),
                        () -> alice.status(MailboxName.INBOX).messages() == 1);
            }
            assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "the socket file goes when the server stops");
        } finally {
            Files.deleteIfExists(socket);
            Files.delete(folder);
        }
    }
}

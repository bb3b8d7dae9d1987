package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.server.ConfigKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server whose disk fills up: clients get temporary refusals (SMTP 452 4.3.1, IMAP NO
 * [OVERQUOTA]) and their sessions go on, nothing is half-stored, and the store keeps serving,
 * on a real full file system (a tmpfs of 16 MiB, where this test may mount one: Linux, as root).
 */
class DiskFullTest {
    private static final int LINE = 1000;

    @TempDir
    Path dir;

    @Test
    void aFullDiskGetsTemporaryRefusalsAndTheServerGoesOn() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", data.toString()),
                "needs a tmpfs of its own (Linux, root)");
        try (RunningServer mx = RunningServer.start(data, "example.org",
                Map.of(ConfigKey.WARM_UP, "false", ConfigKey.STORE_MIN_FREE_BYTES, "0"))) {
            mx.addUser("alice", "secret");
            try (LineClient c = new LineClient(mx.port("smtp"))) {
                c.expect("220 .*");
                c.send("HELO client.test").expect("250 .*");
                // no SIZE, no reserve: the disk fills while the message is written
                c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
                c.send("RCPT TO:<alice@example.org>").expect("250 .*");
                c.send("DATA").expect("354 .*");
                c.sendBytes(body("too big for the disk", 20_000)); // 20 MB
                c.expect("452 4.3.1 Insufficient system storage: .*");
                // what was written of it is gone again, so a small message fits
                c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
                c.send("RCPT TO:<alice@example.org>").expect("250 .*");
                c.send("DATA").expect("354 .*");
                c.sendBytes(body("small", 10));
                c.expect("250 2.0.0 .*");
                c.send("QUIT").expect("221 .*");
            }
            mx.awaitMessages("alice@example.org", dev.mailstack.store.MailboxName.INBOX, 1); // the small message delivered
            try (LineClient c = new LineClient(mx.port("imap"))) {
                c.expect("\\* OK .*");
                c.send("a LOGIN alice@example.org secret").expect("a OK .*");
                // a literal's size is known before it is sent: one that cannot fit is refused at once
                c.send("b APPEND INBOX {20000000}").expect("b NO \\[OVERQUOTA\\] Not enough disk space on the server; try again later");
                c.send("c SELECT INBOX");
                c.expectEventually("c OK .*");
                c.send("d FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])").expect("\\* 1 FETCH .*");
                c.expect("Subject: small");
                c.expectEventually("d OK FETCH completed");
                c.send("e STATUS INBOX (MESSAGES)").expect("\\* STATUS \"INBOX\" \\(MESSAGES 1\\)");
                c.expect("e OK .*");
                // with a reserve (a SIGHUP applies it), mail is refused before anything is written
                mx.reload(Map.of(ConfigKey.STORE_MIN_FREE_BYTES, String.valueOf(32L << 20)));
                c.send("f APPEND INBOX {10}").expect("f NO \\[OVERQUOTA\\] .*");
            }
            try (LineClient c = new LineClient(mx.port("smtp"))) {
                c.expect("220 .*");
                c.send("EHLO client.test").expectEventually("250 .*");
                c.send("MAIL FROM:<bob@remote.test> SIZE=100").expect("452 4.3.1 .*");
            }
            try (var spool = Files.list(data.resolve("contents/spool"))) {
                assertTrue(spool.findAny().isEmpty(), "no refused message is left in the spool");
            }
        } finally {
            assertTrue(run("umount", data.toString()) || run("umount", "-l", data.toString()), "unmounted");
        }
    }

    /** A message of {@code lines} lines of 1,000 octets, ended by the final dot (also a literal: the dot is harmless there). */
    private static byte[] body(String subject, int lines) {
        StringBuilder b = new StringBuilder(lines * (LINE + 2) + 100).append("Subject: ").append(subject).append("\r\n\r\n");
        String line = "x".repeat(LINE) + "\r\n";
        for (int i = 0; i < lines; i++) {
            b.append(line);
        }
        return b.append(".\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}

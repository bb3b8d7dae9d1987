package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.TestTls;
import dev.mailstack.server.ConfigKey;
import dev.mailstack.store.MailboxName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * curl as a third, independent client (its own SMTP, IMAP and POP3 code, OpenSSL for STARTTLS,
 * checking the certificate against the test CA and the name localhost): a Chinese message sent
 * over submission and read back byte for byte over IMAP and POP3, and the refusals curl turns into
 * its documented exit codes. Runs where curl is installed.
 */
class CurlClientTest {
    /**
     * curl's exit codes (curl(1), EXIT CODES): 67 login denied; 55 "failed sending network data",
     * which is what curl's SMTP code gives for a refused RCPT TO (its reply text says which).
     */
    private static final int LOGIN_DENIED = 67;
    private static final int RCPT_FAILED = 55;

    @TempDir
    Path dir;
    private RunningServer mx;
    private Path caFile;

    /** A curl with SMTP, IMAP, POP3 and TLS (curl-minimal, as some distributions ship it, has none of them). */
    @BeforeAll
    static void curlIsThere() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed");
        Process p = new ProcessBuilder("/usr/bin/curl", "-q", "--version").redirectErrorStream(true).start();
        String version = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        String protocols = version.lines().filter(l -> l.startsWith("Protocols:")).findFirst().orElse("") + " ";
        String features = version.lines().filter(l -> l.startsWith("Features:")).findFirst().orElse("") + " ";
        Assumptions.assumeTrue(List.of("smtp", "imap", "pop3").stream().allMatch(x -> protocols.contains(" " + x + " "))
                && features.contains(" SSL "), "this curl lacks SMTP, IMAP, POP3 or TLS:\n" + version);
    }

    @BeforeEach
    void start() throws IOException {
        Path[] pem = TestTls.pemFiles(Files.createDirectories(dir.resolve("tls")));
        caFile = pem[0]; // self-signed for localhost: its own authority
        mx = RunningServer.start(dir.resolve("data"), "example.org",
                Map.of(ConfigKey.TLS_CERTIFICATE, pem[0].toString(), ConfigKey.TLS_KEY, pem[1].toString()));
        mx.addUser("alice", "secret");
        mx.addUser("bob", "secret");
    }

    @AfterEach
    void stop() {
        mx.close();
    }

    private record Result(int exit, byte[] out, String err) {
        String text() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    /** curl against {@code scheme://localhost:port/path} (localhost pinned to 127.0.0.1), STARTTLS required. */
    private Result curl(String scheme, String endpoint, String path, String user, String... more) throws Exception {
        int port = mx.port(endpoint);
        // -q first: no ~/.curlrc; --noproxy: no *_proxy variable sends loopback traffic elsewhere
        List<String> command = new ArrayList<>(List.of("/usr/bin/curl", "-q", "--noproxy", "*", "--silent", "--show-error", "--ssl-reqd",
                "--cacert", caFile.toString(), "--resolve", "localhost:" + port + ":127.0.0.1", "--max-time", "30"));
        if (user != null) {
            command.addAll(List.of("--user", user));
        }
        command.addAll(List.of(more));
        command.add(scheme + "://localhost:" + port + path);
        // --upload-file - reads the message from here; the other commands read nothing
        Process p = new ProcessBuilder(command).redirectInput(dir.resolve("message.eml").toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(40, TimeUnit.SECONDS), "curl finished");
        return new Result(p.exitValue(), out, err);
    }

    @Test
    void aChineseMessageSentWithCurlReadsBackTheSameOverImapAndPop3() throws Exception {
        String subject = "=?UTF-8?B?" + java.util.Base64.getEncoder().encodeToString("季度报告".getBytes(StandardCharsets.UTF_8)) + "?=";
        Files.writeString(dir.resolve("message.eml"), "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: " + subject
                + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + "你好，鲍勃！\r\n.leading dot survives\r\n", StandardCharsets.UTF_8);
        Result sent = curl("smtp", "submission", "", "alice@example.org:secret",
                "--mail-from", "alice@example.org", "--mail-rcpt", "bob@example.org", "--upload-file", "-");
        assertEquals(0, sent.exit(), sent.err());
        Await.until("the message in bob's INBOX", Duration.ofSeconds(20), () -> mx.server.store().accounts()
                .find("bob@example.org").map(a -> mx.server.store().open(a.id()).status(MailboxName.INBOX).messages() == 1)
                .orElse(false));

        Result list = curl("imap", "imap", "/", "bob@example.org:secret");
        assertEquals(0, list.exit(), list.err());
        assertTrue(list.text().contains("INBOX") && list.text().contains("Sent"), list.text());
        Result imap = curl("imap", "imap", "/INBOX;UID=1", "bob@example.org:secret");
        assertEquals(0, imap.exit(), imap.err());
        String fetched = imap.text();
        assertTrue(fetched.contains("Subject: " + subject), fetched);
        assertTrue(fetched.contains("你好，鲍勃！\r\n.leading dot survives\r\n"), "8-bit UTF-8 body unchanged, dot unstuffed: " + fetched);
        assertTrue(fetched.startsWith("Return-Path: <alice@example.org>\r\nReceived: "), fetched);

        Result pop3 = curl("pop3", "pop3", "/1", "bob@example.org:secret");
        assertEquals(0, pop3.exit(), pop3.err());
        assertArrayEquals(imap.out(), pop3.out(), "POP3 RETR gives the very octets of IMAP's BODY[]");
        Result pop3List = curl("pop3", "pop3", "/", "bob@example.org:secret");
        assertEquals("1 " + imap.out().length + "\r\n", pop3List.text(), "LIST announces the octets RETR sends");
    }

    @Test
    void wrongPasswordsAndARelayWithoutLoginAreRefused() throws Exception {
        Files.writeString(dir.resolve("message.eml"), "Subject: x\r\n\r\nx\r\n");
        Result imap = curl("imap", "imap", "/", "bob@example.org:wrong");
        assertEquals(LOGIN_DENIED, imap.exit(), imap.err());
        Result pop3 = curl("pop3", "pop3", "/", "bob@example.org:wrong");
        assertEquals(LOGIN_DENIED, pop3.exit(), pop3.err());
        Result smtp = curl("smtp", "submission", "", "alice@example.org:wrong",
                "--mail-from", "alice@example.org", "--mail-rcpt", "bob@example.org", "--upload-file", "-");
        assertEquals(LOGIN_DENIED, smtp.exit(), smtp.err());
        Result relay = curl("smtp", "smtp", "", null,
                "--mail-from", "someone@elsewhere.test", "--mail-rcpt", "victim@elsewhere.test", "--upload-file", "-");
        assertEquals(RCPT_FAILED, relay.exit(), "no open relay: " + relay.err());
        assertTrue(relay.err().contains("RCPT failed: 554"), relay.err());
    }
}

package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.server.ConfigKey;
import dev.mailstack.store.AccountId;
import dev.mailstack.store.MailboxName;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ManageSieve as the server wires it: its own listener, the shared store, the login metrics; and
 * the script it stores run on mail submitted to the running server, read back over IMAP.
 */
class ManageSieveTest {
    @TempDir
    Path dir;

    @Test
    void aUserUploadsAndActivatesAScriptThroughTheRunningServer() throws Exception {
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of(ConfigKey.HTTP_PORT, "0",
                ConfigKey.SIEVE_MAX_SCRIPTS, "1"))) {
            mx.addUser("alice", "secret");
            String plain = Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8));
            byte[] script = ("# 邮件列表\r\nrequire [\"fileinto\", \"mailbox\"];\r\n"
                    + "if header :contains \"subject\" \"季度\" { fileinto :create \"工作/报告\"; }\r\n")
                    .getBytes(StandardCharsets.UTF_8);
            try (LineClient c = new LineClient(mx.port("managesieve"))) {
                c.expect("\"IMPLEMENTATION\" \"mailstack\"");
                c.expect("\"SASL\" \"PLAIN LOGIN\""); // loopback: auth.plaintext's default allows it
                c.expectEventually("OK");
                c.send("AUTHENTICATE \"PLAIN\" \"" + plain + "\"").expect("OK .*");
                byte[] broken = "require \"fileinto\";\r\nfileinto \"x\"\r\n".getBytes(StandardCharsets.UTF_8);
                c.sendRaw("CHECKSCRIPT {" + broken.length + "+}\r\n").sendBytes(broken).sendRaw("\r\n");
                c.expect("NO \"line 2: .*\""); // the Sieve language's own check, with the line
                c.send("CHECKSCRIPT \"require \\\"foreverypart\\\";\"").expect("NO \"line 1: .*foreverypart.*\"");
                c.sendRaw("PUTSCRIPT \"lists\" {" + script.length + "+}\r\n").sendBytes(script).sendRaw("\r\n");
                c.expect("OK \"Script stored\"");
                c.send("PUTSCRIPT \"second\" \"keep;\"").expect("NO \\(QUOTA/MAXSCRIPTS\\) .*"); // sieve.max_scripts
                c.send("SETACTIVE \"lists\"").expect("OK .*");
                c.send("LOGOUT").expect("OK .*");
            }
            AccountId alice = mx.server.store().accounts().find("alice@example.org").orElseThrow().id();
            assertEquals(Optional.of(new String(script, StandardCharsets.UTF_8)),
                    mx.server.store().sieveScripts().activeSieveScript(alice));
            // what the script is for: mail to alice sorted as it arrives, read over IMAP where it went
            Properties p = new Properties();
            p.put("mail.smtp.host", "127.0.0.1");
            p.put("mail.smtp.port", Integer.toString(mx.port("submission")));
            p.put("mail.smtp.auth", "true");
            p.put("mail.imap.host", "127.0.0.1");
            p.put("mail.imap.port", Integer.toString(mx.port("imap")));
            Session session = Session.getInstance(p);
            MimeMessage m = new MimeMessage(session);
            m.setFrom("alice@example.org");
            m.setRecipients(Message.RecipientType.TO, "alice@example.org");
            m.setSubject("第三季度报告", "GBK");
            m.setText("见附件", "GBK");
            Transport.send(m, "alice@example.org", "secret");
            Await.until("delivery by the script", Duration.ofSeconds(20), () -> mx.server.store().open(alice)
                    .find(new MailboxName("工作/报告")).map(b -> mx.server.store().open(alice).status(b.name()).messages())
                    .orElse(0L) == 1);
            Store imap = session.getStore("imap");
            imap.connect("alice@example.org", "secret");
            try {
                Folder folder = imap.getFolder("工作").getFolder("报告");
                folder.open(Folder.READ_ONLY);
                assertEquals("第三季度报告", folder.getMessage(1).getSubject());
                assertEquals(0, imap.getFolder("INBOX").getMessageCount());
            } finally {
                imap.close();
            }
            String metrics = OperationsTest.get(mx.port("http"), "/metrics").body();
            assertTrue(metrics.contains("mailstack_connections_total{endpoint=\"managesieve\"} 1"), metrics);
            assertTrue(metrics.contains("mailstack_auth_total{endpoint=\"managesieve\",result=\"ok\"} 1"), metrics);
        }
    }
}

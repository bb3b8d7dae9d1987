package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real clients against a whole server: Angus Mail submits, reads over IMAP and POP3; a telnet user types Chinese. */
class EndToEndTest {
    static final String SUBJECT = "测试邮件：季度报告";
    static final String BODY = "你好，世界！这是一封 GBK 编码的邮件。\r\n";

    @TempDir
    Path dir;
    RunningServer mx;

    @BeforeEach
    void start() throws Exception {
        mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of());
        mx.addUser("alice", "secret");
        mx.addUser("bob", "secret");
    }

    @AfterEach
    void stop() {
        mx.close();
    }

    private Session session() {
        Properties p = new Properties();
        p.put("mail.smtp.host", "127.0.0.1");
        p.put("mail.smtp.port", Integer.toString(mx.port("submission")));
        p.put("mail.smtp.auth", "true");
        p.put("mail.imap.host", "127.0.0.1");
        p.put("mail.imap.port", Integer.toString(mx.port("imap")));
        p.put("mail.pop3.host", "127.0.0.1");
        p.put("mail.pop3.port", Integer.toString(mx.port("pop3")));
        return Session.getInstance(p);
    }

    @Test
    void submittedGbkMailIsReadBackOverImapAndPop3() throws Exception {
        Session s = session();
        MimeMessage m = new MimeMessage(s);
        m.setFrom(new InternetAddress("alice@example.org", "爱丽丝", "UTF-8"));
        m.setRecipients(Message.RecipientType.TO, "bob@example.org");
        m.setSubject(SUBJECT, "GBK");
        MimeBodyPart text = new MimeBodyPart();
        text.setText(BODY, "GBK");
        MimeBodyPart attachment = new MimeBodyPart();
        attachment.setContent(new byte[6000], "application/octet-stream");
        attachment.setFileName(jakarta.mail.internet.MimeUtility.encodeText("报告-附件.bin", "UTF-8", "B"));
        Multipart mp = new MimeMultipart(text, attachment);
        m.setContent(mp);
        Transport.send(m, "alice@example.org", "secret");

        mx.awaitMessages("bob@example.org", MailboxName.INBOX, 1);

        Store imap = s.getStore("imap");
        imap.connect("bob@example.org", "secret");
        try {
            Folder inbox = imap.getFolder("INBOX");
            inbox.open(Folder.READ_WRITE);
            Message got = inbox.getMessage(1);
            assertEquals(SUBJECT, got.getSubject());
            assertEquals("爱丽丝", ((InternetAddress) got.getFrom()[0]).getPersonal());
            Multipart content = (Multipart) got.getContent();
            assertEquals(BODY, content.getBodyPart(0).getContent());
            assertEquals("报告-附件.bin", jakarta.mail.internet.MimeUtility.decodeText(content.getBodyPart(1).getFileName()));
            assertEquals(6000, ((MimeBodyPart) content.getBodyPart(1)).getInputStream().readAllBytes().length);
            // SEARCH through a raw client: Angus Mail, after ENABLE UTF8=ACCEPT, cuts each search
            // character to one byte ("季度报告" goes out as "c\u00a6\u00a5J"), so it cannot test this.
            try (LineClient raw = new LineClient(mx.port("imap"))) {
                raw.expect("\\* OK .*");
                raw.send("a LOGIN bob@example.org secret").expect("a OK .*");
                raw.send("b SELECT INBOX");
                raw.expectEventually("b OK .*");
                raw.send("c SEARCH CHARSET UTF-8 SUBJECT {12}").expect("\\+ .*");
                raw.send("季度报告").expect("\\* SEARCH 1");
                raw.expect("c OK SEARCH completed");
                raw.send("d SEARCH CHARSET UTF-8 BODY \"世界\"").expect("\\* SEARCH 1");
                raw.expect("d OK SEARCH completed");
                raw.send("e SEARCH CHARSET UTF-8 BODY \"不存在\"").expect("\\* SEARCH");
                raw.expect("e OK SEARCH completed");
            }
            Folder sent = imap.getFolder("Sent");
            sent.appendMessages(new Message[]{m});
            assertEquals(1, sent.getMessageCount());
        } finally {
            imap.close();
        }

        Store pop = s.getStore("pop3");
        pop.connect("bob@example.org", "secret");
        try {
            Folder inbox = pop.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            assertEquals(1, inbox.getMessageCount());
            assertEquals(SUBJECT, inbox.getMessage(1).getSubject());
            inbox.close(false);
        } finally {
            pop.close();
        }
    }

    @Test
    void aMessageCanBeFollowedThroughTheLogsFromSmtpToAnImapFetchAndNoPasswordIsLogged() throws Exception {
        String plain = java.util.Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8));
        List<String> logged;
        try (LogCapture log = LogCapture.of("dev.mailstack")) {
            logged = log.lines();
            try (LineClient smtp = new LineClient(mx.port("submission"))) {
                smtp.expect("220 .*");
                smtp.send("EHLO client.example").expectEventually("250 .*");
                smtp.send("AUTH PLAIN " + plain).expect("235 .*");
                smtp.send("MAIL FROM:<alice@example.org>").expect("250 .*");
                smtp.send("RCPT TO:<bob@example.org>").expect("250 .*");
                smtp.send("DATA").expect("354 .*");
                smtp.send("Subject: follow me\r\n\r\nthrough the logs\r\n.").expect("250 .*");
            }
            mx.awaitMessages("bob@example.org", MailboxName.INBOX, 1);
            try (LineClient imap = new LineClient(mx.port("imap"))) {
                imap.expect("\\* OK .*");
                imap.send("a LOGIN bob@example.org secret").expect("a OK .*");
                imap.send("b SELECT INBOX").expectEventually("b OK .*");
                imap.send("c UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])").expectEventually("c OK .*");
                imap.send("d UID FETCH 1 (BODY.PEEK[])").expectEventually("d OK .*");
            }
        }
        String queued = logged.stream().filter(l -> l.startsWith("queued conn=")).findFirst().orElseThrow();
        String queue = queued.replaceAll(".* queue=(\\S+) .*", "$1");
        assertTrue(logged.contains("delivered queue=" + queue + " rcpt=bob@example.org user=bob@example.org mailbox=\"INBOX\" uid=1"),
                logged.toString());
        assertEquals(1, logged.stream().filter(l -> l.matches("fetch conn=\\S+ user=bob@example.org mailbox=\"INBOX\" uids=1"))
                .count(), "one line for the body fetch, none for the headers: " + logged);
        assertTrue(logged.stream().noneMatch(l -> l.contains("secret") || l.contains(plain)), logged.toString());
    }

    @Test
    void rawChineseTypedOverTelnetIsLabelledAndReadable() throws Exception {
        try (LineClient c = new LineClient(mx.port("smtp"))) {
            c.expect("220 .*");
            c.send("HELO laptop").expect("250 .*");
            c.send("MAIL FROM:<friend@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendBytes(("Subject: 你好 from telnet\r\n\r\n今天天气很好。\r\n.\r\n").getBytes(StandardCharsets.UTF_8));
            c.expect("250 .*");
            c.send("MAIL FROM:<friend@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendBytes("Subject: 国标\r\n\r\n国标编码的正文\r\n.\r\n".getBytes(java.nio.charset.Charset.forName("GBK")));
            c.expect("250 .*");
        }
        mx.awaitMessages("alice@example.org", MailboxName.INBOX, 2);
        Store imap = session().getStore("imap");
        imap.connect("alice@example.org", "secret");
        try {
            Folder inbox = imap.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            Message utf8 = inbox.getMessage(1);
            assertEquals("你好 from telnet", utf8.getSubject());
            assertTrue(utf8.getContentType().toLowerCase().contains("charset=utf-8"), utf8.getContentType());
            assertEquals("今天天气很好。\r\n", utf8.getContent());
            Message gbk = inbox.getMessage(2);
            assertEquals("国标", gbk.getSubject());
            assertTrue(gbk.getContentType().toLowerCase().contains("gb18030"), gbk.getContentType());
            assertEquals("国标编码的正文\r\n", gbk.getContent());
        } finally {
            imap.close();
        }
    }
}

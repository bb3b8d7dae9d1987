package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.Rfc2047;
import dev.mailstack.mime.TransferEncoding;
import dev.mailstack.sieve.MailtoUri;
import dev.mailstack.sieve.SieveAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The notification message RFC 5436 describes, as {@link Notifier#write} builds it. */
class NotifierTest {
    private static final VacationResponder.Header ORIGINAL = new VacationResponder.Header(List.of(
            "From: =?UTF-8?B?5byg5LiJ?= <zhang@example.net>\r\n", "Subject: Quarterly report\r\n",
            "Date: Sun, 6 Dec 2026 10:00:00 +0800\r\n"));

    private static SieveAction.Notify notify(String method, Optional<String> message) {
        return new SieveAction.Notify(method, Optional.empty(), 2, List.of(), message);
    }

    private static String written(SieveAction.Notify n) {
        MailtoUri uri = MailtoUri.parse(n.method()).orElseThrow();
        return new String(Notifier.write("alice@example.org", "alice@example.org", n, uri, ORIGINAL), StandardCharsets.UTF_8);
    }

    private static String head(String message) {
        return "\r\n" + message.substring(0, message.indexOf("\r\n\r\n") + 2);
    }

    @Test
    void theUrisSafeFieldsAreUsedAndItsSenderAndBccFieldsNever() {
        String m = written(notify("mailto:bob@example.org?cc=carol@example.org&bcc=eve@example.net&from=evil@example.net"
                + "&subject=Report%20in&in-reply-to=%3Cx@example.org%3E&Received=forged", Optional.empty()));
        String head = head(m);
        assertTrue(head.contains("\r\nTo: <bob@example.org>\r\n"), head);
        assertTrue(head.contains("\r\nCc: <carol@example.org>\r\n"), head);
        assertTrue(head.contains("\r\nFrom: <alice@example.org>\r\n"), head);
        assertTrue(head.contains("\r\nSubject: Report in\r\n"), "the URI's subject without :message: " + head);
        assertTrue(head.contains("\r\nIn-Reply-To: <x@example.org>\r\n"), head);
        assertFalse(head.toLowerCase().contains("eve@"), "no Bcc from a URI");
        assertFalse(head.contains("evil@") || head.contains("forged"), head);
        assertFalse(head.contains("Importance:"), "normal importance is left unsaid");
        assertFalse(head.contains("Precedence:"), head);
    }

    @Test
    void theSubjectIsTheMessageElseTheUrisElseOneNamingTheSender() {
        MailtoUri withSubject = MailtoUri.parse("mailto:bob@example.org?subject=From%20URI").orElseThrow();
        MailtoUri plain = MailtoUri.parse("mailto:bob@example.org").orElseThrow();
        assertEquals("Look: 新邮件", Notifier.subject(notify("mailto:bob@example.org", Optional.of("Look:\r\n新邮件")),
                withSubject, ORIGINAL), "one line, whatever the script put in it");
        assertEquals("From URI", Notifier.subject(notify("mailto:bob@example.org", Optional.empty()), withSubject, ORIGINAL));
        assertEquals("[SIEVE] New mail from 张三 <zhang@example.net>",
                Notifier.subject(notify("mailto:bob@example.org", Optional.empty()), plain, ORIGINAL));
        String m = written(notify("mailto:bob@example.org", Optional.of("新邮件")));
        String subject = head(m).lines().filter(l -> l.startsWith("Subject: ")).findFirst().orElseThrow();
        assertEquals("新邮件", Rfc2047.decode(subject.substring(9)), "RFC 2047 for a non-ASCII subject");
    }

    @Test
    void theBodySummarisesTheNotifiedMessageAndTheHeaderMarksItAutoNotified() {
        String m = written(new SieveAction.Notify("mailto:bob@example.org?body=See%20the%20report", Optional.empty(), 1,
                List.of(), Optional.of("Boss wrote")));
        String head = head(m);
        assertTrue(head.contains("\r\nAuto-Submitted: auto-notified; owner-email=\"alice@example.org\"\r\n"), head);
        assertTrue(head.contains("\r\nImportance: high\r\n"), head);
        String body = new String(TransferEncoding.decode(
                m.substring(m.indexOf("\r\n\r\n") + 4).getBytes(StandardCharsets.US_ASCII), "quoted-printable"), StandardCharsets.UTF_8);
        assertTrue(body.startsWith("Boss wrote\r\n\r\nSee the report\r\n"), body);
        assertTrue(body.contains("From: 张三 <zhang@example.net>\r\n"), body);
        assertTrue(body.contains("Subject: Quarterly report\r\n"), body);
        assertTrue(body.contains("Date: Sun, 6 Dec 2026 10:00:00 +0800\r\n"), body);
    }
}

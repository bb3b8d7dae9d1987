package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.delivery.RemoteDelivery;
import dev.mailstack.store.ContentId;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.QueuedMessage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The report itself, as {@link DeliveryReport#write} puts it together (RFC 3464, RFC 6533). */
class DeliveryReportTest {

    /** A report on one recipient of a message with this envelope. */
    private static String report(Optional<String> envId, MailEnvelope.Recipient recipient, DeliveryReport.Action action,
                                 String reply) throws Exception {
        return report(new MailEnvelope("bob@example.org", List.of(recipient), envId, Optional.empty(),
                false, false, Instant.now()), action, reply, "Subject: hi\r\n\r\nbody\r\n");
    }

    private static String report(MailEnvelope envelope, DeliveryReport.Action action, String reply, String original)
            throws Exception {
        return report(envelope, action, reply, Optional.empty(), original);
    }

    /** {@code said}: the next hop's own reply, empty for one of our own. */
    private static String report(MailEnvelope envelope, DeliveryReport.Action action, String reply,
                                 Optional<RemoteDelivery.HostReply> said, String original) throws Exception {
        MailEnvelope.Recipient recipient = envelope.recipients().getFirst();
        QueuedMessage message = new QueuedMessage(new QueueId(1), envelope, List.of(), new ContentId(1), "k", 40, false,
                Instant.now());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DeliveryReport.write(out, "mx.example.org", message, "bob@example.org",
                List.of(new DeliveryReport.Entry(recipient, action, reply, said)),
                new ByteArrayInputStream(original.getBytes(StandardCharsets.UTF_8)));
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String field(String report, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + ": (.*(?:\r\n[ \t].*)*)$").matcher(report);
        assertTrue(m.find(), name + " in " + report);
        return m.group(1);
    }

    /**
     * RET=HDRS returns the header up to its last CRLF, however the message arrives in reads: the
     * blank line's CR read before its LF (split between two reads) used to be left bare.
     */
    @Test
    void theReturnedHeaderEndsInItsLastCrlfWhereverTheReadsSplitIt() throws Exception {
        String original = "Subject: hi\r\nX-Other: 1\r\n\r\nbody\r\n\r\nmore\r\n";
        MailEnvelope envelope = new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of("carol@remote.test")),
                Optional.empty(), Optional.empty(), false, false, Instant.now());
        QueuedMessage message = new QueuedMessage(new QueueId(1), envelope, List.of(), new ContentId(1), "k", 40, false,
                Instant.now());
        for (int chunk = 1; chunk <= original.length(); chunk++) {
            int size = chunk;
            InputStream inChunks = new ByteArrayInputStream(original.getBytes(StandardCharsets.US_ASCII)) {
                @Override
                public synchronized int read(byte[] b, int off, int len) {
                    return super.read(b, off, Math.min(len, size));
                }
            };
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            DeliveryReport.write(out, "mx.example.org", message, "bob@example.org", List.of(new DeliveryReport.Entry(
                    envelope.recipients().getFirst(), DeliveryReport.Action.FAILED, "550 5.1.1 no")), inChunks);
            String report = out.toString(StandardCharsets.US_ASCII);
            String returned = report.substring(report.indexOf("text/rfc822-headers\r\n\r\n") + "text/rfc822-headers\r\n\r\n".length());
            assertTrue(returned.startsWith("Subject: hi\r\nX-Other: 1\r\n\r\n--"), "reads of " + size + ": " + returned);
            assertFalse(report.matches("(?s).*\r(?!\n).*"), "no bare CR with reads of " + size);
        }
    }

    /** A forged sender gets no megabyte of header fields back (backscatter): whole fields up to the limit. */
    @Test
    void aReturnedHeaderIsCutAfterTheLastWholeFieldWithinTheLimit() throws Exception {
        StringBuilder header = new StringBuilder("Subject: hi\r\n");
        for (int i = 0; header.length() < 3 * DeliveryReport.FULL_RETURN_LIMIT; i++) {
            header.append("X-Filler-").append(i).append(": ").append("x".repeat(60)).append("\r\n\tcontinued\r\n");
        }
        String report = report(new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of("carol@remote.test")),
                Optional.empty(), Optional.empty(), false, false, Instant.now()), DeliveryReport.Action.FAILED,
                "550 5.1.1 no", header + "\r\nthe body\r\n");
        String returned = report.substring(report.indexOf("text/rfc822-headers\r\n\r\n") + "text/rfc822-headers\r\n\r\n".length(),
                report.lastIndexOf("\r\n--"));
        assertTrue(returned.length() <= DeliveryReport.FULL_RETURN_LIMIT && returned.length() > DeliveryReport.FULL_RETURN_LIMIT - 200,
                returned.length() + " octets");
        assertTrue(returned.startsWith("Subject: hi\r\n") && returned.endsWith("\r\n\tcontinued\r\n"),
                "whole fields, folding and all: " + returned.substring(returned.length() - 100));
        assertFalse(report.contains("the body"));
    }

    /** A first field longer than the whole limit comes back as the lines of it that fit, not as an empty header. */
    @Test
    void aFirstFieldLongerThanTheLimitComesBackAsTheLinesOfItThatFit() throws Exception {
        String huge = "References: <first@remote.test>\r\n" + " <another-message-id@remote.test>\r\n".repeat(3000);
        String report = report(envelopeTo("carol@remote.test"), DeliveryReport.Action.FAILED, "550 5.1.1 no",
                huge + "Subject: hi\r\n\r\nthe body\r\n");
        String returned = report.substring(report.indexOf("text/rfc822-headers\r\n\r\n") + "text/rfc822-headers\r\n\r\n".length(),
                report.lastIndexOf("\r\n--"));
        assertTrue(returned.length() <= DeliveryReport.FULL_RETURN_LIMIT && returned.length() > DeliveryReport.FULL_RETURN_LIMIT - 100,
                returned.length() + " octets");
        assertTrue(returned.startsWith("References: <first@remote.test>\r\n <another-message-id@remote.test>\r\n"), returned);
        assertTrue(returned.endsWith("@remote.test>\r\n"), "whole lines: " + returned.substring(returned.length() - 60));
        assertFalse(report.contains("Subject: hi") || report.contains("the body"));
    }

    @Test
    void theStatusIsTheEnhancedCodeRightAfterTheReplyCodeAndOfItsClass() {
        assertEquals("5.1.1", DeliveryReport.status("550 5.1.1 <carol@remote.test>: no such user", DeliveryReport.Action.FAILED));
        assertEquals("4.7.1", DeliveryReport.status("451 4.7.1 greylisted, try again", DeliveryReport.Action.DELAYED));
        assertEquals("5.0.0", DeliveryReport.status("550 rejected, listed by 192.2.0.1", DeliveryReport.Action.FAILED),
                "an address in the text is no status");
        assertEquals("5.0.0", DeliveryReport.status("550 2.0.1 odd", DeliveryReport.Action.FAILED),
                "RFC 3463 §2: a status of another class than the reply's is none");
        assertEquals("4.0.0", DeliveryReport.status("421 service busy; 4.2.2 mailbox full", DeliveryReport.Action.DELAYED),
                "only right after the code (RFC 2034 §4)");
    }

    @Test
    void aReportOfALongReplyHasNoLinePastTheLimitAndItsDiagnosticCodeUnfoldsToTheReply() throws Exception {
        StringBuilder reply = new StringBuilder("550 5.7.1");
        for (int i = 0; i < 400; i++) {
            reply.append(" line ").append(i).append(" of a long explanation");
        }
        String report = report(envelopeTo("carol@remote.test"), DeliveryReport.Action.FAILED, reply.toString(),
                Optional.of(new RemoteDelivery.HostReply("mx.remote.test", reply.toString())), "Subject: hi\r\n\r\nbody\r\n");
        for (String line : report.split("\r\n")) {
            assertTrue(line.getBytes(StandardCharsets.UTF_8).length <= 78, "RFC 5322 §2.1.1: " + line);
        }
        String diagnostic = field(report, "Diagnostic-Code").replace("\r\n", "");
        assertTrue(diagnostic.startsWith("smtp; 550 5.7.1 line 0 of a long explanation line 1 "), diagnostic);
        assertTrue(diagnostic.endsWith(" [...]") && diagnostic.length() <= "smtp; ".length() + DeliveryReport.MAX_REPLY_OCTETS,
                "cut, and said to be: " + diagnostic.length());
        assertTrue(report.contains("<carol@remote.test>: host mx.remote.test said: 550 5.7.1 line 0"), report);
        assertEquals("5.7.1", field(report, "Status"));
        assertEquals("dns; mx.remote.test", field(report, "Remote-MTA"));
    }

    /**
     * The smtp diagnostic is the next hop's reply as it came (RFC 3464 §2.3.6), without what we
     * added to it for the reader: which command it answered, that we gave up.
     */
    @Test
    void theSmtpDiagnosticIsTheHostsReplyWithoutWhatWeAddedToIt() throws Exception {
        String report = report(envelopeTo("carol@remote.test"), DeliveryReport.Action.FAILED,
                "554 5.7.1 no mail from you (greeting of mx.remote.test:25)",
                Optional.of(new RemoteDelivery.HostReply("mx.remote.test", "554 5.7.1 no mail from you")),
                "Subject: hi\r\n\r\nbody\r\n");
        assertEquals("smtp; 554 5.7.1 no mail from you", field(report, "Diagnostic-Code"));
        assertTrue(report.replaceAll("\r\n[ \t]+", " ") // its lines folded at 78 columns
                .contains("<carol@remote.test>: host mx.remote.test said: 554 5.7.1 no mail from you (greeting of"), report);
    }

    /**
     * RFC 3464 §2.3.6: "smtp" names a reply an SMTP server sent; ours (local delivery's, or about a
     * host that never answered) go as X-mailstack, as Postfix's go as X-Postfix, and name no Remote-MTA.
     */
    @Test
    void aReplyOfOurOwnIsNoSmtpDiagnosticAndNamesNoRemoteMta() throws Exception {
        String report = report(envelopeTo("carol@remote.test"), DeliveryReport.Action.FAILED,
                "550 5.4.4 mx.remote.test: no such host (DNS has no A or AAAA record for it)", Optional.empty(),
                "Subject: hi\r\n\r\nbody\r\n");
        assertTrue(field(report, "Diagnostic-Code").startsWith("X-mailstack; 550 5.4.4 mx.remote.test: no such host"), report);
        assertFalse(report.contains("Remote-MTA"), report);
        assertTrue(report.contains("<carol@remote.test>: 550 5.4.4 mx.remote.test: no such host"), report);
        assertEquals("5.4.4", field(report, "Status"));
    }

    private static MailEnvelope envelopeTo(String address) {
        return new MailEnvelope("bob@example.org", List.of(MailEnvelope.Recipient.of(address)), Optional.empty(),
                Optional.empty(), false, false, Instant.now());
    }

    @Test
    void aWordLongerThanALineIsCutNotLeftPastTheLineLimit() throws Exception {
        String report = report(Optional.empty(), MailEnvelope.Recipient.of("carol@remote.test"), DeliveryReport.Action.FAILED,
                "554 " + "x".repeat(5000));
        for (String line : report.split("\r\n")) {
            assertTrue(line.length() <= 998, "RFC 5322 §2.1.1: " + line.length());
        }
    }

    @Test
    void envelopeIdAndOriginalRecipientAreWrittenDecodedFromXtext() throws Exception {
        String report = report(Optional.of("QQ+2B314159"),
                new MailEnvelope.Recipient("carol@remote.test", Optional.empty(), Optional.of("rfc822;a+2Bb+3Dc@remote.test")),
                DeliveryReport.Action.FAILED, "550 5.1.1 no");
        assertEquals("QQ+314159", field(report, "Original-Envelope-Id"), "RFC 3461 §6.3 (a)");
        assertEquals("rfc822; a+b=c@remote.test", field(report, "Original-Recipient"), "RFC 3461 §6.3 (d)");
        assertEquals("rfc822; carol@remote.test", field(report, "Final-Recipient"));
        assertTrue(report.contains("Content-Type: message/delivery-status\r\n"), report);
    }

    @Test
    void xtextThatDecodesToALineBreakStaysEncoded() throws Exception {
        String report = report(Optional.of("a+0D+0AX-Injected:+20yes"),
                new MailEnvelope.Recipient("carol@remote.test", Optional.empty(), Optional.of("rfc822;c+0D+0Ad@remote.test")),
                DeliveryReport.Action.FAILED, "550 5.1.1 no");
        assertEquals("a+0D+0AX-Injected:+20yes", field(report, "Original-Envelope-Id"));
        assertEquals("rfc822; c+0D+0Ad@remote.test", field(report, "Original-Recipient"));
        assertFalse(report.contains("\r\nX-Injected"), report);
    }

    @Test
    void aUtf8AddressMakesAGlobalReportWithTheUtf8AddressType() throws Exception {
        String report = report(Optional.empty(),
                new MailEnvelope.Recipient("jörg@bücher.test", Optional.empty(), Optional.of("rfc822;" + Xtext.encode("jörg@bücher.test"))),
                DeliveryReport.Action.FAILED, "550 5.1.1 no");
        assertTrue(report.contains("report-type=global-delivery-status;"), report);
        assertTrue(report.contains("Content-Type: message/global-delivery-status\r\n"), "RFC 6533 §6: " + report);
        assertEquals("utf-8; jörg@bücher.test", field(report, "Final-Recipient"), "RFC 6533 §3");
        assertEquals("utf-8; jörg@bücher.test", field(report, "Original-Recipient"));
    }

    @Test
    void anSmtpUtf8MessageGoesBackAsMessageGlobalOrItsHeaderAsGlobalHeaders() throws Exception {
        String original = "From: 张三 <zhang@例子.test>\r\nSubject: 你好\r\n\r\nbody\r\n";
        MailEnvelope.Recipient carol = MailEnvelope.Recipient.of("carol@remote.test");
        String headersOnly = report(new MailEnvelope("bob@example.org", List.of(carol), Optional.empty(), Optional.empty(),
                true, true, Instant.now()), DeliveryReport.Action.FAILED, "550 5.1.1 no", original);
        assertTrue(headersOnly.contains("Content-Type: message/global-headers\r\n\r\nFrom: 张三 <zhang@例子.test>\r\nSubject: 你好\r\n"),
                "RFC 6533: " + headersOnly);
        assertFalse(headersOnly.contains("rfc822-headers") || headersOnly.contains("\r\nbody\r\n"), headersOnly);
        String full = report(new MailEnvelope("bob@example.org", List.of(carol), Optional.empty(), Optional.of("FULL"),
                true, true, Instant.now()), DeliveryReport.Action.FAILED, "550 5.1.1 no", original);
        assertTrue(full.contains("Content-Type: message/global\r\n\r\nFrom: 张三 <zhang@例子.test>\r\nSubject: 你好\r\n\r\nbody\r\n"),
                "RFC 6533: " + full);
        String ascii = report(new MailEnvelope("bob@example.org", List.of(carol), Optional.empty(), Optional.of("FULL"),
                false, false, Instant.now()), DeliveryReport.Action.FAILED, "550 5.1.1 no", "Subject: hi\r\n\r\nbody\r\n");
        assertTrue(ascii.contains("Content-Type: message/rfc822\r\n\r\nSubject: hi\r\n"), ascii);
    }
}

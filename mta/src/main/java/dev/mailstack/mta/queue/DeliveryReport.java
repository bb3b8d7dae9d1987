package dev.mailstack.mta.queue;

import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.QueuedMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A delivery status notification (RFC 3464, multipart/report of RFC 6522) telling the sender
 * which recipients failed or are delayed, with the original message or its header (RFC 3461 RET).
 */
final class DeliveryReport {
    static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);
    /** Above this size only the header goes back, whatever RET says (Postfix: bounce_size_limit 50000). */
    static final long FULL_RETURN_LIMIT = 50_000;
    /** A reply code, then an enhanced status code (RFC 2034 §4, RFC 3463 §2: class.subject.detail). */
    private static final Pattern ENHANCED = Pattern.compile("^([245])\\d\\d[ -]([245]\\.\\d{1,3}\\.\\d{1,3})(?!\\d|\\.\\d)");

    /** RFC 3464 §2.3.3 actions; DELIVERED and RELAYED only for recipients that asked (NOTIFY=SUCCESS). */
    enum Action { FAILED, DELAYED, DELIVERED, RELAYED }

    record Entry(MailEnvelope.Recipient recipient, Action action, String reply) {
    }

    private DeliveryReport() {
    }

    /** Writes the report; {@code original} is the queued message's octets. */
    /** {@code to}: where the report goes, the message's sender (or the one its SRS address stands for). */
    static void write(OutputStream out, String hostname, QueuedMessage message, String to, List<Entry> entries,
                      InputStream original) throws IOException {
        boolean failed = entries.stream().anyMatch(e -> e.action() == Action.FAILED);
        boolean delayed = !failed && entries.stream().anyMatch(e -> e.action() == Action.DELAYED);
        String boundary = "=_mailstack_" + UUID.randomUUID();
        String now = ZonedDateTime.now(ZoneId.systemDefault()).format(DATE);
        StringBuilder h = new StringBuilder();
        // RFC 5321 §4.4 and §4.5.5: reports travel with the null reverse-path, recorded on delivery.
        h.append("Return-Path: <>\r\n");
        h.append("From: Mail Delivery System <MAILER-DAEMON@").append(hostname).append(">\r\n");
        h.append("To: <").append(to).append(">\r\n");
        h.append("Subject: ").append(failed ? "Undelivered Mail Returned to Sender"
                : delayed ? "Delayed Mail (still being retried)" : "Successful Mail Delivery Report").append("\r\n");
        h.append("Date: ").append(now).append("\r\n");
        h.append("Message-ID: <").append(UUID.randomUUID()).append('@').append(hostname).append(">\r\n");
        h.append("Auto-Submitted: auto-replied\r\n"); // RFC 3834: no replies to this
        h.append("MIME-Version: 1.0\r\n");
        h.append("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"").append(boundary)
                .append("\"\r\n\r\n");
        h.append("This is a MIME-encapsulated delivery status notification.\r\n\r\n");
        h.append("--").append(boundary).append("\r\n");
        // 8bit: a reply may carry UTF-8 (a Sieve reject's reason, an SMTPUTF8 address); the queue
        // downgrades it for a next hop without 8BITMIME (RFC 6152 §3)
        h.append("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        h.append("This is the mail system at ").append(hostname).append(".\r\n\r\n");
        h.append(failed ? "Your message could not be delivered to one or more recipients.\r\n"
                : delayed ? "Your message has not been delivered yet; the mail system keeps trying.\r\n"
                : "Your message was delivered to the recipients below, as you asked.\r\n");
        h.append("\r\n");
        for (Entry e : entries) {
            h.append("<").append(e.recipient().address()).append(">: ").append(e.reply()).append("\r\n");
        }
        h.append("\r\n--").append(boundary).append("\r\n");
        h.append("Content-Type: message/delivery-status\r\n\r\n");
        h.append("Reporting-MTA: dns; ").append(hostname).append("\r\n");
        message.envelope().envId().ifPresent(id -> h.append("Original-Envelope-Id: ").append(id).append("\r\n"));
        h.append("Arrival-Date: ").append(message.receivedAt().atZone(ZoneId.systemDefault()).format(DATE)).append("\r\n");
        for (Entry e : entries) {
            h.append("\r\n");
            e.recipient().orcpt().ifPresent(o -> h.append("Original-Recipient: ").append(o.replaceFirst(";", "; ")).append("\r\n"));
            h.append("Final-Recipient: rfc822; ").append(e.recipient().address()).append("\r\n");
            h.append("Action: ").append(e.action().name().toLowerCase(java.util.Locale.ROOT)).append("\r\n");
            h.append("Status: ").append(status(e.reply(), e.action())).append("\r\n");
            // RFC 3464 §2.1.2: message/delivery-status is US-ASCII; the reply in full is in the text part
            h.append("Diagnostic-Code: smtp; ").append(e.reply().replaceAll("[\r\n]+", " ")
                    .replaceAll("[^\\x20-\\x7e]", "?")).append("\r\n");
        }
        h.append("\r\n--").append(boundary).append("\r\n");
        boolean full = "FULL".equals(message.envelope().ret().orElse("")) && message.size() <= FULL_RETURN_LIMIT;
        h.append("Content-Type: ").append(full ? "message/rfc822" : "text/rfc822-headers").append("\r\n\r\n");
        out.write(h.toString().getBytes(StandardCharsets.UTF_8));
        copyOriginal(original, out, full);
        out.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The enhanced status of a reply: RFC 2034 §4 puts it right after the reply code, and RFC
     * 3463 §2 has its class be the code's first digit. Digits anywhere else in the text ("550
     * listed by 192.2.0.1") are no status; without one, the generic status of the action.
     */
    static String status(String reply, Action action) {
        Matcher m = ENHANCED.matcher(reply);
        if (m.find() && m.group(1).charAt(0) == m.group(2).charAt(0)) {
            return m.group(2);
        }
        return switch (action) {
            case FAILED -> "5.0.0";
            case DELAYED -> "4.0.0";
            case DELIVERED, RELAYED -> "2.0.0";
        };
    }

    private static void copyOriginal(InputStream in, OutputStream out, boolean full) throws IOException {
        byte[] buf = new byte[8192];
        int state = 0; // counts CR LF CR LF to find the end of the header
        for (int n; (n = in.read(buf)) > 0; ) {
            if (full) {
                out.write(buf, 0, n);
                continue;
            }
            for (int i = 0; i < n; i++) {
                byte b = buf[i];
                state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                        ? state + 1 : (b == '\r' ? 1 : 0);
                if (state == 4) {
                    out.write(buf, 0, Math.max(0, i - 1)); // the header, ending in its last CRLF
                    return;
                }
            }
            out.write(buf, 0, n);
        }
    }
}

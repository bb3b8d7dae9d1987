package dev.mailstack.mta.queue;

import dev.mailstack.mta.delivery.RemoteDelivery;
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
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A delivery status notification (RFC 3464, multipart/report of RFC 6522) telling the sender
 * which recipients failed or are delayed, with the original message or its header (RFC 3461 RET).
 */
final class DeliveryReport {
    static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);
    /** Above this size only the header goes back, whatever RET says, and at most this much of it (Postfix: bounce_size_limit 50000). */
    static final long FULL_RETURN_LIMIT = 50_000;
    /**
     * What of a reply a report repeats, in octets: one joined from a next hop's multi-line reply
     * (up to a thousand lines) could be half a megabyte.
     */
    static final int MAX_REPLY_OCTETS = 900;
    /** RFC 5322 §2.1.1: lines SHOULD be no longer than 78 characters. */
    private static final int LINE = 78;
    /** A reply code, then an enhanced status code (RFC 2034 §4, RFC 3463 §2: class.subject.detail). */
    private static final Pattern ENHANCED = Pattern.compile("^([245])\\d\\d[ -]([245]\\.\\d{1,3}\\.\\d{1,3})(?!\\d|\\.\\d)");

    /**
     * RFC 3464 §2.3.3 actions; DELIVERED, RELAYED and EXPANDED only for recipients that asked
     * (NOTIFY=SUCCESS). EXPANDED: delivered to the address and sent on to several more (an alias).
     */
    enum Action { FAILED, DELAYED, DELIVERED, RELAYED, EXPANDED }

    /**
     * {@code said}: the next hop's own reply, which {@code reply} is or quotes (RFC 3464 §2.3.5,
     * §2.3.6); empty when the reply is this server's own, from local delivery or about a next hop
     * that never answered.
     */
    record Entry(MailEnvelope.Recipient recipient, Action action, String reply, Optional<RemoteDelivery.HostReply> said) {
        Entry(MailEnvelope.Recipient recipient, Action action, String reply) {
            this(recipient, action, reply, Optional.empty());
        }
    }

    /**
     * RFC 3464 §2.3.6's diagnostic-type of a reply this server made itself: "smtp" is for replies
     * an SMTP server sent, and an X- type names any other (Postfix's own are "X-Postfix").
     */
    static final String OWN_DIAGNOSTIC = "X-mailstack";

    private DeliveryReport() {
    }

    /** Writes the report; {@code original} is the queued message's octets. */
    /** {@code to}: where the report goes, the message's sender (or the one its SRS address stands for). */
    static void write(OutputStream out, String hostname, QueuedMessage message, String to, List<Entry> entries,
                      InputStream original) throws IOException {
        boolean failed = entries.stream().anyMatch(e -> e.action() == Action.FAILED);
        boolean delayed = !failed && entries.stream().anyMatch(e -> e.action() == Action.DELAYED);
        List<String> recipientFields = entries.stream().map(DeliveryReport::recipientFields).toList();
        // RFC 6533 §6: a report naming a UTF-8 address is a global one, whose status part may carry UTF-8;
        // RFC 6522 §3: the report-type is the subtype of that part
        boolean global = recipientFields.stream().anyMatch(f -> !isAscii(f));
        String statusType = global ? "global-delivery-status" : "delivery-status";
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
        h.append("Content-Type: multipart/report; report-type=").append(statusType).append(";\r\n\tboundary=\"")
                .append(boundary).append("\"\r\n\r\n");
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
            String host = e.said().map(r -> "host " + r.host() + " said: ").orElse("");
            h.append(folded("<" + e.recipient().address() + ">:", host + reported(e.reply()), "    ")).append("\r\n");
        }
        h.append("\r\n--").append(boundary).append("\r\n");
        h.append("Content-Type: message/").append(statusType).append("\r\n\r\n");
        h.append("Reporting-MTA: dns; ").append(hostname).append("\r\n");
        message.envelope().envId().ifPresent(id -> h.append("Original-Envelope-Id: ").append(envelopeId(id)).append("\r\n"));
        h.append("Arrival-Date: ").append(message.receivedAt().atZone(ZoneId.systemDefault()).format(DATE)).append("\r\n");
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            h.append("\r\n").append(recipientFields.get(i));
            h.append("Action: ").append(e.action().name().toLowerCase(Locale.ROOT)).append("\r\n");
            h.append("Status: ").append(status(e.reply(), e.action())).append("\r\n");
            e.said().ifPresent(r -> h.append("Remote-MTA: dns; ").append(r.host().replaceAll("[^\\x21-\\x7e]", "?")).append("\r\n"));
            // RFC 3464 §2.3.6: a structured field, folded where it has spaces (RFC 5322 §2.2.3), of
            // US-ASCII (§2.1.2): the reply in full is in the text part. "smtp" is the next hop's
            // reply as it sent it, without what we add to it.
            String diagnostic = e.said().map(r -> "smtp; " + reported(r.text())).orElse(OWN_DIAGNOSTIC + "; " + reported(e.reply()));
            h.append(folded("Diagnostic-Code:", diagnostic.replaceAll("[^\\x20-\\x7e]", "?"), " ")).append("\r\n");
        }
        h.append("\r\n--").append(boundary).append("\r\n");
        boolean full = "FULL".equals(message.envelope().ret().orElse("")) && message.size() <= FULL_RETURN_LIMIT;
        h.append("Content-Type: ").append(returnedType(message.envelope().smtpUtf8(), full)).append("\r\n\r\n");
        out.write(h.toString().getBytes(StandardCharsets.UTF_8));
        copyOriginal(original, out, full);
        out.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The media type of the returned message or header. An SMTPUTF8 message may have UTF-8 in its
     * header, which message/rfc822 and text/rfc822-headers cannot carry: RFC 6533 returns it as
     * message/global or message/global-headers, types that RFC 6532 §3.7 lets a downgrade for a
     * hop without 8BITMIME encode (base64), as it may not encode message/rfc822 (RFC 2045 §6.4).
     */
    static String returnedType(boolean smtpUtf8, boolean full) {
        if (smtpUtf8) {
            return full ? "message/global" : "message/global-headers";
        }
        return full ? "message/rfc822" : "text/rfc822-headers";
    }

    /**
     * Original-Recipient (when the sender gave ORCPT) and Final-Recipient, each ending in CRLF. RFC
     * 3461 §6.3 (d) takes the first from the ORCPT parameter, whose address travels as xtext
     * (§4.2): the field, a generic-address of RFC 3464 §2.3.1, has it decoded. An rfc822 address
     * that is UTF-8, there or as the final recipient, is of RFC 6533 §3's utf-8 type instead; one
     * that decodes to what a field cannot hold (a line break, octets that are no UTF-8) stays as
     * it came, still xtext.
     */
    static String recipientFields(Entry e) {
        StringBuilder f = new StringBuilder();
        e.recipient().orcpt().ifPresent(orcpt -> {
            int semicolon = orcpt.indexOf(';');
            String type = orcpt.substring(0, semicolon);
            String encoded = orcpt.substring(semicolon + 1);
            String address = Xtext.decode(encoded).filter(DeliveryReport::fieldText).orElse(encoded);
            f.append("Original-Recipient: ").append(type.equalsIgnoreCase("rfc822") && !isAscii(address) ? "utf-8" : type)
                    .append("; ").append(address).append("\r\n");
        });
        String address = e.recipient().address();
        f.append("Final-Recipient: ").append(isAscii(address) ? "rfc822" : "utf-8").append("; ").append(address).append("\r\n");
        return f.toString();
    }

    /**
     * RFC 3461 §6.3 (a): the ENVID the sender gave, decoded from the xtext it travels in (§4.4),
     * as RFC 3464 §2.2.1's envelope-id of US-ASCII text; an ENVID that decodes to anything else
     * stays as it came.
     */
    static String envelopeId(String envId) {
        return Xtext.decode(envId).filter(id -> isAscii(id) && fieldText(id)).orElse(envId);
    }

    /** No control characters: nothing that would end a field or break a line. */
    private static boolean fieldText(String s) {
        return s.chars().noneMatch(c -> c < 0x20 || c == 0x7f);
    }

    private static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 0x80);
    }

    /**
     * The reply as a report repeats it: on one line, whitespace runs as one space, control
     * characters as '?', and cut to {@link #MAX_REPLY_OCTETS}.
     */
    static String reported(String reply) {
        String text = reply.replaceAll("\\s+", " ").strip().replaceAll("\\p{Cntrl}", "?");
        byte[] octets = text.getBytes(StandardCharsets.UTF_8);
        if (octets.length <= MAX_REPLY_OCTETS) {
            return text;
        }
        String more = " [...]";
        int end = MAX_REPLY_OCTETS - more.length();
        while ((octets[end] & 0xc0) == 0x80) {
            end--; // not inside a UTF-8 sequence
        }
        return new String(octets, 0, end, StandardCharsets.UTF_8) + more;
    }

    /**
     * {@code first}, then the words of {@code text} after a space each, lines broken before a
     * word that would take one past {@link #LINE} characters and the next line begun with
     * {@code indent}. With a single space as the indent this is RFC 5322 §2.2.3's folding, which
     * unfolds to the same value. A word longer than a line gets one of its own: none is longer
     * than {@link #MAX_REPLY_OCTETS}, so no line comes near 998 octets (§2.1.1).
     */
    static String folded(String first, String text, String indent) {
        StringBuilder out = new StringBuilder(first);
        int lineStart = 0;
        for (String word : text.split(" ")) {
            if (word.isEmpty()) {
                continue;
            }
            if (out.length() - lineStart + 1 + word.length() > LINE) {
                out.append("\r\n");
                lineStart = out.length();
                out.append(indent).append(word);
            } else {
                out.append(' ').append(word);
            }
        }
        return out.toString();
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
            case DELIVERED, RELAYED, EXPANDED -> "2.0.0";
        };
    }

    /**
     * The original message, or (RET=HDRS, the default) its header ending in its last CRLF, cut
     * after the last whole field within {@link #FULL_RETURN_LIMIT} octets when it is longer (as
     * Postfix's bounce_size_limit): a forger's megabyte of header fields is not reflected to the
     * address it names as the sender.
     */
    private static void copyOriginal(InputStream raw, OutputStream out, boolean full) throws IOException {
        if (full) {
            raw.transferTo(out);
            return;
        }
        InputStream in = new java.io.BufferedInputStream(raw, 8192);
        byte[] head = new byte[(int) FULL_RETURN_LIMIT + 1];
        int n = 0;
        int state = 0; // counts CR LF CR LF to find the end of the header
        for (int b; n < head.length && (b = in.read()) >= 0; ) {
            head[n++] = (byte) b;
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                    ? state + 1 : (b == '\r' ? 1 : 0);
            if (state == 4) {
                out.write(head, 0, n - 2); // the header, ending in its last CRLF: not the blank line's
                return;
            }
        }
        if (n < head.length) {
            out.write(head, 0, n); // a message that is all header (even one ending in CRLF CR): as it came
            return;
        }
        int cut = 0;
        int lines = 0;
        for (int i = 2; i < n; i++) {
            if (head[i - 2] == '\r' && head[i - 1] == '\n') {
                lines = i;
                if (head[i] != ' ' && head[i] != '\t') {
                    cut = i; // a field begins here: everything before it is whole fields
                }
            }
        }
        // a first field longer than the limit: the lines of it that fit, a shorter field of the
        // same name, rather than an empty header
        out.write(head, 0, cut > 0 ? cut : lines);
    }
}

package dev.mailstack.mta.delivery;

import dev.mailstack.mime.TransferEncoding;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.UUID;

/**
 * The message that tells a user their mailbox passed {@code percent} of its quota (Dovecot's
 * quota_warning), put into their INBOX by the delivery that took it there: a short text/plain
 * message from postmaster of the account's domain, written by a program (RFC 3834 §5,
 * Auto-Submitted: auto-generated), so that no vacation reply or Sieve notification answers it.
 *
 * @param percent    the share crossed
 * @param usedBytes  the account's use with the delivery
 * @param limitBytes the account's quota
 */
record QuotaWarning(int percent, long usedBytes, long limitBytes) {
    private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    /** RFC 5322 §3.3 date-time with a numeric zone (RFC 1123's form would write "GMT", obsolete syntax). */
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);

    QuotaWarning {
        if (percent < 1 || percent > 99 || usedBytes < 0 || limitBytes < 0) {
            throw new IllegalArgumentException("percent=" + percent + " used=" + usedBytes + " limit=" + limitBytes);
        }
    }

    /** "Your mailbox is 90% full (4.5 GiB of 5 GiB)": the share and the use, readable in a message list. */
    String subject() {
        return "Your mailbox is " + percent + "% full (" + size(usedBytes) + " of " + size(limitBytes) + ")";
    }

    /**
     * The message's octets for {@code address}; {@code hostname}: this server's name, for the
     * Message-ID (the account's domain when unknown).
     */
    byte[] write(String address, String hostname, ZonedDateTime date) {
        String domain = address.substring(address.lastIndexOf('@') + 1);
        String postmaster = "postmaster@" + domain; // RFC 5321 §4.5.1: every domain has one, and it is who to ask
        StringBuilder h = new StringBuilder();
        // RFC 5321 §4.4: nobody to bounce to, as for any message the server writes itself
        h.append("Return-Path: <>\r\n");
        h.append("From: Mail System <").append(postmaster).append(">\r\n");
        h.append("To: <").append(address).append(">\r\n");
        h.append("Subject: ").append(subject()).append("\r\n"); // ASCII and short: no RFC 2047 needed
        h.append("Date: ").append(date.format(DATE)).append("\r\n");
        h.append("Message-ID: <").append(UUID.randomUUID()).append('@').append(hostname.isEmpty() ? domain : hostname)
                .append(">\r\n");
        h.append("Auto-Submitted: auto-generated\r\n"); // RFC 3834 §5: not a reply, no reply to it
        h.append("MIME-Version: 1.0\r\n");
        h.append("Content-Type: text/plain; charset=UTF-8\r\n");
        h.append("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(h.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(TransferEncoding.encodeQuotedPrintable(body(address, postmaster).getBytes(StandardCharsets.UTF_8)));
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    private String body(String address, String postmaster) {
        long share = usedBytes >= limitBytes || limitBytes == 0 ? 100 : usedBytes * 100 / limitBytes;
        return String.join("\r\n",
                "Your mailbox " + address + " now uses " + size(usedBytes) + " of its " + size(limitBytes)
                        + " (" + share + "%).",
                "",
                "When it is full, new mail to you is refused and returned to its senders.",
                "To make room:",
                "",
                "- delete mail you no longer need, large messages and attachments first;",
                "- archive older mail: move it to a folder on your own computer;",
                "- empty the Trash and Junk folders: mail in them counts too.",
                "",
                "If you need more room, ask your mail administrator:",
                postmaster,
                "",
                "This message counts too, but is delivered even to a full mailbox.");
    }

    /**
     * {@code bytes} in binary units with one decimal, cut rather than rounded (4.99 GiB shows as
     * 4.9 GiB, never as the 5 GiB of a full mailbox): "900 bytes", "1.5 KiB", "5 GiB".
     */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + (bytes == 1 ? " byte" : " bytes");
        }
        int unit = 0;
        long scale = 1024;
        while (unit < UNITS.length - 1 && bytes / scale >= 1024) {
            scale *= 1024;
            unit++;
        }
        long whole = bytes / scale;
        // the remainder in 1024ths of the unit first: ten times the remainder overflows for EiB
        long tenths = (bytes % scale) / (scale / 1024) * 10 / 1024;
        return whole + (tenths == 0 ? "" : "." + tenths) + " " + UNITS[unit];
    }
}

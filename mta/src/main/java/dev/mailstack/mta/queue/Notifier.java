package dev.mailstack.mta.queue;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mime.Rfc2047;
import dev.mailstack.mime.TransferEncoding;
import dev.mailstack.mta.delivery.SieveFilter;
import dev.mailstack.sieve.MailtoUri;
import dev.mailstack.sieve.SieveAction;
import dev.mailstack.store.Account;
import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MailQueue;
import dev.mailstack.store.QueuedMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Sends the notifications of a Sieve script's notify actions (RFC 5435) by mail, as RFC 5436's
 * mailto method says, for a message just delivered to an account: to the URI's addresses, from
 * the account (or the script's :from when it is the account's own), marked Auto-Submitted:
 * auto-notified and sent with the null sender, so nothing answers or bounces back into a loop.
 * Never about a message that is itself automatic (RFC 5436 §2.7), nor about quarantined mail
 * (the filter drops those notifications). Reads only the header of the message notified about.
 */
final class Notifier {
    private static final Logger LOG = System.getLogger(Notifier.class.getName());
    /** The most of the notified message's header that is read: a longer header gets no notification. */
    static final int HEADER_LIMIT = 64 * 1024;
    /** Room for a subject in one 998-octet line (RFC 5322 §2.1.1). */
    static final int MAX_SUBJECT = 900;
    /** Characters of the notified message's From, Subject and Date shown in the summary. */
    static final int MAX_SUMMARY_VALUE = 200;

    private final MailboxStore store;

    Notifier(MailboxStore store) {
        this.store = store;
    }

    /**
     * The notifications {@code disposition} asks for about {@code message}, delivered to {@code
     * account}, written and ready to be queued with that delivery's outcome. Each is sent once per
     * message and account ({@link MailQueue.Guard.Once}): the message may reach the account through
     * several addresses and attempts, each running its script, and it was delivered once. Never
     * throws: one that cannot be written is logged and left out, and the delivery stands.
     */
    List<AutomaticMessage> notificationsOf(QueuedMessage message, Account account, SieveFilter.Disposition disposition) {
        if (disposition.notifications().isEmpty()) {
            return List.of();
        }
        List<AutomaticMessage> written = new ArrayList<>();
        try {
            VacationResponder.Header header;
            try {
                header = VacationResponder.Header.of(store, message, disposition, HEADER_LIMIT);
            } catch (HeaderFields.TooLong e) {
                LOG.log(Level.INFO, "notify: none, header over {0} octets queue={1} user={2}", HEADER_LIMIT, message.id(),
                        account.address());
                return List.of();
            }
            // RFC 5436 §2.7 (and RFC 3834 §2): nothing is sent about mail a program sent, notifications
            // and auto-replies among it, so that two notifying accounts cannot feed each other
            Optional<String> autoSubmitted = header.automatic();
            if (autoSubmitted.isPresent()) {
                LOG.log(Level.INFO, "notify: none about automatic mail queue={0} user={1} auto-submitted=\"{2}\"",
                        message.id(), account.address(), autoSubmitted.get());
                return List.of();
            }
            for (SieveAction.Notify n : disposition.notifications()) {
                Optional<MailtoUri> uri = MailtoUri.parse(n.method());
                if (uri.isEmpty()) {
                    LOG.log(Level.WARNING, "notify: method not supported queue={0} user={1}", message.id(), account.address());
                    continue;
                }
                written.add(notification(account, n, uri.get(), header));
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(e instanceof IOException ? Level.WARNING : Level.ERROR,
                    "notify: cannot write queue=" + message.id() + " user=" + account.address() + ": " + e, e);
        }
        return written;
    }

    private AutomaticMessage notification(Account account, SieveAction.Notify n, MailtoUri uri,
                                          VacationResponder.Header original) {
        String from = from(account, n.from());
        byte[] written = write(from, account.address(), n, uri, original);
        List<String> recipients = new ArrayList<>(uri.to());
        recipients.addAll(uri.cc());
        // RFC 6531: a non-ASCII address needs SMTPUTF8 all the way.
        boolean utf8 = !StandardCharsets.US_ASCII.newEncoder().canEncode(from + String.join("", recipients));
        // RFC 5436 §2.7: the null reverse-path, as for any automatic message (RFC 3834 §3.3)
        MailEnvelope envelope = new MailEnvelope("", recipients.stream().map(MailEnvelope.Recipient::of).toList(),
                Optional.empty(), Optional.empty(), utf8, false, Instant.now());
        // the action as the script wrote it: two equal notify actions in one run are one notification
        String action = String.join("\0", "notify", n.method(), n.from().orElse(""), n.message().orElse(""),
                Integer.toString(n.importance()), String.join(",", n.options()));
        return new AutomaticMessage(account.id(), envelope, written, "Sieve notification of " + account.address(),
                List.of(new MailQueue.Guard.Once(account.id(), action)));
    }

    /**
     * RFC 5436 §2.3: :from names the notification's sender; like vacation's :from it must be one
     * of the account's own addresses, so that a script cannot send mail as anyone.
     */
    private String from(Account account, Optional<String> given) {
        return given.flatMap(VacationResponder::address)
                .filter(a -> a.equalsIgnoreCase(account.address())
                        || store.accounts().resolve(a) instanceof AddressResolution.Deliver d
                        && d.accounts().stream().anyMatch(x -> x.id().equals(account.id())))
                .orElse(account.address());
    }

    /** The notification as octets: a text/plain message (RFC 5436 §2.7). */
    static byte[] write(String from, String owner, SieveAction.Notify n, MailtoUri uri, VacationResponder.Header original) {
        StringBuilder h = new StringBuilder();
        h.append("From: <").append(from).append(">\r\n");
        h.append("To: ").append(addressList(uri.to())).append("\r\n");
        if (!uri.cc().isEmpty()) {
            h.append("Cc: ").append(addressList(uri.cc())).append("\r\n");
        }
        h.append("Subject: ").append(text("Subject: ", subject(n, uri, original))).append("\r\n");
        h.append("Date: ").append(ZonedDateTime.now(ZoneId.systemDefault()).format(DeliveryReport.DATE)).append("\r\n");
        h.append("Message-ID: <").append(UUID.randomUUID()).append('@').append(from.substring(from.lastIndexOf('@') + 1))
                .append(">\r\n");
        // the URI's other fields that RFC 5436 §2.7 lets through, each on one line
        for (String field : List.of("in-reply-to", "references")) {
            uri.field(field).map(v -> VacationResponder.oneLine(v, MAX_SUBJECT))
                    .filter(v -> !v.isEmpty() && StandardCharsets.US_ASCII.newEncoder().canEncode(v))
                    .ifPresent(v -> h.append(field.equals("in-reply-to") ? "In-Reply-To: " : "References: ").append(v).append("\r\n"));
        }
        for (String field : List.of("keywords", "comments")) {
            uri.field(field).map(v -> VacationResponder.oneLine(v, MAX_SUBJECT)).filter(v -> !v.isEmpty()).ifPresent(v -> {
                String name = field.equals("keywords") ? "Keywords: " : "Comments: ";
                h.append(name).append(text(name, v)).append("\r\n");
            });
        }
        // RFC 5436 §2.4: :importance as the Importance field of RFC 2156; "2" is the default, left unsaid
        if (n.importance() != 2) {
            h.append("Importance: ").append(n.importance() == 1 ? "high" : "low").append("\r\n");
        }
        // RFC 5436 §2.7.1: auto-notified, with the owner of the script that sent it
        h.append("Auto-Submitted: auto-notified; owner-email=\"").append(owner.replace("\\", "\\\\").replace("\"", "\\\""))
                .append("\"\r\n");
        h.append("MIME-Version: 1.0\r\n");
        h.append("Content-Type: text/plain; charset=UTF-8\r\n");
        h.append("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(h.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(TransferEncoding.encodeQuotedPrintable(body(n, uri, original).getBytes(StandardCharsets.UTF_8)));
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /**
     * RFC 5436 §2.6: the :message text, else the URI's subject, else one of ours naming the sender
     * of the mail notified about.
     */
    static String subject(SieveAction.Notify n, MailtoUri uri, VacationResponder.Header original) {
        Optional<String> given = n.message().or(() -> uri.field("subject")).map(s -> VacationResponder.oneLine(s, MAX_SUBJECT))
                .filter(s -> !s.isEmpty());
        return given.orElseGet(() -> VacationResponder.oneLine("[SIEVE] New mail from " + original.text("from").orElse("an unknown sender"),
                MAX_SUBJECT));
    }

    /** The :message, the URI's body, and who sent the message, when, and about what. */
    private static String body(SieveAction.Notify n, MailtoUri uri, VacationResponder.Header original) {
        StringBuilder b = new StringBuilder();
        n.message().ifPresent(m -> b.append(m.replace("\r\n", "\n")).append("\n\n"));
        uri.field("body").ifPresent(m -> b.append(m.replace("\r\n", "\n")).append("\n\n"));
        b.append("New mail was delivered to your mailbox:\n\n");
        for (String field : List.of("From", "Subject", "Date")) {
            String value = original.text(field.toLowerCase(Locale.ROOT)).map(v -> VacationResponder.oneLine(v, MAX_SUMMARY_VALUE)).orElse("");
            b.append(field).append(": ").append(value).append('\n');
        }
        return b.toString().replace("\n", "\r\n");
    }

    /** RFC 2047 for non-ASCII text, or text too long for one line. */
    private static String text(String fieldName, String value) {
        boolean plain = StandardCharsets.US_ASCII.newEncoder().canEncode(value) && value.length() <= 998 - fieldName.length();
        return plain ? value : Rfc2047.encode(value, StandardCharsets.UTF_8, fieldName.length());
    }

    private static String addressList(List<String> addresses) {
        return String.join(", ", addresses.stream().map(a -> "<" + a + ">").toList());
    }
}

package dev.mailstack.mta.queue;

import dev.mailstack.mime.AddressList;
import dev.mailstack.mime.Rfc2047;
import dev.mailstack.mime.TransferEncoding;
import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mta.delivery.SieveFilter;
import dev.mailstack.sieve.SieveAction;
import dev.mailstack.store.Account;
import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MailQueue;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.Vacation;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Out-of-office replies (RFC 5230's vacation action: a Sieve script's, or the one the administrator
 * sets with {@code mailstack user vacation}) to mail just delivered to an account, by the rules of
 * RFC 3834 and RFC 5230 §4.5-4.6: never to the null sender, to lists, to bulk or automatic mail, or
 * to mail that does not name the account (or the script's :addresses) in To or Cc; once per sender
 * per interval and vacation action. The reply leaves with the null sender, signed like the
 * account's own mail. Reads only the header of the message answered.
 */
final class VacationResponder {
    private static final Logger LOG = System.getLogger(VacationResponder.class.getName());
    /** RFC 5230 §4.6: :days defaults to 7. */
    static final Duration INTERVAL = Duration.ofDays(7);
    /** The most of the answered message that is read: a header longer than this gets no reply. */
    static final int HEADER_LIMIT = 64 * 1024;
    /** Message-IDs carried over from the answered message's References (its thread's latest). */
    static final int MAX_REFERENCES = 20;
    /** Room left in a 998-octet line (RFC 5322 §2.1.1) for "Subject: Auto: " and an original subject. */
    static final int MAX_ORIGINAL_SUBJECT = 900;

    /**
     * Local parts of senders that are programs or lists, never people (RFC 5230 §4.6 names
     * MAILER-DAEMON, owner-* and *-request; the rest are their present-day kin).
     */
    private static final Set<String> SYSTEM_SENDERS = Set.of("mailer-daemon", "postmaster", "listserv", "majordomo",
            "mailman", "noreply", "no-reply", "donotreply", "do-not-reply");
    private static final List<String> SYSTEM_PREFIXES = List.of("owner-");
    private static final List<String> SYSTEM_SUFFIXES = List.of("-request", "-owner", "-bounces", "-bounce");
    /** RFC 2369 and RFC 2919 list fields: any of them marks mail from a list. */
    private static final Set<String> LIST_FIELDS = Set.of("list-id", "list-help", "list-subscribe", "list-unsubscribe",
            "list-post", "list-owner", "list-archive");
    /** A message id, of a length a header line can carry: a longer one is left out of In-Reply-To and References. */
    private static final Pattern MESSAGE_ID = Pattern.compile("<[^<>\\s]{1,250}>");
    /** RFC 5322 §3.6.8: a field name (printable ASCII but ':') and its colon. */
    private static final Pattern FIELD_START = Pattern.compile("[!-9;-~]+:");

    private final MailboxStore store;

    VacationResponder(MailboxStore store) {
        this.store = store;
    }

    /**
     * One vacation action: {@code subject} "" for "Auto: " and the original's; {@code mime}: {@code
     * body} is a MIME entity (RFC 5230 §5.7), not text; {@code from} an address of the account's
     * the reply comes from; {@code addresses}: more of the user's own (§4.5); {@code handle}: what
     * its replies are tracked under ("" for the administrator's).
     */
    record AutoReply(String subject, String body, boolean mime, Optional<String> from, List<String> addresses,
                     Duration interval, String handle) {
        AutoReply {
            addresses = List.copyOf(addresses);
        }

        static AutoReply of(Vacation v) {
            return new AutoReply(v.subject(), v.body(), false, Optional.empty(), List.of(), INTERVAL, "");
        }

        static AutoReply of(SieveAction.Vacation v) {
            return new AutoReply(v.subject().map(s -> oneLine(s, MAX_ORIGINAL_SUBJECT)).orElse(""), v.reason(), v.mime(),
                    v.from(), v.addresses(), v.period(), v.handle());
        }
    }

    /** Whether a message gets a reply, and if not, why not (for the log). */
    sealed interface Verdict {
        record Reply(AutoReply vacation, Header original, String from) implements Verdict {
        }

        record Silent(String why) implements Verdict {
        }
    }

    /**
     * The reply to {@code message}, delivered to {@code account} through the envelope recipient
     * {@code recipient}, with the vacation action of the account's Sieve script, or else the
     * administrator's, when there is one and the rules allow; to be queued with that delivery's
     * outcome. The reply's guards claim it (RFC 5230 §4.6: once per sender and interval) in the
     * transaction that queues it, so a reply that cannot be queued claims nothing, and send it once
     * per message however many of the account's addresses and attempts the message takes. Never
     * throws: a reply that cannot be written is logged and left out, and the delivery stands.
     */
    Optional<AutomaticMessage> replyTo(QueuedMessage message, Account account, String recipient,
                                       SieveFilter.Disposition disposition) {
        try {
            Optional<AutoReply> vacation = disposition.vacation().map(AutoReply::of)
                    .or(() -> store.accounts().vacation(account.id()).map(AutoReply::of));
            if (vacation.isEmpty()) {
                return Optional.empty();
            }
            return switch (decide(message, account, recipient, vacation.get(), disposition)) {
                case Verdict.Silent s -> {
                    LOG.log(Level.DEBUG, "vacation: no reply queue={0} user={1} why={2}", message.id(), account.address(),
                            s.why());
                    yield Optional.empty();
                }
                case Verdict.Reply r -> Optional.of(reply(message, account, r));
            };
        } catch (IOException | RuntimeException e) {
            LOG.log(e instanceof IOException ? Level.WARNING : Level.ERROR,
                    "vacation: cannot reply queue=" + message.id() + " user=" + account.address() + ": " + e, e);
            return Optional.empty();
        }
    }

    private Verdict decide(QueuedMessage message, Account account, String recipient, AutoReply vacation,
                           SieveFilter.Disposition disposition) throws IOException {
        String sender = message.envelope().returnPath();
        if (sender.isEmpty()) {
            return new Verdict.Silent("null sender"); // RFC 3834 §2, RFC 5230 §4.6: MUST NOT
        }
        if (message.envelope().junk()) {
            return new Verdict.Silent("marked as junk"); // a reply would confirm the address to a forger
        }
        if (isSystemSender(sender)) {
            return new Verdict.Silent("sender is a program or a list");
        }
        Set<String> own = new HashSet<>(List.of(untagged(account.address()), untagged(recipient)));
        vacation.addresses().forEach(a -> own.add(untagged(a))); // :addresses are the user's too (RFC 5230 §4.5)
        if (own.contains(untagged(sender))) {
            return new Verdict.Silent("sent by the account itself"); // RFC 5230 §4.6
        }
        // RFC 5230 §4.2: :from may name another of the user's addresses; not someone else's, so the
        // reply cannot be made to come from anyone (nor a line break carry another field into it).
        String from = vacation.from().flatMap(VacationResponder::address)
                .filter(a -> own.contains(untagged(a)))
                .filter(a -> store.accounts().resolve(a) instanceof AddressResolution.Deliver d
                        && d.accounts().stream().anyMatch(x -> x.id().equals(account.id())))
                .orElse(account.address());
        Header header;
        try {
            header = Header.of(store, message, disposition, HEADER_LIMIT);
        } catch (HeaderFields.TooLong e) {
            return new Verdict.Silent("header over " + HEADER_LIMIT + " octets");
        }
        // RFC 3834 §2 and §5: anything but Auto-Submitted: no was sent by a program.
        Optional<String> autoSubmitted = header.automatic();
        if (autoSubmitted.isPresent()) {
            return new Verdict.Silent("Auto-Submitted: " + autoSubmitted.get());
        }
        if (LIST_FIELDS.stream().anyMatch(header::has)) {
            return new Verdict.Silent("mail from a list"); // RFC 3834 §2: not to lists
        }
        // Not in any RFC but kept by lists and bulk senders since long before (RFC 3834 §3.1.8 notes it).
        Optional<String> precedence = header.first("precedence");
        if (precedence.isPresent() && Set.of("bulk", "list", "junk").contains(keyword(precedence.get()))) {
            return new Verdict.Silent("Precedence: " + precedence.get());
        }
        // RFC 5230 §4.5: only mail sent to the user (named in To, Cc, Bcc or their Resent- forms),
        // not a blind or a list's copy.
        boolean named = false;
        for (String field : List.of("to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc")) {
            for (String value : header.values(field)) {
                for (AddressList.Address a : AddressList.parse(value)) {
                    named |= a.host() != null && a.mailbox() != null && own.contains(untagged(a.mailbox() + "@" + a.host()));
                }
            }
        }
        if (!named) {
            return new Verdict.Silent("the account is in none of To, Cc, Bcc and their Resent- forms");
        }
        // the claim (once per sender and interval) is the reply's guard, written with it in the queue
        return new Verdict.Reply(vacation, header, from);
    }

    private AutomaticMessage reply(QueuedMessage message, Account account, Verdict.Reply reply) {
        String sender = message.envelope().returnPath();
        byte[] written = write(reply.from(), sender, reply.vacation(), reply.original());
        // RFC 6531: a non-ASCII address in the envelope or the header needs SMTPUTF8 all the way.
        boolean utf8 = !StandardCharsets.US_ASCII.newEncoder().canEncode(sender + reply.from());
        boolean eightBit = reply.vacation().mime() && !StandardCharsets.US_ASCII.newEncoder().canEncode(reply.vacation().body());
        // RFC 3834 §3.3: the reply goes with the null reverse-path, so nothing answers it in turn.
        MailEnvelope envelope = new MailEnvelope("", List.of(MailEnvelope.Recipient.of(sender)), Optional.empty(),
                Optional.empty(), utf8, eightBit, Instant.now());
        AutoReply v = reply.vacation();
        return new AutomaticMessage(account.id(), envelope, written, "vacation reply of " + account.address(), List.of(
                // once per message, also for :seconds 0, which the claim alone would let through again
                new MailQueue.Guard.Once(account.id(), "vacation\0" + v.handle()),
                new MailQueue.Guard.VacationReply(account.id(), sender, v.handle(), v.interval())));
    }

    /** The reply as octets: a 7-bit text/plain message (RFC 3834 §3.1, RFC 5230 §5). */
    static byte[] write(String from, String to, AutoReply vacation, Header original) {
        StringBuilder h = new StringBuilder();
        h.append("Return-Path: <>\r\n"); // as delivered, should it stay here (RFC 5321 §4.4)
        h.append("From: <").append(from).append(">\r\n");
        h.append("To: <").append(to).append(">\r\n");
        String subject = vacation.subject().isEmpty()
                ? "Auto: " + oneLine(original.text("subject").orElse(""), MAX_ORIGINAL_SUBJECT) // RFC 5230 §4.3
                : vacation.subject();
        // RFC 2047 for non-ASCII text (and to fold a subject too long for one line, RFC 5322 §2.1.1)
        boolean plain = StandardCharsets.US_ASCII.newEncoder().canEncode(subject) && subject.length() <= 998 - "Subject: ".length();
        h.append("Subject: ").append(plain ? subject : Rfc2047.encode(subject, StandardCharsets.UTF_8, "Subject: ".length()))
                .append("\r\n");
        h.append("Date: ").append(ZonedDateTime.now(ZoneId.systemDefault()).format(DeliveryReport.DATE)).append("\r\n");
        h.append("Message-ID: <").append(UUID.randomUUID()).append('@').append(from.substring(from.lastIndexOf('@') + 1))
                .append(">\r\n");
        // RFC 3834 §3.1.5 and RFC 5322 §3.6.4: the reply joins the thread of the message it answers.
        Optional<String> messageId = original.first("message-id").flatMap(VacationResponder::firstId);
        if (messageId.isPresent()) {
            h.append("In-Reply-To: ").append(messageId.get()).append("\r\n");
            List<String> references = new ArrayList<>(ids(original.first("references").orElse("")));
            references.add(messageId.get());
            h.append("References: ").append(String.join("\r\n ",
                    references.subList(Math.max(0, references.size() - MAX_REFERENCES - 1), references.size()))).append("\r\n");
        }
        h.append("Auto-Submitted: auto-replied\r\n"); // RFC 3834 §5
        h.append("MIME-Version: 1.0\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (vacation.mime()) {
            // RFC 5230 §4.2 :mime: the reason is the reply's MIME entity, its own header fields first
            String entity = mimeEntity(vacation.body());
            out.writeBytes(h.toString().getBytes(StandardCharsets.UTF_8));
            out.writeBytes(entity.getBytes(StandardCharsets.UTF_8));
            out.writeBytes(entity.endsWith("\r\n") ? new byte[0] : "\r\n".getBytes(StandardCharsets.US_ASCII));
            return out.toByteArray();
        }
        h.append("Content-Type: text/plain; charset=UTF-8\r\n");
        h.append("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        out.writeBytes(h.toString().getBytes(StandardCharsets.UTF_8));
        out.writeBytes(TransferEncoding.encodeQuotedPrintable(vacation.body().getBytes(StandardCharsets.UTF_8)));
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** The answered message's header fields, read as far as the blank line. */
    record Header(List<String> fields) {
        Header {
            fields = List.copyOf(fields);
        }

        /**
         * The header a reply or a notification about {@code message} reads: as the account's script
         * left it when it edited it (RFC 5293 §7: actions see the header's current state; Pigeonhole's
         * vacation and notify read the edited message too), else the message's own.
         *
         * @throws HeaderFields.TooLong past {@code limit} octets
         */
        static Header of(MailboxStore store, QueuedMessage message, SieveFilter.Disposition disposition, int limit)
                throws IOException {
            if (disposition.edited().isPresent()) {
                return new Header(HeaderFields.read(new ByteArrayInputStream(disposition.edited().get().header()), limit));
            }
            try (InputStream in = new BufferedInputStream(store.openContent(message.contentKey(), 0))) {
                return new Header(HeaderFields.read(in, limit));
            }
        }

        /** Each value of the named field, unfolded, its octets read as UTF-8 (RFC 6532 allows it raw). */
        List<String> values(String name) {
            List<String> out = new ArrayList<>();
            for (String f : fields) {
                if (HeaderFields.name(f).equals(name)) {
                    String value = f.substring(f.indexOf(':') + 1).replace("\r\n", "").strip();
                    out.add(new String(value.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
                }
            }
            return out;
        }

        Optional<String> first(String name) {
            return values(name).stream().findFirst();
        }

        /**
         * The first Auto-Submitted value other than "no" (RFC 3834 §5), among all of them: a script
         * may add the field (RFC 5293) but never delete the message's own, so an added
         * "Auto-Submitted: no" above an "auto-replied" cannot make automatic mail look sent by a person.
         */
        Optional<String> automatic() {
            return values("auto-submitted").stream().filter(v -> !keyword(v).equals("no")).findFirst();
        }

        boolean has(String name) {
            return fields.stream().anyMatch(f -> HeaderFields.name(f).equals(name));
        }

        /** The first value with its encoded-words decoded (RFC 2047). */
        Optional<String> text(String name) {
            return first(name).map(Rfc2047::decode);
        }
    }

    /**
     * A :mime reason as the reply's MIME entity, in CRLF lines: of its header only the Content-*
     * fields (RFC 2045 §9), so that it cannot add a From, To or Bcc of its own to the reply.
     */
    static String mimeEntity(String reason) {
        String text = reason.replace("\r\n", "\n").replace("\r", "\n");
        boolean hasHeader = FIELD_START.matcher(text).lookingAt(); // else it is all body, no header of its own
        int end = hasHeader ? text.indexOf("\n\n") : -1;
        String head = !hasHeader ? "" : end < 0 ? text : text.substring(0, end);
        String body = !hasHeader ? text : end < 0 ? "" : text.substring(end + 2);
        StringBuilder kept = new StringBuilder();
        boolean keeping = false;
        for (String line : head.isEmpty() ? new String[0] : head.split("\n")) {
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                if (keeping) {
                    kept.append(line).append("\r\n");
                }
                continue;
            }
            keeping = line.regionMatches(true, 0, "Content-", 0, 8) && line.indexOf(':') > 8;
            if (keeping) {
                kept.append(line).append("\r\n");
            }
        }
        return kept + "\r\n" + body.replace("\n", "\r\n");
    }

    /** The addr-spec of an address as a script may write it ("Alice <alice@example.org>"), if it has one. */
    static Optional<String> address(String text) {
        List<AddressList.Address> parsed = AddressList.parse(text);
        return parsed.size() == 1 && parsed.getFirst().mailbox() != null && parsed.getFirst().host() != null
                ? Optional.of(parsed.getFirst().mailbox() + "@" + parsed.getFirst().host()) : Optional.empty();
    }

    /** A field's keyword: before any parameters or comment, in lower case ("auto-generated; x=y"). */
    static String keyword(String value) {
        return value.split("[;(]", 2)[0].strip().toLowerCase(Locale.ROOT);
    }

    /** Control characters (an encoded CR LF among them) become spaces: the text goes into one header line. */
    static String oneLine(String text, int max) {
        String line = text.replaceAll("[\\p{Cntrl}&&[^\t]]+", " ").strip();
        return line.length() <= max ? line : line.substring(0, max);
    }

    private static Optional<String> firstId(String value) {
        List<String> ids = ids(value);
        return ids.isEmpty() ? Optional.empty() : Optional.of(ids.getFirst());
    }

    private static List<String> ids(String value) {
        List<String> out = new ArrayList<>();
        Matcher m = MESSAGE_ID.matcher(value);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /** The address in lower case without a +tag: alice+news@example.org is alice@example.org. */
    static String untagged(String address) {
        String a = address.strip().toLowerCase(Locale.ROOT);
        int at = a.lastIndexOf('@');
        int plus = a.indexOf('+');
        return plus > 0 && at > plus ? a.substring(0, plus) + a.substring(at) : a;
    }

    static boolean isSystemSender(String sender) {
        String a = untagged(sender);
        String local = a.substring(0, Math.max(0, a.lastIndexOf('@')));
        return SYSTEM_SENDERS.contains(local) || SYSTEM_PREFIXES.stream().anyMatch(local::startsWith)
                || SYSTEM_SUFFIXES.stream().anyMatch(local::endsWith);
    }
}

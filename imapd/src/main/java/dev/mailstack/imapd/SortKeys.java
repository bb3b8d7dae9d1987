package dev.mailstack.imapd;

import dev.mailstack.mime.AddressList;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.store.MessageRef;
import java.util.List;

/**
 * The values SORT and THREAD compare, each from the envelope stored at delivery or the message
 * row, never from the message itself: collation keys ({@link UnicodeCasemap}) for text, seconds
 * since the epoch for dates. A header that is absent is the empty string, which sorts first
 * (RFC 5256 §3).
 */
final class SortKeys {
    /**
     * The envelope of a message whose content was swept away before the session heard of its
     * expunge ({@link SummaryCache#stored}): every header absent, so its keys are "" and its sent
     * date is INTERNALDATE.
     */
    static final MessageSummary.Envelope NO_HEADERS = new MessageSummary.Envelope(null, null, null, null, null, null,
            null, null, null, null);

    private SortKeys() {
    }

    /** SUBJECT: the base subject (RFC 5256 §2.1). */
    static String subject(MessageSummary.Envelope e) {
        return UnicodeCasemap.key(BaseSubject.of(e.subject()).text());
    }

    /** FROM, TO, CC: the addr-mailbox of the first address (RFC 5256 §3), a group's name if it starts with one. */
    static String mailbox(String header) {
        AddressList.Address a = firstAddress(header);
        return a == null ? "" : UnicodeCasemap.key(unquoted(MessageText.decodeHeader(a.mailbox())));
    }

    /**
     * DISPLAYFROM, DISPLAYTO (RFC 5957 §3): the first address's display name, RFC 2047 words
     * decoded; without one, addr-mailbox@addr-host, or addr-mailbox alone when there is no host.
     */
    static String display(String header) {
        AddressList.Address a = firstAddress(header);
        if (a == null) {
            return "";
        }
        String name = a.name() == null ? "" : MessageText.decodeHeader(a.name()).strip();
        if (!name.isEmpty()) {
            return UnicodeCasemap.key(name);
        }
        String mailbox = a.mailbox() == null ? "" : unquoted(MessageText.decodeHeader(a.mailbox()));
        return UnicodeCasemap.key(a.host() == null || a.host().isEmpty() ? mailbox : mailbox + "@" + a.host());
    }

    /** DATE: the sent date (RFC 5256 §2.2), INTERNALDATE when the Date: header is missing or has no date. */
    static long sentDate(MessageSummary.Envelope e, MessageRef r) {
        return SentDate.parse(e.date()).orElse(arrival(r));
    }

    /** ARRIVAL: INTERNALDATE, to the second as the client sees it. */
    static long arrival(MessageRef r) {
        return r.internalDate().getEpochSecond();
    }

    /** Only the first address counts, so only the start of a header (up to 1 MiB from a stranger) is read. */
    static final int MAX_ADDRESS_HEADER_CHARS = 8 * 1024;

    private static AddressList.Address firstAddress(String header) {
        List<AddressList.Address> list = AddressList.parse(header == null || header.length() <= MAX_ADDRESS_HEADER_CHARS
                ? header : header.substring(0, MAX_ADDRESS_HEADER_CHARS));
        return list.isEmpty() ? null : list.get(0);
    }

    /** A quoted local part ("john doe"@example.org) compares by what it says, as Dovecot's parser gives it. */
    private static String unquoted(String mailbox) {
        if (mailbox == null) {
            return "";
        }
        if (mailbox.length() >= 2 && mailbox.startsWith("\"") && mailbox.endsWith("\"")) {
            return mailbox.substring(1, mailbox.length() - 1).replaceAll("\\\\(.)", "$1");
        }
        return mailbox;
    }
}

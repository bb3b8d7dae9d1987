package dev.mailstack.mta.inbound;

import dev.mailstack.mime.AddressList;
import dev.mailstack.mime.HeaderFields;
import dev.mailstack.net.HostName;
import java.net.IDN;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The author domains DMARC is about (RFC 7489 §6.6.1): the domains of the addresses in the
 * message's one From field, as DNS names (A-labels, lower case, no final dot), or why there are
 * none that can be trusted to be what a reader sees. Each address's domain counts, so that one
 * From naming two domains is held to the stricter policy.
 */
public sealed interface AuthorDomains {
    /** Past this many different domains in one From, the message is not checked but refused. */
    int MAX_DOMAINS = 5;

    record Found(List<String> domains) implements AuthorDomains {
        public Found {
            domains = List.copyOf(domains);
        }
    }

    record Unusable(String why) implements AuthorDomains {
    }

    /** {@code fields}: the header as {@link HeaderFields#read} gives it (ISO-8859-1, folding kept). */
    static AuthorDomains of(List<String> fields) {
        List<String> from = fields.stream().filter(f -> HeaderFields.name(f).equals("from")).toList();
        if (from.size() != 1) {
            return new Unusable(from.isEmpty() ? "no From field" : from.size() + " From fields");
        }
        String raw = from.getFirst();
        String value = utf8(raw.substring(raw.indexOf(':') + 1).replace("\r\n", ""));
        List<String> domains = new ArrayList<>();
        for (AddressList.Address a : AddressList.parse(value)) {
            if (a.host() == null) {
                continue; // a group's markers
            }
            String domain = dnsName(a.host());
            if (domain == null) {
                return new Unusable("From domain " + printable(a.host()) + " is not a valid domain name");
            }
            if (!domains.contains(domain)) {
                domains.add(domain);
            }
        }
        if (domains.isEmpty()) {
            return new Unusable("no address in the From field");
        }
        if (domains.size() > MAX_DOMAINS) {
            return new Unusable(domains.size() + " domains in the From field");
        }
        return new Found(domains);
    }

    /** The field's octets as UTF-8 when they are (RFC 6532 headers), else as they were read. */
    private static String utf8(String latin1) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .decode(ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1))).toString();
        } catch (CharacterCodingException e) {
            return latin1;
        }
    }

    /**
     * The host as DNS asks for it, or null when it is not a host name. A U-label must come back
     * from A-labels unchanged: the JDK maps by IDNA2003, under which "faß.de" would become
     * "fass.de", another domain than the one a reader sees (IDNA2008 keeps ß).
     */
    static String dnsName(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        String ascii;
        try {
            ascii = IDN.toASCII(h, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!ascii.equals(h)) {
            String back = IDN.toUnicode(ascii, IDN.USE_STD3_ASCII_RULES);
            if (!back.equals(Normalizer.normalize(h, Normalizer.Form.NFC))) {
                return null;
            }
        }
        return HostName.isValid(ascii) ? ascii : null;
    }

    private static String printable(String text) {
        String clean = text.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 100 ? clean.substring(0, 100) : clean;
    }
}

package dev.mailstack.sieve;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A "mailto:" URI (RFC 6068) as the enotify mailto method reads it (RFC 5436 §2.1): the
 * addresses it sends to, from its path and its "to" and "cc" fields, and the other header fields
 * it carries, percent-decoded as UTF-8. Only the fields a notification may take from a URI are
 * kept (RFC 5436 §2.7 leaves the sender and trace fields to the notifier, and we leave out Bcc so
 * that no notification has recipients its reader cannot see); "body" is kept as the body text.
 */
public record MailtoUri(List<String> to, List<String> cc, List<Field> fields) {
    /** Recipients one URI may name: a notification is a message to a few, never a mass mailing. */
    public static final int MAX_RECIPIENTS = 8;
    /** The longest URI read: longer ones are not valid notification methods. */
    static final int MAX_LENGTH = 4096;
    /** Header fields taken from a URI; all others (From, Sender, Bcc, Received, Auto-Submitted...) are ignored. */
    static final Set<String> KEPT_FIELDS = Set.of("subject", "in-reply-to", "references", "keywords", "comments", "body");

    /** One hfield, its name lower-cased. */
    public record Field(String name, String value) {
    }

    public MailtoUri {
        to = List.copyOf(to);
        cc = List.copyOf(cc);
        fields = List.copyOf(fields);
    }

    /** The value of the first field of that name (lower case), if the URI has one. */
    public Optional<String> field(String name) {
        return fields.stream().filter(f -> f.name().equals(name)).map(Field::value).findFirst();
    }

    /** Whether the enotify method {@code method} is one we can send to (RFC 5435 §5: valid_notify_method). */
    static boolean supported(String method) {
        return parse(method).isPresent();
    }

    /** Why a method cannot be used, for the script's author. */
    static String unsupported(String method) {
        return method.regionMatches(true, 0, "mailto:", 0, 7)
                ? "notification method \"" + method + "\" is not a mailto URI we can send to: it needs 1 to "
                        + MAX_RECIPIENTS + " addresses like mailto:user@example.org, percent-encoded (RFC 6068)"
                : "notification method \"" + method + "\" is not supported; this server offers \"mailto:\" only";
    }

    /**
     * The URI, if it is a mailto URI naming between one and {@value #MAX_RECIPIENTS} addresses,
     * each one plain address; empty for any other method, or a mailto URI we cannot read.
     */
    public static Optional<MailtoUri> parse(String uri) {
        if (uri == null || uri.length() > MAX_LENGTH || !uri.regionMatches(true, 0, "mailto:", 0, 7)) {
            return Optional.empty();
        }
        // RFC 3986 §2: no raw space or control character in a URI
        if (uri.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
            return Optional.empty();
        }
        String rest = uri.substring(7);
        int q = rest.indexOf('?');
        String path = q < 0 ? rest : rest.substring(0, q);
        List<String> to = new ArrayList<>();
        List<String> cc = new ArrayList<>();
        List<Field> fields = new ArrayList<>();
        if (!addresses(path, to)) {
            return Optional.empty();
        }
        if (q >= 0) {
            for (String hfield : rest.substring(q + 1).split("&", -1)) {
                int eq = hfield.indexOf('=');
                if (eq <= 0) {
                    return Optional.empty(); // RFC 6068 §2: hfield = hfname "=" hfvalue
                }
                Optional<String> name = decode(hfield.substring(0, eq));
                if (name.isEmpty()) {
                    return Optional.empty();
                }
                String n = name.get().toLowerCase(Locale.ROOT);
                String raw = hfield.substring(eq + 1);
                if (n.equals("to") || n.equals("cc")) {
                    if (!addresses(raw, n.equals("to") ? to : cc)) {
                        return Optional.empty();
                    }
                } else if (KEPT_FIELDS.contains(n)) {
                    Optional<String> value = decode(raw);
                    if (value.isEmpty()) {
                        return Optional.empty();
                    }
                    fields.add(new Field(n, value.get()));
                }
            }
        }
        int count = to.size() + cc.size();
        if (count == 0 || count > MAX_RECIPIENTS) {
            return Optional.empty();
        }
        return Optional.of(new MailtoUri(to, cc, fields));
    }

    /** RFC 6068 §2: addresses separated by ",", each percent-encoded; false if one is no plain address. */
    private static boolean addresses(String encoded, List<String> into) {
        if (encoded.isEmpty()) {
            return true;
        }
        for (String part : encoded.split(",", -1)) {
            Optional<String> text = decode(part);
            String address = text.map(RedirectAddress::parse).orElse(null);
            if (address == null) {
                return false;
            }
            if (into.size() >= MAX_RECIPIENTS) {
                return false;
            }
            into.add(address);
        }
        return true;
    }

    /** RFC 3986 §2.1 percent-decoding to UTF-8 (RFC 6068 §2); empty for a bad escape or bad UTF-8. */
    static Optional<String> decode(String s) {
        if (s.indexOf('%') < 0) {
            return Optional.of(s);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    return Optional.empty();
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return Optional.empty();
                }
                bytes.write(hi * 16 + lo);
                i += 2;
            } else {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    /**
     * RFC 5435 §4.1 :encodeurl: every character but RFC 3986's unreserved ones percent-encoded as
     * UTF-8, so that a variable can go into a URI's field value.
     */
    static String encode(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}

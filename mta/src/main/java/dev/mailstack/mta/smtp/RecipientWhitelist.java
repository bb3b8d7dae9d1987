package dev.mailstack.mta.smtp;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * smtp.greylist_whitelist_recipients: recipients never greylisted, in the format of postgrey's
 * whitelist_recipients (--whitelist-recipients): {@code user@domain} (that address),
 * {@code domain} (every address of the domain and of the domains under it), {@code user@} (that
 * local part in any domain, as postgrey's {@code postmaster@} and {@code abuse@}), or a
 * {@code /regex/} searched for in the address; {@code user@domain} and {@code user@} take
 * {@code user+tag} too, as postgrey's. Addresses are compared as the client wrote them in
 * RCPT, lowercased; expressions ignore case, as postgrey's. A hash lookup per form and a search
 * per expression, compiled when the file is read.
 */
public final class RecipientWhitelist {
    public static final RecipientWhitelist NONE = new RecipientWhitelist(Map.of(), Map.of(), Map.of(), List.of());

    private final Map<String, String> addresses;
    private final Map<String, String> localParts;
    private final Map<String, String> domains;
    private final List<Pattern> patterns;

    private RecipientWhitelist(Map<String, String> addresses, Map<String, String> localParts, Map<String, String> domains,
                               List<Pattern> patterns) {
        this.addresses = Map.copyOf(addresses);
        this.localParts = Map.copyOf(localParts);
        this.domains = Map.copyOf(domains);
        this.patterns = List.copyOf(patterns);
    }

    /**
     * Reads {@code file}; {@link IllegalArgumentException} "file:line: entry: why" for a line that
     * is none of the forms, {@link IOException} when it cannot be read.
     */
    public static RecipientWhitelist read(Path file) throws IOException {
        Map<String, String> addresses = new HashMap<>();
        Map<String, String> localParts = new HashMap<>();
        Map<String, String> domains = new HashMap<>();
        List<Pattern> patterns = new ArrayList<>();
        for (WhitelistFile.Line line : WhitelistFile.read(file)) {
            String text = line.text();
            String key = text.toLowerCase(Locale.ROOT);
            int at = key.lastIndexOf('@');
            if (line.isRegex()) {
                patterns.add(line.regex());
            } else if (text.chars().anyMatch(c -> Character.isWhitespace(c) || c == '<' || c == '>') || at == 0) {
                throw line.error("not an address, user@, domain or /regex/");
            } else if (at < 0) {
                if (!WhitelistFile.isDomain(text)) {
                    throw line.error("not a domain, user@, address or /regex/");
                }
                domains.put(key, text);
            } else if (at == key.length() - 1) {
                localParts.put(key.substring(0, at), text);
            } else {
                if (!WhitelistFile.isDomain(key.substring(at + 1))) {
                    throw line.error("the part after @ is not a domain");
                }
                addresses.put(key, text);
            }
        }
        return new RecipientWhitelist(addresses, localParts, domains, patterns);
    }

    public boolean isEmpty() {
        return addresses.isEmpty() && localParts.isEmpty() && domains.isEmpty() && patterns.isEmpty();
    }

    /** The entry that lists {@code recipient}, if one does. */
    public Optional<String> find(String recipient) {
        String r = recipient.toLowerCase(Locale.ROOT);
        int at = r.lastIndexOf('@');
        String entry = addresses.get(r);
        if (entry == null && at > 0) {
            entry = localParts.get(r.substring(0, at));
        }
        // postgrey's user@domain and user@ take user+tag too (^user(?:\+[^@]+)?@), as the greylist's triplet does
        int plus = r.indexOf('+');
        if (entry == null && plus > 0 && plus < at) {
            String user = r.substring(0, plus);
            entry = addresses.get(user + r.substring(at));
            if (entry == null) {
                entry = localParts.get(user);
            }
        }
        for (String domain = at < 0 ? "" : r.substring(at + 1); entry == null && !domain.isEmpty(); ) {
            entry = domains.get(domain);
            int dot = domain.indexOf('.');
            domain = dot < 0 ? "" : domain.substring(dot + 1);
        }
        if (entry != null) {
            return Optional.of(entry);
        }
        for (Pattern p : patterns) {
            if (p.matcher(r).find()) {
                return Optional.of("/" + p.pattern() + "/");
            }
        }
        return Optional.empty();
    }
}

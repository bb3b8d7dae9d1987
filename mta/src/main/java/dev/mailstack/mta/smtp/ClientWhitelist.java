package dev.mailstack.mta.smtp;

import dev.mailstack.net.Cidr;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * smtp.greylist_whitelist_clients: clients never greylisted, in the format of postgrey's
 * whitelist_clients (--whitelist-clients). Each line is a host name or domain, matching the
 * client's verified name and every name under it ({@code example.net} takes
 * {@code mx1.example.net}); a {@code /regex/} searched for in that name; an IPv4 or IPv6 address;
 * a network ({@code 192.0.2.0/24}, {@code 2001:db8::/32}); or, as postgrey allows, the first one to
 * three octets of an IPv4 address ({@code 192.0.2} is 192.0.2.0/24). Names are matched only against
 * the client's forward-confirmed reverse DNS name (Postfix hands postgrey {@code client_name}, which
 * is "unknown" unless the PTR name's addresses include the client's): an unconfirmed PTR is anyone's
 * to write. Matching costs a hash lookup per label of the name, a test per network and a search per
 * expression, all compiled when the file is read.
 */
public final class ClientWhitelist {
    public static final ClientWhitelist NONE = new ClientWhitelist(List.of(), Map.of(), List.of());

    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?");
    /** postgrey's address prefixes: one to three whole octets. */
    private static final Pattern IPV4_PREFIX = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){0,2}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(/[0-9]{1,3})?");

    private record Network(String entry, Cidr cidr) {
    }

    private final List<Network> networks;
    /** Domain (lowercase) to the entry as written. */
    private final Map<String, String> domains;
    private final List<Pattern> patterns;

    private ClientWhitelist(List<Network> networks, Map<String, String> domains, List<Pattern> patterns) {
        this.networks = List.copyOf(networks);
        this.domains = Map.copyOf(domains);
        this.patterns = List.copyOf(patterns);
    }

    /**
     * Reads {@code file}; {@link IllegalArgumentException} "file:line: entry: why" for a line that
     * is none of the forms, {@link IOException} when it cannot be read.
     */
    public static ClientWhitelist read(Path file) throws IOException {
        List<Network> networks = new ArrayList<>();
        Map<String, String> domains = new HashMap<>();
        List<Pattern> patterns = new ArrayList<>();
        for (WhitelistFile.Line line : WhitelistFile.read(file)) {
            String text = line.text();
            if (line.isRegex()) {
                patterns.add(line.regex());
            } else if (IPV4.matcher(text).matches() || (IPV6.matcher(text).matches() && text.indexOf(':') >= 0)) {
                // a literal only: Cidr.parse would look a name up in DNS (as it would 999.0.0.1)
                if (IPV4.matcher(text).matches() && !octetsFit(text)) {
                    throw line.error("not an address or network");
                }
                try {
                    networks.add(new Network(text, Cidr.parse(text)));
                } catch (IllegalArgumentException e) {
                    throw line.error("not an address or network");
                }
            } else if (IPV4_PREFIX.matcher(text).matches()) {
                if (!octetsFit(text)) {
                    throw line.error("not an address prefix");
                }
                String[] octets = text.split("\\.");
                StringBuilder network = new StringBuilder(text);
                for (int i = octets.length; i < 4; i++) {
                    network.append(".0");
                }
                try {
                    networks.add(new Network(text, Cidr.parse(network + "/" + octets.length * 8)));
                } catch (IllegalArgumentException e) {
                    throw line.error("not an address prefix");
                }
            } else if (WhitelistFile.isDomain(text)) {
                if (!text.contains(".")) {
                    // as postgrey's host entries: "com" would let every name under a top-level domain pass
                    throw line.error("a host name or domain needs a dot (a top-level domain alone would whitelist too much)");
                }
                domains.put(text.toLowerCase(Locale.ROOT), text);
            } else {
                throw line.error("not a host name, address, network or /regex/");
            }
        }
        return new ClientWhitelist(networks, domains, patterns);
    }

    private static boolean octetsFit(String text) {
        int slash = text.indexOf('/');
        for (String octet : (slash < 0 ? text : text.substring(0, slash)).split("\\.")) {
            if (Integer.parseInt(octet) > 255) {
                return false;
            }
        }
        return true;
    }

    /** Whether any entry needs the client's name (then it is looked up, once a session). */
    public boolean hasNames() {
        return !domains.isEmpty() || !patterns.isEmpty();
    }

    public boolean isEmpty() {
        return networks.isEmpty() && !hasNames();
    }

    /** The entry that lists {@code client}'s address, if one does. */
    public Optional<String> byAddress(InetAddress client) {
        for (Network n : networks) {
            if (n.cidr().contains(client)) {
                return Optional.of(n.entry());
            }
        }
        return Optional.empty();
    }

    /** The entry that lists the client's verified {@code name} (or a domain above it), if one does. */
    public Optional<String> byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        for (String suffix = n; !suffix.isEmpty(); ) {
            String entry = domains.get(suffix);
            if (entry != null) {
                return Optional.of(entry);
            }
            int dot = suffix.indexOf('.');
            suffix = dot < 0 ? "" : suffix.substring(dot + 1);
        }
        for (Pattern p : patterns) {
            if (p.matcher(n).find()) { // Perl's =~: a search, anchored only where the expression says so
                return Optional.of("/" + p.pattern() + "/");
            }
        }
        return Optional.empty();
    }
}

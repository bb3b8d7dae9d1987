package dev.mailstack.server;

import dev.mailstack.mta.dkim.DkimKey;
import dev.mailstack.mta.dkim.DomainKeys;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.dns.DnsLookup.DnsFailure;
import dev.mailstack.mta.inbound.SpfCheck;
import dev.mailstack.mta.inbound.SpfResult;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Whether the DNS records other mail servers look at are published right for one of our domains:
 * MX, the server's addresses, their reverse DNS, SPF, the DKIM key and DMARC, each read the way a
 * receiver reads it. Only DNS is asked, through the resolver given; a lookup that fails is a
 * finding of its own and the other checks go on.
 */
final class DnsRecordsCheck {
    /** RFC 7208 §4.5: an SPF record begins with "v=spf1" and then a space or nothing, in any case. */
    private static final Pattern SPF = Pattern.compile("(?i)v=spf1( .*)?");
    /** RFC 7489 §6.6.3: a DMARC record begins with its version tag; other TXT records there are discarded. */
    private static final Pattern DMARC = Pattern.compile("(?i)v\\s*=\\s*DMARC1\\s*(;.*)?");

    enum Status {
        OK, WARN, FAIL;

        /** FAIL in capitals so that it stands out among the ok lines. */
        String label() {
            return this == FAIL ? "FAIL" : name().toLowerCase(Locale.ROOT);
        }
    }

    /** One check's line: which record, what DNS says, and, for anything not ok, what to do about it. */
    record Finding(String check, String text, Status status, String hint) {
        Finding {
            if (status != Status.OK && hint.isEmpty()) {
                throw new IllegalArgumentException("a " + status.label() + " finding says what to do: " + text);
            }
        }

        static Finding ok(String check, String text) {
            return new Finding(check, text, Status.OK, "");
        }

        static Finding failedLookup(String check, String text, DnsFailure e) {
            return new Finding(check, text, Status.FAIL, "lookup failed: " + e.getMessage());
        }
    }

    /** The advice while the server has no name to point MX at (hostname unset on a machine called localhost). */
    static final String SET_HOSTNAME_FIRST = "set hostname in the configuration first (the name other servers reach"
            + " this one by, e.g. hostname = mail.example.org)";

    private final DnsLookup dns;
    private final String hostname;
    private final Path keys;
    private final String selector;

    /**
     * {@code hostname}: what the server calls itself (its EHLO name, where MX should point);
     * {@code keys} and {@code selector}: where the DKIM signer finds a domain's key.
     */
    DnsRecordsCheck(DnsLookup dns, String hostname, Path keys, String selector) {
        this.dns = dns;
        this.hostname = withoutDot(hostname.toLowerCase(Locale.ROOT));
        this.keys = keys;
        this.selector = selector;
    }

    /** Every check for {@code domain}; the server's addresses are {@code ips}, or when empty those of the hostname. */
    List<Finding> check(String domain, List<InetAddress> ips) {
        List<Finding> out = new ArrayList<>();
        out.add(mx(domain));
        List<InetAddress> own = new ArrayList<>();
        if (Config.isFullName(hostname)) {
            out.addAll(addresses(own, ips));
        } else {
            // no A record or reverse DNS to advise for "localhost": the name itself comes first
            out.add(new Finding("A", "hostname = " + hostname + ", not a name other servers can look up", Status.FAIL,
                    SET_HOSTNAME_FIRST));
        }
        List<InetAddress> checked = ips.isEmpty() ? own : ips;
        for (InetAddress ip : Config.isFullName(hostname) ? checked : List.<InetAddress>of()) {
            out.add(ptr(ip, own));
        }
        out.addAll(spf(domain, checked));
        out.addAll(dkim(domain));
        out.add(dmarc(domain));
        return out;
    }

    private Finding mx(String domain) {
        List<DnsLookup.Mx> records;
        try {
            records = dns.mx(domain).stream().sorted(Comparator.comparingInt(DnsLookup.Mx::preference)).toList();
        } catch (DnsFailure e) {
            return Finding.failedLookup("MX", domain, e);
        }
        String publish = Config.isFullName(hostname) ? "publish " + domain + ". MX 10 " + hostname + "."
                : SET_HOSTNAME_FIRST + ", then publish " + domain + ". MX 10 that name.";
        if (records.isEmpty()) {
            return new Finding("MX", domain + " -> no MX record", Status.FAIL, publish);
        }
        if (records.size() == 1 && records.getFirst().host().isEmpty()) {
            return new Finding("MX", domain + " -> . (null MX)", Status.FAIL,
                    "RFC 7505: the null MX says " + domain + " takes no mail; " + publish + " instead");
        }
        String text = domain + " -> " + records.stream().map(m -> m.host() + " (" + m.preference() + ")")
                .collect(Collectors.joining(", "));
        if (records.stream().anyMatch(m -> withoutDot(m.host()).equalsIgnoreCase(hostname))) {
            return Finding.ok("MX", text);
        }
        return new Finding("MX", text, Status.WARN, "mail for " + domain + " goes to "
                + records.getFirst().host() + ", not this server (hostname = " + hostname + ")");
    }

    /** A and AAAA of the hostname, which are added to {@code own}. */
    private List<Finding> addresses(List<InetAddress> own, List<InetAddress> ips) {
        List<Finding> out = new ArrayList<>();
        boolean failed = false;
        for (boolean ipv6 : new boolean[]{false, true}) {
            String type = ipv6 ? "AAAA" : "A";
            try {
                List<InetAddress> found = dns.addresses(hostname, ipv6);
                own.addAll(found);
                if (!found.isEmpty()) {
                    out.add(Finding.ok(type, hostname + " -> " + found.stream().map(DnsRecordsCheck::readable)
                            .collect(Collectors.joining(", "))));
                }
            } catch (DnsFailure e) {
                failed = true;
                out.add(Finding.failedLookup(type, hostname, e));
            }
        }
        if (own.isEmpty() && !failed) {
            // RFC 5321 §5.1: the MX names a host, and senders connect to that host's addresses
            String address = ips.isEmpty() ? "<server address>" : readable(ips.getFirst());
            out.add(new Finding("A", hostname + " -> no address", Status.FAIL, "publish " + hostname + ". "
                    + (ips.isEmpty() || ips.getFirst() instanceof Inet4Address ? "A " : "AAAA ") + address));
        }
        return out;
    }

    /**
     * Forward-confirmed reverse DNS: the address's PTR names the hostname, and the hostname has the
     * address. Large receivers refuse or junk mail from an address without it.
     */
    private Finding ptr(InetAddress ip, List<InetAddress> own) {
        String address = readable(ip);
        List<String> names;
        try {
            names = dns.ptr(reverseName(ip));
        } catch (DnsFailure e) {
            return Finding.failedLookup("PTR", address, e);
        }
        String ask = "ask your hosting provider to set the reverse DNS of " + address + " to " + hostname;
        if (names.isEmpty()) {
            return new Finding("PTR", address + " -> no PTR record", Status.WARN, ask);
        }
        String text = address + " -> " + String.join(", ", names);
        if (names.stream().noneMatch(n -> withoutDot(n).equalsIgnoreCase(hostname))) {
            return new Finding("PTR", text, Status.WARN, ask);
        }
        if (!own.contains(ip)) {
            return new Finding("PTR", text, Status.WARN, hostname + " does not resolve to " + address + ": publish "
                    + hostname + ". " + (ip instanceof Inet4Address ? "A " : "AAAA ") + address);
        }
        return Finding.ok("PTR", text);
    }

    /** The SPF record, checked for each address as a receiver checks mail from postmaster@DOMAIN. */
    private List<Finding> spf(String domain, List<InetAddress> ips) {
        List<String> records;
        try {
            records = dns.txt(domain).stream().filter(t -> SPF.matcher(t).matches()).toList();
        } catch (DnsFailure e) {
            return List.of(Finding.failedLookup("SPF", domain, e));
        }
        if (records.isEmpty()) {
            return List.of(new Finding("SPF", domain + " -> no SPF record", Status.WARN,
                    "publish " + domain + ". TXT \"v=spf1 mx -all\" (only the MX hosts send for " + domain + ")"));
        }
        if (records.size() > 1) {
            return List.of(new Finding("SPF", domain + " -> " + records.size() + " SPF records", Status.FAIL,
                    "RFC 7208 §4.5: receivers see a permerror; merge them into one record"));
        }
        String record = "\"" + records.getFirst() + "\"";
        if (ips.isEmpty()) {
            return List.of(new Finding("SPF", record, Status.WARN, "no address of " + hostname + " to check it with"));
        }
        SpfCheck spf = new SpfCheck(dns);
        List<Finding> out = new ArrayList<>();
        for (InetAddress ip : ips) {
            SpfResult r = spf.check(ip, hostname, "postmaster@" + domain);
            String text = record + ": " + readable(ip) + " " + r.kind().keyword();
            String allow = "; add " + (ip instanceof Inet4Address ? "ip4:" : "ip6:") + readable(ip) + " to the record, ahead of its all";
            out.add(switch (r.kind()) {
                case PASS -> Finding.ok("SPF", text);
                case FAIL -> new Finding("SPF", text, Status.FAIL, r.explanation() + allow);
                case SOFTFAIL, NEUTRAL, NONE -> new Finding("SPF", text, Status.WARN, r.explanation() + allow);
                case PERMERROR -> new Finding("SPF", text, Status.FAIL, "the record cannot be evaluated: " + r.explanation());
                case TEMPERROR -> new Finding("SPF", text, Status.FAIL, "lookup failed: " + r.explanation());
            });
        }
        return out;
    }

    /**
     * Each local key the signer uses for the domain (DomainKeys: RSA, Ed25519 or both) against the
     * public key published for it, then what leaves a key out.
     */
    private List<Finding> dkim(String domain) {
        Path folder = keys.resolve(domain);
        DomainKeys chosen;
        try {
            chosen = DomainKeys.read(folder, domain, selector);
        } catch (IOException e) {
            return List.of(new Finding("DKIM", folder.toString(), Status.FAIL, "mail is sent unsigned: " + e.getMessage()));
        }
        List<Finding> out = new ArrayList<>();
        for (DkimKey key : chosen.signing()) {
            out.add(dkim(key, folder.resolve(key.selector() + ".pem")));
        }
        for (DomainKeys.Problem problem : chosen.problems()) {
            out.add(switch (problem) {
                case DomainKeys.Unreadable u -> new Finding("DKIM", u.file().toString(), Status.FAIL,
                        (chosen.signing().isEmpty() ? "mail is sent unsigned: " : "not used: ") + u.reason());
                case DomainKeys.Undecided u -> new Finding("DKIM", u.files().size() + " " + u.kind().k() + " keys for " + domain
                        + " in " + folder, Status.WARN, "none under dkim.selector as " + u.selector() + ".pem, so mail is not"
                        + " signed with " + u.kind().k() + ": remove the retired ones");
            });
        }
        if (out.isEmpty()) {
            out.add(new Finding("DKIM", "no key for " + domain + " in " + folder, Status.WARN, "mail from " + domain
                    + " is sent unsigned; mailstack dkim keygen " + domain + " makes a key and prints its record"));
        }
        return out;
    }

    /** One key against its record: the same p=, and a k= that names its kind (RFC 6376 §3.6.1: none means rsa). */
    private Finding dkim(DkimKey key, Path file) {
        List<Map<String, String>> published;
        try {
            published = dns.txt(key.dnsName()).stream().map(DnsRecordsCheck::tags).filter(t -> t.containsKey("p")).toList();
        } catch (DnsFailure e) {
            return Finding.failedLookup("DKIM", key.dnsName(), e);
        }
        String publish = "publish " + key.zoneLine();
        if (published.isEmpty()) {
            return new Finding("DKIM", key.dnsName() + " -> no DKIM record", Status.FAIL, publish);
        }
        String ours = tags(key.dnsText()).get("p");
        List<Map<String, String>> same = published.stream().filter(t -> t.get("p").equals(ours)).toList();
        if (same.isEmpty()) {
            String which = published.stream().allMatch(t -> t.get("p").isEmpty())
                    ? "a revoked key (empty p=)" : "another key";
            return new Finding("DKIM", key.dnsName() + " holds " + which + " than " + file, Status.FAIL,
                    "receivers cannot verify what this server signs; " + publish);
        }
        String k = same.getFirst().getOrDefault("k", "rsa");
        if (!k.equalsIgnoreCase(key.kind().k())) {
            return new Finding("DKIM", key.dnsName() + " holds the key of " + file + " as k=" + k, Status.FAIL,
                    "it is an " + key.kind().k() + " key: receivers read it as " + k + " and fail every signature; " + publish);
        }
        if (published.size() > 1) {
            return new Finding("DKIM", key.dnsName() + " -> " + published.size() + " key records", Status.WARN,
                    "RFC 6376 §3.6.2.2: a verifier may use any of them; keep only the one for " + file);
        }
        return Finding.ok("DKIM", key.dnsName() + " matches " + file);
    }

    private Finding dmarc(String domain) {
        String name = "_dmarc." + domain;
        List<String> records;
        try {
            records = dns.txt(name).stream().filter(t -> DMARC.matcher(t).matches()).toList();
        } catch (DnsFailure e) {
            return Finding.failedLookup("DMARC", name, e);
        }
        String publish = "publish " + name + ". TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@" + domain + "\"";
        if (records.isEmpty()) {
            return new Finding("DMARC", name + " -> no DMARC record", Status.WARN, publish);
        }
        if (records.size() > 1) {
            // RFC 7489 §6.6.3: more than one record is as good as none
            return new Finding("DMARC", name + " -> " + records.size() + " DMARC records", Status.WARN,
                    "receivers use none of them; keep one");
        }
        return Finding.ok("DMARC", "\"" + records.getFirst() + "\"");
    }

    /**
     * A DKIM key record's tag list (RFC 6376 §3.2), tags in lower case, whitespace taken out of the
     * values (base64 in p= may be folded); the first of a repeated tag counts.
     */
    static Map<String, String> tags(String record) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String spec : record.split(";")) {
            int eq = spec.indexOf('=');
            if (eq > 0) {
                out.putIfAbsent(spec.substring(0, eq).strip().toLowerCase(Locale.ROOT),
                        spec.substring(eq + 1).replaceAll("\\s", ""));
            }
        }
        return out;
    }

    /** Where an address's PTR records are (RFC 1035 §3.5, RFC 3596 §2.5). */
    static String reverseName(InetAddress ip) {
        byte[] b = ip.getAddress();
        StringBuilder out = new StringBuilder();
        for (int i = b.length - 1; i >= 0; i--) {
            if (ip instanceof Inet4Address) {
                out.append(b[i] & 0xff).append('.');
            } else {
                out.append(Character.forDigit(b[i] & 0xf, 16)).append('.')
                        .append(Character.forDigit((b[i] >> 4) & 0xf, 16)).append('.');
            }
        }
        return out + (ip instanceof Inet4Address ? "in-addr.arpa" : "ip6.arpa");
    }

    /** An address as people write it: for IPv6 the shortest form of RFC 5952 §4. */
    static String readable(InetAddress ip) {
        if (ip instanceof Inet4Address) {
            return ip.getHostAddress();
        }
        byte[] b = ip.getAddress();
        int[] groups = new int[8];
        int bestStart = -1;
        int bestLength = 1; // §4.2.2: a single zero group is not shortened
        for (int g = 0, run = 0; g < 8; g++) {
            groups[g] = ((b[2 * g] & 0xff) << 8) | (b[2 * g + 1] & 0xff);
            run = groups[g] == 0 ? run + 1 : 0;
            if (run > bestLength) { // §4.2.3: the longest run, the first of equal ones
                bestLength = run;
                bestStart = g - run + 1;
            }
        }
        StringBuilder out = new StringBuilder();
        for (int g = 0; g < 8; g++) {
            if (g == bestStart) {
                out.append("::");
                g += bestLength - 1;
            } else {
                if (!out.isEmpty() && out.charAt(out.length() - 1) != ':') {
                    out.append(':');
                }
                out.append(Integer.toHexString(groups[g]));
            }
        }
        return out.toString();
    }

    private static String withoutDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}

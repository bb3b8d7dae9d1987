package dev.mailstack.mta.inbound;

import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.inbound.SpfRecord.All;
import dev.mailstack.mta.inbound.SpfResult.Kind;
import dev.mailstack.net.Cidr;
import java.net.IDN;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * One run of RFC 7208's check_host() (§4) for one client and sender, with the counters its
 * limits need across every include and redirect it follows (§4.6.4): DNS-querying terms, void
 * lookups, and the time left. Not for more than one check.
 */
final class SpfEvaluation {
    /** §4.6.4: include, a, mx, ptr, exists and redirect together, per check. */
    static final int MAX_DNS_TERMS = 10;
    /** §4.6.4: lookups that find no name or no records; the RFC recommends two. */
    static final int MAX_VOID_LOOKUPS = 2;
    /** §4.6.4: MX names one mx mechanism may have, and PTR names looked at for ptr and %{p}. */
    static final int MAX_NAMES = 10;

    private final DnsLookup dns;
    private final InetAddress ip;
    private final long deadline;
    private final String outOfTime;
    private int dnsTerms;
    private int voidLookups;
    private List<String> validated;

    /** {@code ip}: the client, IPv4-mapped IPv6 already made IPv4 (§5). {@code deadline}: a System.nanoTime(). */
    SpfEvaluation(DnsLookup dns, InetAddress ip, long deadline, String outOfTime) {
        this.dns = dns;
        this.ip = ip;
        this.deadline = deadline;
        this.outOfTime = outOfTime;
    }

    /** A check_host() result and, for fail, the domain's explanation (null when it gave none or it is not asked for). */
    record Outcome(Kind kind, String explanation) {
    }

    /**
     * check_host() (§4) on {@code domain}, whose values the {@code macros} hold. {@code explain}:
     * whether a fail should fetch the record's exp= text (not for include, §6.2).
     */
    Outcome checkHost(String domain, SpfMacros macros, boolean explain) throws SpfError {
        if (!isDomain(domain)) {
            return new Outcome(Kind.NONE, null); // §4.3
        }
        List<String> found = new ArrayList<>();
        for (String txt : ask(domain, "TXT", () -> dns.txt(domain))) {
            if (SpfRecord.isSpf(txt)) {
                found.add(txt);
            }
        }
        if (found.size() > 1) {
            throw SpfError.permanent("more than one SPF record for " + domain); // §4.5
        }
        if (found.isEmpty()) {
            return new Outcome(Kind.NONE, null);
        }
        SpfRecord record;
        try {
            record = SpfRecord.parse(found.get(0));
        } catch (SpfError e) {
            throw SpfError.permanent(domain + ": " + e.getMessage());
        }
        for (SpfRecord.Mechanism mechanism : record.mechanisms()) {
            if (matches(mechanism, domain, macros)) {
                Kind kind = mechanism.qualifier();
                return new Outcome(kind, kind == Kind.FAIL && explain ? explanation(record, macros) : null);
            }
        }
        // §6.1: redirect only when nothing matched and the record has no "all"; its exp= goes with it (§6.2)
        if (record.redirect().isPresent() && record.mechanisms().stream().noneMatch(All.class::isInstance)) {
            countDnsTerm();
            String target = macros.name(record.redirect().get());
            Outcome redirected = checkHost(target, macros.forDomain(target), explain);
            if (redirected.kind() == Kind.NONE) {
                throw SpfError.permanent("redirect to " + target + ", which has no SPF record");
            }
            return redirected;
        }
        return new Outcome(Kind.NEUTRAL, null); // §4.7
    }

    private boolean matches(SpfRecord.Mechanism mechanism, String domain, SpfMacros macros) throws SpfError {
        return switch (mechanism) {
            case SpfRecord.All all -> true;
            case SpfRecord.Include include -> {
                countDnsTerm();
                String target = macros.name(include.domainSpec());
                // §5.2: only an inner pass matches; temperror and permerror have been thrown already
                yield switch (checkHost(target, macros.forDomain(target), false).kind()) {
                    case PASS -> true;
                    case NONE -> throw SpfError.permanent("include:" + target + " has no SPF record");
                    default -> false;
                };
            }
            case SpfRecord.A a -> {
                countDnsTerm();
                String target = a.domainSpec() == null ? domain : macros.name(a.domainSpec());
                yield anyInNetwork(counted(addresses(target)), a.cidr4(), a.cidr6());
            }
            case SpfRecord.Mx mx -> {
                countDnsTerm();
                String target = mx.domainSpec() == null ? domain : macros.name(mx.domainSpec());
                List<DnsLookup.Mx> exchanges = isDnsName(target) ? ask(target, "MX", () -> dns.mx(target)) : List.of();
                if (counted(exchanges).size() > MAX_NAMES) {
                    throw SpfError.permanent("more than " + MAX_NAMES + " MX records for " + target); // §4.6.4
                }
                boolean found = false;
                for (DnsLookup.Mx exchange : exchanges) {
                    // §5.4: no fall back to the A of the target; RFC 7505's null MX names no host
                    if (!found && !exchange.host().isEmpty()) {
                        found = anyInNetwork(addresses(exchange.host()), mx.cidr4(), mx.cidr6());
                    }
                }
                yield found;
            }
            case SpfRecord.Ptr ptr -> {
                countDnsTerm();
                String target = (ptr.domainSpec() == null ? domain : macros.name(ptr.domainSpec())).toLowerCase(Locale.ROOT);
                // §5.5: a validated name that is the target or under it
                yield validatedNames().stream().anyMatch(name -> name.equals(target) || name.endsWith("." + target));
            }
            case SpfRecord.Ip net -> net.ipv6() == (ip instanceof Inet6Address)
                    && inNetwork(net.ipv6() ? sixteenBytes(net.network()) : net.network().getAddress(), net.prefix());
            case SpfRecord.Exists exists -> {
                countDnsTerm();
                String target = macros.name(exists.domainSpec());
                // §5.7: an A query whatever the client's address family
                yield !counted(isDnsName(target) ? ask(target, "A", () -> dns.addresses(target, false)) : List.of()).isEmpty();
            }
        };
    }

    /** The client's addresses of a name, A or AAAA as the client is IPv4 or IPv6 (§5.3). */
    private List<InetAddress> addresses(String name) throws SpfError {
        if (!isDnsName(name)) {
            return List.of(); // an expansion no query can carry: a name that does not exist
        }
        boolean ipv6 = ip instanceof Inet6Address;
        return ask(name, ipv6 ? "AAAA" : "A", () -> dns.addresses(name, ipv6));
    }

    private boolean anyInNetwork(List<InetAddress> networks, int cidr4, int cidr6) {
        for (InetAddress network : networks) {
            if (inNetwork(network.getAddress(), ip instanceof Inet4Address ? cidr4 : cidr6)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the client's first {@code prefix} bits are the network's (§5.6). */
    private boolean inNetwork(byte[] network, int prefix) {
        return new Cidr(network, prefix).contains(ip);
    }

    /** An address as 16 bytes: Java reads ::ffff:a.b.c.d as IPv4, but an ip6 network is IPv6 (§5.6). */
    private static byte[] sixteenBytes(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length == 16) {
            return b;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(b, 0, mapped, 12, 4);
        return mapped;
    }

    /**
     * §5.5: the names of the client's PTR records (the first {@link #MAX_NAMES}) whose own
     * addresses include the client. A failed lookup leaves out what it would have given, and is
     * no error; asked once per check, for ptr and %{p} alike.
     */
    private List<String> validatedNames() throws SpfError {
        if (validated != null) {
            return validated;
        }
        List<String> parts = new ArrayList<>(List.of(SpfMacros.dotted(ip).split("\\.")));
        Collections.reverse(parts);
        String reverse = String.join(".", parts) + (ip instanceof Inet4Address ? ".in-addr.arpa" : ".ip6.arpa");
        List<String> names;
        try {
            names = counted(ask(reverse, "PTR", () -> dns.ptr(reverse)));
        } catch (SpfError e) {
            if (e.kind() != Kind.TEMPERROR) {
                throw e; // the void lookup limit
            }
            names = List.of();
        }
        List<String> out = new ArrayList<>();
        for (String name : names.subList(0, Math.min(names.size(), MAX_NAMES))) {
            try {
                if (addresses(name).contains(ip)) {
                    out.add(name.toLowerCase(Locale.ROOT));
                }
            } catch (SpfError e) {
                // §5.5: a name whose addresses cannot be had is skipped
            }
        }
        validated = List.copyOf(out);
        return validated;
    }

    /**
     * %{p} (§7.3): a validated name of the client, preferably {@code domain} itself or a name
     * under it; "unknown" when there is none or DNS fails.
     */
    String validatedName(String domain) {
        try {
            List<String> names = validatedNames();
            String d = domain.toLowerCase(Locale.ROOT);
            return names.stream().filter(d::equals).findFirst()
                    .or(() -> names.stream().filter(n -> n.endsWith("." + d)).findFirst())
                    .or(() -> names.stream().findFirst())
                    .orElse("unknown");
        } catch (SpfError e) {
            return "unknown";
        }
    }

    /**
     * §6.2: the exp= text, expanded; null (the default text then) when the name does not expand,
     * DNS fails, there is not exactly one TXT record, or its text does not parse. Its lookup
     * counts against no limit.
     */
    private String explanation(SpfRecord record, SpfMacros macros) {
        if (record.explanation().isEmpty()) {
            return null;
        }
        try {
            String name = macros.name(record.explanation().get());
            if (!isDnsName(name)) {
                return null;
            }
            List<String> txt = ask(name, "TXT", () -> dns.txt(name));
            return txt.size() == 1 ? macros.expand(txt.get(0), true) : null;
        } catch (SpfError e) {
            return null;
        }
    }

    private void countDnsTerm() throws SpfError {
        if (++dnsTerms > MAX_DNS_TERMS) {
            throw SpfError.permanent("more than " + MAX_DNS_TERMS + " DNS lookups (include, a, mx, ptr, exists, redirect)");
        }
    }

    /** §4.6.4: an answer with nothing in it is a void lookup, and there may be only so many. */
    private <T> List<T> counted(List<T> answer) throws SpfError {
        if (answer.isEmpty() && ++voidLookups > MAX_VOID_LOOKUPS) {
            throw SpfError.permanent("more than " + MAX_VOID_LOOKUPS + " DNS lookups found nothing");
        }
        return answer;
    }

    private interface Query<T> {
        List<T> answer() throws DnsLookup.DnsFailure;
    }

    /** One DNS question, if there is time left: a failed or late one ends the check in temperror (§4.4, §5). */
    private <T> List<T> ask(String name, String type, Query<T> query) throws SpfError {
        if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted()) {
            throw SpfError.temporary(outOfTime);
        }
        try {
            return query.answer();
        } catch (DnsLookup.DnsFailure e) {
            throw SpfError.temporary("no answer from DNS for " + name + " " + type);
        }
    }

    /** §4.3: a name of at least two labels that DNS can carry; not an address literal. */
    static boolean isDomain(String name) {
        return isDnsName(name) && name.indexOf('.') > 0 && !name.startsWith("[");
    }

    /** Labels of 1 to 63 octets, 253 in all once in A-labels (RFC 1035 §2.3.4). */
    static boolean isDnsName(String name) {
        String ascii;
        try {
            ascii = IDN.toASCII(name, IDN.ALLOW_UNASSIGNED);
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (ascii.isEmpty() || ascii.length() > 253) {
            return false;
        }
        for (String label : ascii.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63) {
                return false;
            }
        }
        return true;
    }
}

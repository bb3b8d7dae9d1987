package dev.mailstack.mta.delivery;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * DANE for SMTP (RFC 7672 §2.2) applied to a domain's MX routes: when DNSSEC vouches for the MX
 * RRset, each MX host whose address records are signed too has its TLSA records looked up, and
 * they decide how it is reached. Asks a {@link DnssecResolver} the Router trusts (on loopback).
 */
final class DaneLookup {
    private static final Logger LOG = System.getLogger(DaneLookup.class.getName());

    /** What DANE made of the routes. */
    sealed interface Result permits Insecure, Secure, Failed {
    }

    /** DNSSEC does not vouch for the MX RRset (the zone is not signed): the routes go as they were. */
    record Insecure(String why) implements Result {
    }

    /**
     * The MX lookup failed (SERVFAIL, as for a bogus answer, or no answer at all): RFC 7672 §2.1.1
     * makes that a temporary failure, not an insecure zone, or an attacker who breaks validation
     * would turn DANE off.
     */
    record Failed(String why) implements Result {
    }

    /**
     * The MX RRset validated: the routes with their TLSA records applied, and the hosts left out
     * because their TLSA (or address) lookup failed (RFC 7672 §2.2: such a host must not be used).
     */
    record Secure(List<Route> routes, List<String> failed) implements Result {
        Secure {
            routes = List.copyOf(routes);
            failed = List.copyOf(failed);
        }

        /** Whether every host has usable TLSA records: no MTA-STS policy is needed then (RFC 8461 §2). */
        boolean authenticatesEvery() {
            return routes.stream().allMatch(r -> r.tls() == TlsPolicy.DANE);
        }
    }

    /**
     * How long the DNS work of one delivery's DANE lookup may take, the MX RRset and every host's
     * addresses and TLSA records together: twice what one unanswered query takes ({@link
     * DnssecResolver#TRIES} waits of {@link DnssecResolver#TIMEOUT}), 12 s. A resolver that answers
     * finishes in milliseconds; against one that has gone silent, a delivery waits this long instead
     * of 6 s for each of up to 16 queries (the MX RRset, then A, AAAA and TLSA of 5 hosts).
     */
    static final Duration DEADLINE = DnssecResolver.TIMEOUT.multipliedBy(2L * DnssecResolver.TRIES);

    private final DnssecResolver resolver;
    private final Duration deadline;

    DaneLookup(DnssecResolver resolver) {
        this(resolver, DEADLINE);
    }

    /** With another deadline for each {@link #apply} (tests of slow hosts). */
    DaneLookup(DnssecResolver resolver, Duration deadline) {
        this.resolver = resolver;
        this.deadline = deadline;
    }

    DnssecResolver resolver() {
        return resolver;
    }

    /** {@code domain} in A-labels; {@code routes} its MX hosts as the Router found them. */
    Result apply(String domain, List<Route> routes) {
        DnssecResolver.Deadline by = DnssecResolver.Deadline.after(deadline);
        DnsMessage.Response mx;
        try {
            mx = resolver.query(domain, DnsMessage.MX, by);
        } catch (IOException e) {
            return new Failed("MX lookup failed: " + e.getMessage());
        }
        if (!answered(mx)) {
            return new Failed("MX lookup answered rcode=" + mx.rcode());
        }
        // RFC 7672 §2.2.1: a validated MX RRset, or a validated denial of one (the domain is its
        // own host then, RFC 5321 §5.1)
        if (!mx.authenticated()) {
            return new Insecure("MX RRset not validated (rcode=" + mx.rcode() + " ad=" + mx.authenticated() + ")");
        }
        // only hosts the validated RRset names: the routes came from another lookup (the JDK's,
        // which may have asked another server), and a forged host must not ride on this one's AD bit
        Set<String> named = new HashSet<>();
        try {
            for (DnsMessage.Answer a : mx.records(domain, DnsMessage.MX)) {
                named.add(hostName(DnsMessage.mx(a).exchange()));
            }
        } catch (DnsMessage.MalformedDnsException e) {
            return new Failed("MX answer malformed: " + e.getMessage());
        }
        if (named.isEmpty()) {
            named.add(hostName(domain));
        }
        List<Route> out = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<String> untried = new ArrayList<>();
        for (Route route : routes) {
            if (!named.contains(hostName(route.host()))) {
                LOG.log(Level.WARNING, "DANE: MX host not in the validated MX records, not used domain={0} host={1}",
                        domain, route.host());
                failed.add(route.host());
                continue;
            }
            // a delivery connects to RemoteDelivery.MAX_ADDRESSES addresses at most, so to no more
            // hosts than that: once that many are usable, the ones after them would never be tried
            // and need no lookup (a host whose lookup failed takes no turn; the deadline bounds them)
            if (out.size() == RemoteDelivery.MAX_ADDRESSES) {
                untried.add(route.host());
                continue;
            }
            try {
                // a lookup the deadline cuts short throws like any other failed one (RFC 7672 §2.2)
                out.add(apply(domain, route, by));
            } catch (IOException | IllegalArgumentException e) {
                // IllegalArgumentException: a name too long to ask for (a TLSA name over 255 octets)
                LOG.log(Level.WARNING, "DANE lookup failed, MX host not used domain={0} host={1}: {2}", domain,
                        route.host(), e.getMessage());
                failed.add(route.host());
            }
        }
        if (!untried.isEmpty()) {
            LOG.log(Level.INFO, "DANE: MX hosts past the {0} a delivery tries are neither looked up nor used domain={1} hosts={2}",
                    RemoteDelivery.MAX_ADDRESSES, domain, untried);
        }
        return new Secure(out, failed);
    }

    /**
     * One MX host: as it was when its addresses are not signed (§2.2.2) or it has no signed TLSA
     * records (§2.2.3); STARTTLS required when every TLSA record is unusable; DANE with the usable
     * ones. An exception when a lookup failed: the host is not to be used.
     */
    private Route apply(String domain, Route route, DnssecResolver.Deadline by) throws IOException {
        String host = route.host().toLowerCase(Locale.ROOT);
        String expanded = host;
        for (int type : new int[]{DnsMessage.A, DnsMessage.AAAA}) {
            DnsMessage.Response addresses = resolver.query(host, type, by);
            if (!answered(addresses)) {
                throw new IOException((type == DnsMessage.A ? "A" : "AAAA") + " lookup answered rcode=" + addresses.rcode());
            }
            if (!addresses.authenticated()) {
                return route; // RFC 7672 §2.2.2: insecure addresses, no TLSA lookup
            }
            if (type == DnsMessage.A) {
                expanded = hostName(addresses.expanded(host));
            }
        }
        // RFC 7672 §2.2.2: an MX host that is a (secure) alias has its TLSA records looked for at
        // the fully expanded name first, then at its own; either name may be the certificate's
        List<String> bases = expanded.equals(host) ? List.of(host) : List.of(expanded, host);
        List<DnsMessage.Answer> answers = List.of();
        String base = host;
        for (String candidate : bases) {
            // RFC 6698 §3: _port._tcp.host; for MX hosts the port is 25 (RFC 7672 §2.2.3), tests use another
            String name = "_" + route.port() + "._tcp." + candidate;
            DnsMessage.Response tlsa = resolver.query(name, DnsMessage.TLSA, by);
            if (!answered(tlsa)) {
                throw new IOException("TLSA lookup of " + name + " answered rcode=" + tlsa.rcode());
            }
            if (tlsa.authenticated()) { // insecure TLSA records are ignored (RFC 7672 §2.2.3)
                answers = tlsa.records(name, DnsMessage.TLSA);
                if (!answers.isEmpty()) {
                    base = candidate;
                    break;
                }
            }
        }
        if (answers.isEmpty()) {
            return route; // a validated denial: no DANE for this host, opportunistic TLS as before
        }
        List<TlsaRecord> rrset = new ArrayList<>();
        for (DnsMessage.Answer a : answers) {
            try {
                rrset.add(TlsaRecord.parse(a.data()));
            } catch (DnsMessage.MalformedDnsException e) {
                // RFC 7672 §2.2: a malformed record is unusable, not a failed lookup; it counts
                // among the records present, so the host is still reached with TLS
                LOG.log(Level.INFO, "DANE: malformed TLSA record ignored domain={0} host={1}: {2}", domain, base,
                        e.getMessage());
            }
        }
        List<TlsaRecord> usable = TlsaRecords.usable(rrset);
        if (usable.isEmpty()) {
            // RFC 7672 §3.1.3 (and §2.2: "unusable" TLSA records): encrypt, without authentication
            LOG.log(Level.INFO, "DANE: TLSA records present but none usable, TLS required unauthenticated domain={0} host={1}",
                    domain, host);
            return route.with(TlsPolicy.ENCRYPT);
        }
        // RFC 7672 §3.2.2: the TLSA base domain, and the MX host's own name when that was expanded
        return route.with(new TlsaRecords(usable, java.util.stream.Stream.of(base, host, domain).distinct().toList()));
    }

    /** Whether the resolver answered at all (a name that does not exist is an answer). */
    private static boolean answered(DnsMessage.Response r) {
        return r.rcode() == DnsMessage.NOERROR || r.rcode() == DnsMessage.NXDOMAIN;
    }

    private static String hostName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n.substring(0, n.length() - 1) : n;
    }
}

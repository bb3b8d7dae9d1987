package dev.mailstack.mta.delivery;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;

/**
 * DANE for SMTP (RFC 7672 §2.2) applied to a domain's MX routes: when DNSSEC vouches for the MX
 * RRset, each MX host whose address records are signed too has its TLSA records looked up, and
 * they decide how it is reached. Asks a {@link DnssecResolver} the Router trusts (on loopback).
 */
final class DaneLookup {
    private static final Logger LOG = System.getLogger(DaneLookup.class.getName());

    /** What DANE made of the routes. */
    sealed interface Result permits Insecure, Secure {
    }

    /** DNSSEC does not vouch for the MX RRset (or it could not be asked): the routes go as they were. */
    record Insecure(String why) implements Result {
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

        /** Whether some host has usable TLSA records: DANE, not MTA-STS, then decides (RFC 8461 §2). */
        boolean authenticates() {
            return routes.stream().anyMatch(r -> r.tls() == TlsPolicy.DANE);
        }
    }

    private final DnssecResolver resolver;

    DaneLookup(DnssecResolver resolver) {
        this.resolver = resolver;
    }

    DnssecResolver resolver() {
        return resolver;
    }

    /** {@code domain} in A-labels; {@code routes} its MX hosts as the Router found them. */
    Result apply(String domain, List<Route> routes) {
        DnsMessage.Response mx;
        try {
            mx = resolver.query(domain, DnsMessage.MX);
        } catch (IOException e) {
            return new Insecure("MX lookup failed: " + e.getMessage());
        }
        // RFC 7672 §2.2.1: a validated MX RRset, or a validated denial of one (the domain is its
        // own host then, RFC 5321 §5.1)
        if (!validated(mx)) {
            return new Insecure("MX RRset not validated (rcode=" + mx.rcode() + " ad=" + mx.authenticated() + ")");
        }
        List<Route> out = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (Route route : routes) {
            try {
                out.add(apply(domain, route));
            } catch (IOException e) {
                LOG.log(Level.WARNING, "DANE lookup failed, MX host not used domain={0} host={1}: {2}", domain,
                        route.host(), e.getMessage());
                failed.add(route.host());
            }
        }
        return new Secure(out, failed);
    }

    /**
     * One MX host: as it was when its addresses are not signed (§2.2.2) or it has no signed TLSA
     * records (§2.2.3); STARTTLS required when every TLSA record is unusable; DANE with the usable
     * ones. An exception when a lookup failed: the host is not to be used.
     */
    private Route apply(String domain, Route route) throws IOException {
        String host = route.host().toLowerCase(java.util.Locale.ROOT);
        for (int type : new int[]{DnsMessage.A, DnsMessage.AAAA}) {
            DnsMessage.Response addresses = resolver.query(host, type);
            if (!answered(addresses)) {
                throw new IOException((type == DnsMessage.A ? "A" : "AAAA") + " lookup answered rcode=" + addresses.rcode());
            }
            if (!addresses.authenticated()) {
                return route; // RFC 7672 §2.2.2: insecure addresses, no TLSA lookup
            }
        }
        // RFC 6698 §3: _port._tcp.host; for MX hosts the port is 25 (RFC 7672 §2.2.3), tests use another
        String name = "_" + route.port() + "._tcp." + host;
        DnsMessage.Response tlsa = resolver.query(name, DnsMessage.TLSA);
        if (!answered(tlsa)) {
            throw new IOException("TLSA lookup of " + name + " answered rcode=" + tlsa.rcode());
        }
        if (!tlsa.authenticated()) {
            return route; // insecure TLSA records are ignored (RFC 7672 §2.2.3)
        }
        List<TlsaRecord> usable = new ArrayList<>();
        int all = 0;
        for (DnsMessage.Answer a : tlsa.of(DnsMessage.TLSA)) {
            all++;
            TlsaRecord r = TlsaRecord.parse(a.data());
            if (r.usable()) {
                usable.add(r);
            }
        }
        if (all == 0) {
            return route; // a validated denial: no DANE for this host, opportunistic TLS as before
        }
        if (usable.isEmpty()) {
            // RFC 7672 §3.1.3 (and §2.2: "unusable" TLSA records): encrypt, without authentication
            LOG.log(Level.INFO, "DANE: TLSA records present but none usable, TLS required unauthenticated domain={0} host={1}",
                    domain, host);
            return route.with(TlsPolicy.ENCRYPT);
        }
        return route.with(new TlsaRecords(usable, List.of(host, domain)));
    }

    /** Whether the resolver answered at all (a name that does not exist is an answer). */
    private static boolean answered(DnsMessage.Response r) {
        return r.rcode() == DnsMessage.NOERROR || r.rcode() == DnsMessage.NXDOMAIN;
    }

    private static boolean validated(DnsMessage.Response r) {
        return answered(r) && r.authenticated();
    }
}

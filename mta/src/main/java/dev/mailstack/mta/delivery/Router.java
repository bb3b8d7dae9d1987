package dev.mailstack.mta.delivery;

import dev.mailstack.mta.dns.DnsLookup;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.InitialDirContext;

/**
 * Where mail for a domain goes: a static route (queue.static_routes, like Postfix's transport
 * map), else the relay host, else the domain's MX records (RFC 5321 §5.1), via the JDK's DNS
 * provider, or the domain itself when it has no MX (implicit MX). For MX delivery it also says
 * whether MTA-STS and DANE apply, and looks up the records and addresses MTA-STS needs (DANE asks
 * through its own {@link DnssecResolver}, which sees the AD bit).
 */
public final class Router {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());
    /** RFC 5321 §4.5.4 (and §5): mail exchangers listen on port 25. */
    static final int SMTP_PORT = 25;
    /** RFC 8461 §3.3: the policy is fetched with HTTPS, port 443. */
    public static final int HTTPS_PORT = 443;

    private final Map<String, Route> staticRoutes;
    private final Optional<Route> relayHost;
    private final String dnsServer;
    private final int mxPort;
    private final Map<String, TlsPolicy> tlsPolicies;
    private final NextHopTrust trust;
    private final boolean mtaSts;
    private final int stsPort;
    /** Present when DANE is on and its resolver's AD bit can be believed. */
    private final boolean daneWanted;
    /** Decided at the first MX delivery, not here: {@code mailstack config check} builds a Router too. */
    private volatile Optional<DaneLookup> dane;

    /** {@code dnsServer}: e.g. "dns://127.0.0.1:5353" for a local resolver in tests; null for the system's. */
    public Router(Map<String, Route> staticRoutes, Optional<Route> relayHost, String dnsServer) {
        this(staticRoutes, relayHost, dnsServer, SMTP_PORT);
    }

    /** With the port MX hosts are reached on: 25, except in tests where servers listen on ephemeral ports. */
    public Router(Map<String, Route> staticRoutes, Optional<Route> relayHost, String dnsServer, int mxPort) {
        this(staticRoutes, relayHost, dnsServer, mxPort, Map.of());
    }

    /**
     * With a TLS policy per destination domain (queue.tls_policy, like Postfix's
     * smtp_tls_policy_maps) for static routes and MX hosts; the relay host's route carries its own.
     */
    public Router(Map<String, Route> staticRoutes, Optional<Route> relayHost, String dnsServer, int mxPort,
                  Map<String, TlsPolicy> tlsPolicies) {
        this(staticRoutes, relayHost, dnsServer, mxPort, tlsPolicies, NextHopTrust.system());
    }

    /** With the authorities a certificate must chain to where it is verified (queue.tls_trust_file). */
    public Router(Map<String, Route> staticRoutes, Optional<Route> relayHost, String dnsServer, int mxPort,
                  Map<String, TlsPolicy> tlsPolicies, NextHopTrust trust) {
        this(staticRoutes, relayHost, dnsServer, mxPort, tlsPolicies, trust, false, HTTPS_PORT);
    }

    /**
     * With MTA-STS (RFC 8461, queue.mta_sts) for domains routed by MX without a queue.tls_policy
     * entry, the policy fetched from port {@code stsPort}: 443, except in tests.
     */
    public Router(Map<String, Route> staticRoutes, Optional<Route> relayHost, String dnsServer, int mxPort,
                  Map<String, TlsPolicy> tlsPolicies, NextHopTrust trust, boolean mtaSts, int stsPort) {
        this(staticRoutes, relayHost, dnsServer, mxPort, tlsPolicies, trust, mtaSts, stsPort, false);
    }

    /**
     * With DANE (RFC 7672, queue.dane) for the same domains as MTA-STS, when the resolver, {@code
     * dnsServer} or else the first nameserver of /etc/resolv.conf, is on loopback; otherwise DANE
     * stays off and the log says why, once for this configuration.
     */
    public Router(Map<String, Route> staticRoutes, Optional<Route> relayHost, String dnsServer, int mxPort,
                  Map<String, TlsPolicy> tlsPolicies, NextHopTrust trust, boolean mtaSts, int stsPort, boolean dane) {
        this.daneWanted = dane;
        this.mtaSts = mtaSts;
        this.stsPort = stsPort;
        this.staticRoutes = Map.copyOf(staticRoutes);
        this.relayHost = relayHost;
        this.dnsServer = dnsServer;
        this.mxPort = mxPort;
        this.tlsPolicies = Map.copyOf(tlsPolicies);
        this.trust = trust;
    }

    NextHopTrust trust() {
        return trust;
    }

    int stsPort() {
        return stsPort;
    }

    /**
     * Whether MTA-STS decides how mail for {@code domain} goes: only when it is on, and only for
     * delivery by MX. A static route, the relay host or an address literal names its host
     * itself, and an explicit queue.tls_policy entry wins (as Postfix's policy maps do).
     */
    boolean mtaStsApplies(String domain) {
        return mtaSts && routedByMxAlone(domain);
    }

    /** The DANE lookup for {@code domain}'s MX hosts, under the same conditions as MTA-STS (RFC 7672 §2.2 is about MX routing). */
    Optional<DaneLookup> dane(String domain) {
        return routedByMxAlone(domain) ? daneLookup() : Optional.empty();
    }

    /** The resolver DANE asks, looked for (and the reason for none logged) once per Router. */
    private Optional<DaneLookup> daneLookup() {
        Optional<DaneLookup> d = dane;
        if (d == null) {
            synchronized (this) {
                d = dane;
                if (d == null) {
                    d = daneWanted ? daneLookup(dnsServer) : Optional.empty();
                    dane = d;
                }
            }
        }
        return d;
    }

    /**
     * Whether mail for {@code domain} goes to a next hop the configuration names (queue.relay_host or
     * a static route) rather than one DNS gave: a problem with it is the administrator's to fix, and
     * mail waits for that instead of bouncing (as Postfix defers with 4.3.5).
     */
    boolean configured(String domain) {
        return relayHost.isPresent() || staticRoutes.containsKey(domain.toLowerCase(Locale.ROOT));
    }

    private boolean routedByMxAlone(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        return relayHost.isEmpty() && !staticRoutes.containsKey(d) && !tlsPolicies.containsKey(d)
                && !(d.startsWith("[") && d.endsWith("]"));
    }

    private static Optional<DaneLookup> daneLookup(String dnsServer) {
        Optional<DnssecResolver> resolver;
        try {
            resolver = DnssecResolver.of(dnsServer);
        } catch (IOException | IllegalArgumentException e) {
            LOG.log(Level.WARNING, "DANE off: cannot tell which resolver to ask: {0}", e.getMessage());
            return Optional.empty();
        }
        if (resolver.isEmpty()) {
            LOG.log(Level.WARNING, "DANE off: no nameserver in /etc/resolv.conf to ask");
            return Optional.empty();
        }
        if (resolver.get().forwardingStub()) {
            // systemd-resolved's 127.0.0.53 has passed on its upstream's AD bit unvalidated
            // (systemd issue 34121), and Docker's 127.0.0.11 forwards: neither proves a signature
            LOG.log(Level.WARNING, "DANE off: the resolver {0} is a forwarding stub whose AD bit proves nothing; run a"
                    + " validating resolver (unbound) on 127.0.0.1 and name it first in /etc/resolv.conf", resolver.get());
            return Optional.empty();
        }
        if (!resolver.get().onLoopback()) {
            // RFC 7672 §2.1 and RFC 4035 §4.9.3: the AD bit is worth only the path it came over
            LOG.log(Level.WARNING, "DANE off: the resolver {0} is not on this machine, so its AD bit could be forged on"
                    + " the way; run a validating resolver (unbound) on 127.0.0.1 and name it in /etc/resolv.conf",
                    resolver.get());
            return Optional.empty();
        }
        LOG.log(Level.INFO, "DANE on resolver={0}", resolver.get());
        return Optional.of(new DaneLookup(resolver.get()));
    }

    /** Parses "example.net=encrypt, broken.test=none". */
    public static Map<String, TlsPolicy> parseTlsPolicies(String text) {
        return perDomain(text, "none|may|encrypt|verify|implicit", TlsPolicy::parse);
    }

    /** Parses "example.net=127.0.0.1:2526, other.test=host:25". */
    public static Map<String, Route> parseStaticRoutes(String text) {
        return perDomain(text, "host:port", value -> Route.parse(value.strip()));
    }

    /** Comma-separated domain=value pairs, domains in lower case, in the order given. */
    private static <V> Map<String, V> perDomain(String text, String valueForm, java.util.function.Function<String, V> value) {
        Map<String, V> out = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected domain=" + valueForm + ", got " + p);
            }
            out.put(p.substring(0, eq).strip().toLowerCase(Locale.ROOT), value.apply(p.substring(eq + 1)));
        }
        return out;
    }

    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final java.util.regex.Pattern IPV6 = java.util.regex.Pattern.compile("(?i)IPv6:([0-9a-f:.]+)");

    /** RFC 5321 §4.1.3: [192.0.2.1] or [IPv6:2001:db8::1] names the host itself; no DNS is asked. */
    private Route addressLiteral(String literal) throws javax.naming.NameNotFoundException {
        String inside = literal.substring(1, literal.length() - 1);
        if (IPV4.matcher(inside).matches()) {
            return new Route(inside, mxPort);
        }
        java.util.regex.Matcher v6 = IPV6.matcher(inside);
        if (v6.matches()) {
            return new Route(v6.group(1), mxPort);
        }
        throw new javax.naming.NameNotFoundException(literal + " is not an address literal");
    }

    /**
     * What the per-destination concurrency limit counts: the relay host when everything goes
     * through it, else the domain.
     */
    public String destination(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        return relayHost.isPresent() && !staticRoutes.containsKey(d) ? "relay " + relayHost.get() : d;
    }

    public List<Route> routes(String domain) throws NamingException {
        String d = domain.toLowerCase(Locale.ROOT);
        TlsPolicy tls = tlsPolicies.getOrDefault(d, TlsPolicy.MAY);
        Route fixed = staticRoutes.get(d);
        if (fixed != null) {
            return List.of(fixed.with(tls));
        }
        if (relayHost.isPresent()) {
            return List.of(relayHost.get());
        }
        if (d.startsWith("[") && d.endsWith("]")) {
            return List.of(addressLiteral(d).with(tls));
        }
        d = ascii(domain);
        InitialDirContext ctx = dns();
        try {
            Attributes attrs = ctx.getAttributes(d, new String[]{"MX"});
            Attribute mx = attrs.get("MX");
            if (mx == null || mx.size() == 0) {
                return List.of(new Route(d, mxPort).with(tls)); // RFC 5321 §5.1: no MX, the domain itself
            }
            List<String[]> records = new ArrayList<>();
            for (int i = 0; i < mx.size(); i++) {
                records.add(mx.get(i).toString().split(" +"));
            }
            // RFC 5321 §5.1: lowest preference first, hosts of equal preference in random order
            java.util.Collections.shuffle(records);
            records.sort(Comparator.comparingInt(r -> Integer.parseInt(r[0])));
            List<Route> out = new ArrayList<>();
            for (String[] r : records) {
                String host = r[1].endsWith(".") ? r[1].substring(0, r[1].length() - 1) : r[1];
                if (host.isEmpty()) {
                    return List.of(); // RFC 7505 null MX: the domain takes no mail
                }
                out.add(new Route(host, mxPort).with(tls));
            }
            return out;
        } finally {
            ctx.close();
        }
    }

    /** RFC 6531 §3.2: DNS knows only A-labels. */
    static String ascii(String domain) throws javax.naming.NameNotFoundException {
        try {
            return java.net.IDN.toASCII(domain.toLowerCase(Locale.ROOT), java.net.IDN.ALLOW_UNASSIGNED);
        } catch (IllegalArgumentException e) {
            throw new javax.naming.NameNotFoundException(domain + " is not a valid domain name: " + e.getMessage());
        }
    }

    private InitialDirContext dns() throws NamingException {
        Hashtable<String, String> env = new Hashtable<>();
        env.put("java.naming.factory.initial", "com.sun.jndi.dns.DnsContextFactory");
        if (dnsServer != null) {
            env.put("java.naming.provider.url", dnsServer);
        }
        return new InitialDirContext(env);
    }

    /** The TXT records at {@code name}, each as one string; none when the name does not exist. */
    List<String> txt(String name) throws NamingException {
        try {
            return new DnsLookup(dnsServer).txt(name);
        } catch (DnsLookup.DnsFailure e) {
            throw new javax.naming.ServiceUnavailableException(e.getMessage());
        }
    }

    /**
     * The addresses of {@code host}; none when DNS says it has none (no such name, or neither A nor
     * AAAA records), which RFC 5321 §5.1 has reported as an error, not retried. The system's
     * resolver is asked first (it knows /etc/hosts); it cannot tell a missing name from a failed
     * lookup, so when it finds nothing DNS is asked itself. A {@code dnsServer} (tests) is the only
     * source, but for localhost: no test asks a resolver beyond this machine.
     *
     * @throws UnknownHostException when the lookup failed (no answer, SERVFAIL): worth a retry
     */
    List<InetAddress> addresses(String host) throws UnknownHostException {
        return addresses(host, false);
    }

    /**
     * As {@link #addresses(String)}; {@code typed}: the name is one an administrator wrote (relay
     * host, static route), which the system's resolver may find by means DNS does not have.
     */
    List<InetAddress> addresses(String host, boolean typed) throws UnknownHostException {
        if (IPV4.matcher(host).matches() || host.contains(":") || isLocalhost(host)) {
            return List.of(InetAddress.getAllByName(host)); // no DNS asked (RFC 6761 §6.3 for localhost)
        }
        if (dnsServer == null) {
            try {
                return List.of(InetAddress.getAllByName(host));
            } catch (UnknownHostException e) {
                if (typed && (!host.contains(".") || host.toLowerCase(Locale.ROOT).endsWith(".local"))) {
                    // a name the system's resolver may find otherwise (resolv.conf's search list,
                    // mDNS): DNS saying it has no such name proves nothing, so this stays a failure
                    throw e;
                }
                // not found or not answered: DNS tells which below
            }
        }
        List<InetAddress> found = new ArrayList<>();
        String failed = null;
        DnsLookup dns = new DnsLookup(dnsServer);
        for (boolean ipv6 : new boolean[]{false, true}) {
            try {
                for (InetAddress a : dns.addresses(host, ipv6)) {
                    found.add(InetAddress.getByAddress(host, a.getAddress()));
                }
            } catch (DnsLookup.DnsFailure e) {
                failed = e.getMessage();
            }
        }
        if (!found.isEmpty()) {
            return found;
        }
        if (failed != null) {
            throw new UnknownHostException(failed);
        }
        return List.of();
    }

    private static boolean isLocalhost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.endsWith(".localhost");
    }
}

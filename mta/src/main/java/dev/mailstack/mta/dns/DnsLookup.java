package dev.mailstack.mta.dns;

import java.io.IOException;
import java.net.IDN;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import javax.naming.CompositeName;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.InitialDirContext;

/**
 * The DNS questions of the inbound checks (SPF, DKIM, DMARC), through the system's resolver or, in
 * tests, a given server. Each answer tells a name that does not exist or has no records of the
 * type (an empty list) apart from a lookup that failed ({@link DnsFailure}): RFC 7208 §2.6 and
 * RFC 7489 §6.6.3 treat the first as "none" and the second as a temporary error.
 */
public final class DnsLookup {
    /** One query's first wait, then one retry with twice as long (JNDI's DNS provider doubles it). */
    private static final String TIMEOUT_MILLIS = "1000";

    private final String server;

    /** {@code server}: e.g. "dns://127.0.0.1:5353" (tests); null for the system's resolver. */
    public DnsLookup(String server) {
        this.server = server;
    }

    /** A lookup that got no usable answer: a timeout, SERVFAIL, a name DNS cannot carry. */
    public static final class DnsFailure extends IOException {
        public DnsFailure(String message) {
            super(message);
        }
    }

    /** An MX record: preference and exchange host (empty for RFC 7505's null MX). */
    public record Mx(int preference, String host) {
    }

    /**
     * The TXT records at {@code name}, each as one string: RFC 7208 §3.3 and RFC 6376 §3.6.2.2 join
     * the character-strings of one record with nothing between.
     */
    public List<String> txt(String name) throws DnsFailure {
        List<String> out = new ArrayList<>();
        for (String record : records(name, "TXT")) {
            out.add(joined(record));
        }
        return out;
    }

    /** The IPv4 (A) or IPv6 (AAAA) addresses of {@code name}. */
    public List<InetAddress> addresses(String name, boolean ipv6) throws DnsFailure {
        List<InetAddress> out = new ArrayList<>();
        for (String record : records(name, ipv6 ? "AAAA" : "A")) {
            try {
                out.add(InetAddress.getByName(record)); // a literal: no lookup
            } catch (IOException e) {
                throw new DnsFailure("unreadable " + (ipv6 ? "AAAA" : "A") + " record at " + name + ": " + record);
            }
        }
        return out;
    }

    /** The MX records of {@code name}, in the order DNS gave them. */
    public List<Mx> mx(String name) throws DnsFailure {
        List<Mx> out = new ArrayList<>();
        for (String record : records(name, "MX")) {
            String[] parts = record.strip().split(" +");
            try {
                out.add(new Mx(Integer.parseInt(parts[0]), parts.length > 1 ? withoutDot(parts[1]) : ""));
            } catch (NumberFormatException e) {
                throw new DnsFailure("unreadable MX record at " + name + ": " + record);
            }
        }
        return out;
    }

    /** The names of the PTR records at {@code name} (e.g. "4.3.2.1.in-addr.arpa"). */
    public List<String> ptr(String name) throws DnsFailure {
        List<String> out = new ArrayList<>();
        for (String record : records(name, "PTR")) {
            out.add(withoutDot(record.strip()));
        }
        return out;
    }

    private List<String> records(String name, String type) throws DnsFailure {
        String ascii = ascii(name);
        try {
            InitialDirContext dns = dns();
            try {
                // one component: as a String, JNDI would read a '/' in the name as a composite-name separator
                Attribute found = dns.getAttributes(new CompositeName().add(ascii), new String[]{type}).get(type);
                List<String> out = new ArrayList<>();
                for (int i = 0; found != null && i < found.size(); i++) {
                    out.add(found.get(i).toString());
                }
                return out;
            } finally {
                dns.close();
            }
        } catch (NameNotFoundException e) {
            return List.of(); // NXDOMAIN
        } catch (NamingException e) {
            throw new DnsFailure(type + " lookup of " + name + " failed: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()));
        }
    }

    /**
     * Whether {@code name} can be asked at all: it has an A-label form of at most 253 octets with no
     * label past 63 (RFC 1035 §2.3.4). One that cannot has no records, which callers walking a
     * tree of names need to tell from a lookup that failed.
     */
    public static boolean queryable(String name) {
        try {
            ascii(name);
            return true;
        } catch (DnsFailure e) {
            return false;
        }
    }

    /** RFC 6531 §3.2: DNS knows only A-labels; a name that has none is a failure, not an empty answer. */
    private static String ascii(String name) throws DnsFailure {
        try {
            String ascii = IDN.toASCII(name.toLowerCase(Locale.ROOT), IDN.ALLOW_UNASSIGNED);
            if (ascii.isEmpty() || ascii.length() > 253) {
                throw new DnsFailure("not a DNS name: " + name);
            }
            return ascii;
        } catch (IllegalArgumentException e) {
            throw new DnsFailure("not a DNS name: " + name + " (" + e.getMessage() + ")");
        }
    }

    private static String withoutDot(String host) {
        return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    }

    /** JNDI gives a record's strings separated by spaces, each in quotes when it holds a space itself. */
    static String joined(String jndi) {
        StringBuilder out = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < jndi.length(); i++) {
            char c = jndi.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '\\' && quoted && i + 1 < jndi.length()) {
                out.append(jndi.charAt(++i));
            } else if (c != ' ' || quoted) {
                out.append(c);
            }
        }
        return out.toString();
    }

    private InitialDirContext dns() throws NamingException {
        Hashtable<String, String> env = new Hashtable<>();
        env.put("java.naming.factory.initial", "com.sun.jndi.dns.DnsContextFactory");
        env.put("com.sun.jndi.dns.timeout.initial", TIMEOUT_MILLIS);
        env.put("com.sun.jndi.dns.timeout.retries", "2");
        if (server != null) {
            env.put("java.naming.provider.url", server);
        }
        return new InitialDirContext(env);
    }
}

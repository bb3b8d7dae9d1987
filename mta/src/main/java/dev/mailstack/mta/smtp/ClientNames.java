package dev.mailstack.mta.smtp;

import dev.mailstack.mta.dns.DnsLookup;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A client's verified name: a name of its reverse DNS (PTR) records whose own addresses include
 * the client's, Postfix's {@code client_name} (forward-confirmed reverse DNS). Whoever holds an
 * address range writes its PTR records, so an unconfirmed PTR name proves nothing, and a client
 * whose names do not confirm, or whose lookups fail, has none (Postfix's "unknown").
 */
@FunctionalInterface
public interface ClientNames {
    /** No names: only address entries of a whitelist can match. */
    ClientNames NONE = client -> Optional.empty();

    /** PTR names tried at most, as RFC 7208 §5.5 caps its validation (a client may publish hundreds). */
    int MAX_NAMES = 10;
    /**
     * The most the lookups for one client take, whatever its zones' servers do (the client writes
     * its PTR zone, and may make every answer slow): past it the client has no name, as one whose
     * lookups failed. A RCPT waits about this long at most (the lookup under way ends by its own
     * timeout), once per session.
     */
    java.time.Duration BUDGET = java.time.Duration.ofSeconds(5);

    Optional<String> verified(InetAddress client);

    /** Through {@code dns}: the first PTR name (of {@link #MAX_NAMES}) whose A or AAAA records hold the client. */
    static ClientNames dns(DnsLookup dns) {
        return client -> {
            long deadline = System.nanoTime() + BUDGET.toNanos();
            try {
                List<String> names = dns.ptr(DnsBlocklists.reversed(client)
                        + (client instanceof Inet4Address ? "in-addr.arpa" : "ip6.arpa"));
                for (String name : names.subList(0, Math.min(names.size(), MAX_NAMES))) {
                    if (System.nanoTime() - deadline > 0) {
                        break; // out of time: unconfirmed, so no name
                    }
                    try {
                        if (dns.addresses(name, client instanceof Inet6Address).contains(client)) {
                            return Optional.of(name.toLowerCase(Locale.ROOT));
                        }
                    } catch (DnsLookup.DnsFailure e) {
                        // this name cannot be confirmed; another may be
                    }
                }
            } catch (DnsLookup.DnsFailure e) {
                // no name: greylisted as any client without one
            }
            return Optional.empty();
        };
    }
}

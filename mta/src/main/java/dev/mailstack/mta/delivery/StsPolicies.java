package dev.mailstack.mta.delivery;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.naming.NamingException;

/**
 * The MTA-STS policies of destination domains (RFC 8461 §3, §5.1): discovered by their TXT
 * record, fetched over HTTPS, kept in memory until they expire or the record's id changes. Kept
 * across configuration reloads (they belong to the domains, not to our routes), but not across
 * restarts: after one, the first delivery to a domain fetches its policy again.
 */
public final class StsPolicies {
    private static final Logger LOG = System.getLogger(StsPolicies.class.getName());

    /** A fetched policy, the TXT id it was fetched for, and when it stops counting (its max_age). */
    private record Cached(String id, StsPolicy policy, Instant expires) {
    }

    private final Map<String, Cached> byDomain = new ConcurrentHashMap<>();
    private final Clock clock;

    public StsPolicies(Clock clock) {
        this.clock = clock;
    }

    /**
     * The policy {@code domain}'s mail goes by now, if it has one. Discovery fails soft (RFC 8461
     * §5.1): when DNS or HTTPS gives no policy, an unexpired cached one still counts; without
     * one, mail goes as if the domain had no policy. Two deliveries to a domain at once may both
     * fetch; the later answer is kept, which is as good as the earlier.
     */
    Optional<StsPolicy> policy(String domain, Router router) {
        String d;
        try {
            d = Router.ascii(domain);
        } catch (NamingException e) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Optional<Cached> cached = Optional.ofNullable(byDomain.get(d)).filter(c -> c.expires().isAfter(now));
        Optional<String> id;
        try {
            id = StsPolicy.recordId(router.txt("_mta-sts." + d));
        } catch (NamingException e) {
            LOG.log(Level.INFO, "MTA-STS record lookup failed domain={0} cached={1}: {2}", d, cached.isPresent(), e.getMessage());
            return cached.map(Cached::policy);
        }
        if (id.isEmpty()) {
            // RFC 8461 §5.1: no live record, but an unexpired cached policy still applies
            return cached.map(Cached::policy);
        }
        if (cached.isPresent() && cached.get().id().equals(id.get())) {
            return cached.map(Cached::policy);
        }
        try {
            List<java.net.InetAddress> addresses = router.addresses("mta-sts." + d);
            StsPolicy policy = StsPolicy.parse(StsPolicyClient.fetch(d, addresses, router.stsPort(), router.trust()));
            byDomain.put(d, new Cached(id.get(), policy, now.plus(policy.maxAge())));
            LOG.log(Level.INFO, "MTA-STS policy fetched domain={0} id={1} policy={2}", d, id.get(), policy);
            return Optional.of(policy);
        } catch (IOException | IllegalArgumentException e) {
            // IllegalArgumentException: the body is no valid policy, which counts as none (RFC 8461 §3.3)
            LOG.log(Level.WARNING, "MTA-STS policy unavailable domain={0} id={1} cached={2}: {3}", d, id.get(),
                    cached.isPresent(), e.getMessage());
            return cached.map(Cached::policy);
        }
    }
}

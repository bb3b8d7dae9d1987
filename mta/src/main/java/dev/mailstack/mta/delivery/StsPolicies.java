package dev.mailstack.mta.delivery;

import dev.mailstack.store.DomainPolicies;
import dev.mailstack.store.DomainPolicy;
import dev.mailstack.store.StoreException;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.naming.NamingException;

/**
 * The MTA-STS policies of destination domains (RFC 8461 §3, §5.1): discovered by their TXT
 * record, fetched over HTTPS, kept until they expire or the record's id changes, and fetched
 * again from half their max_age on. Kept across configuration reloads (they belong to the
 * domains, not to our routes), and, with the store's {@link DomainPolicies}, across restarts.
 */
public final class StsPolicies {
    private static final Logger LOG = System.getLogger(StsPolicies.class.getName());

    /**
     * How long a failed fetch is remembered for the record id it was made for. Meanwhile the
     * domain's mail goes by its cached policy, or none, without another fetch that could hold each
     * delivery for up to {@link StsPolicyClient#TIMEOUT}: RFC 8461 §3.3 suggests limiting attempts
     * after a failure "to a period of five minutes or longer per version ID".
     */
    static final Duration FAILURE_MEMORY = Duration.ofMinutes(5);
    /**
     * How long a delivery waits for another's fetch of the same policy: the fetch itself ends
     * within {@link StsPolicyClient#TIMEOUT}, but its host's address lookup comes first (the system
     * resolver, then DNS); RFC 8461 §3.3 suggests a minute for the whole.
     */
    static final Duration FETCH_WAIT = Duration.ofMinutes(1);
    /** A cached policy is fetched again after a day at the latest (RFC 8461 §5.1's example). */
    static final Duration REFRESH_AT_MOST = Duration.ofDays(1);

    /** A fetched policy, the TXT id it was fetched for, when, and when it stops counting (its max_age). */
    private record Cached(String id, StsPolicy policy, Instant fetched, Instant expires) {
        /**
         * RFC 8461 §10.2: a policy refreshed before it expires is one an attacker must keep from
         * us for its whole max_age, not only on the day it runs out; §5.1 suggests refreshing
         * daily. Half its max_age, at most a day, is our choice.
         */
        boolean refreshDue(Instant now) {
            Duration half = policy.maxAge().dividedBy(2);
            return !now.isBefore(fetched.plus(half.compareTo(REFRESH_AT_MOST) < 0 ? half : REFRESH_AT_MOST));
        }
    }

    /** The fetch for record id {@code id} failed; none other is made for it before {@code until}. */
    private record Failed(String id, Instant until) {
    }

    private final Map<String, Cached> byDomain = new ConcurrentHashMap<>();
    private final Map<String, Failed> failures = new ConcurrentHashMap<>();
    /** Fetches under way, one per domain: deliveries at once to a domain share it. */
    private final Map<String, CompletableFuture<Optional<StsPolicy>>> fetching = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Optional<DomainPolicies> durable;

    /** Policies in memory only (tests, and senders without a store). */
    public StsPolicies(Clock clock) {
        this.clock = clock;
        this.durable = Optional.empty();
    }

    /**
     * Policies kept in {@code durable} too, and those it holds taken up now: a restart does not
     * forget an enforce policy (RFC 8461 §10.2).
     */
    public StsPolicies(Clock clock, DomainPolicies durable) {
        this.clock = clock;
        this.durable = Optional.of(durable);
        for (DomainPolicy kept : durable.unexpired(clock.instant())) {
            try {
                byDomain.put(kept.domain(), new Cached(kept.policyId(), StsPolicy.parse(kept.text()), kept.fetchedAt(),
                        kept.expires()));
            } catch (IllegalArgumentException e) {
                // it parsed when it was fetched: a kept text that no longer does is a bug, not the domain's
                LOG.log(Level.WARNING, "MTA-STS policy kept for {0} no longer parses, left out: {1}", kept.domain(),
                        e.getMessage());
            }
        }
        LOG.log(Level.INFO, "MTA-STS policies kept from before count={0}", byDomain.size());
    }

    /**
     * The policy {@code domain}'s mail goes by now, if it has one. Discovery fails soft (RFC 8461
     * §5.1): when DNS or HTTPS gives no policy, an unexpired cached one still counts; without
     * one, mail goes as if the domain had no policy. A cached policy due for its refresh is
     * fetched again even when its record cannot be seen (under the id it was fetched for; the
     * fetch is over verified HTTPS), so blocking the TXT lookup does not run it out (RFC 8461
     * §10.2). One fetch per domain at a time: a delivery that finds one under way goes by the
     * cached policy, or, with none, waits for that fetch.
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
            id = Optional.empty();
        }
        if (id.isEmpty()) {
            // RFC 8461 §5.1: no live record, but an unexpired cached policy still applies, and is
            // refreshed when due under the id it has
            if (cached.isEmpty() || !cached.get().refreshDue(now)) {
                return cached.map(Cached::policy);
            }
            id = Optional.of(cached.get().id());
        }
        boolean refresh = cached.isPresent() && cached.get().id().equals(id.get());
        if (refresh && !cached.get().refreshDue(now)) {
            return cached.map(Cached::policy);
        }
        Failed failed = failures.get(d);
        if (failed != null && failed.id().equals(id.get()) && failed.until().isAfter(now)) {
            LOG.log(Level.DEBUG, "MTA-STS fetch failed recently, not tried again domain={0} id={1} until={2} cached={3}", d,
                    id.get(), failed.until(), cached.isPresent());
            return cached.map(Cached::policy);
        }
        CompletableFuture<Optional<StsPolicy>> mine = new CompletableFuture<>();
        CompletableFuture<Optional<StsPolicy>> underWay = fetching.putIfAbsent(d, mine);
        if (underWay != null) {
            return cached.isPresent() ? cached.map(Cached::policy) : awaitFetch(d, underWay);
        }
        try {
            Optional<StsPolicy> result = fetch(d, id.get(), cached, refresh, now, router);
            mine.complete(result);
            return result;
        } catch (RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            fetching.remove(d, mine);
        }
    }

    /**
     * Another delivery's fetch for the domain: its policy once it ends, or none after {@link
     * #FETCH_WAIT}: discovery fails soft (RFC 8461 §5.1), and no delivery waits without end.
     */
    private static Optional<StsPolicy> awaitFetch(String domain, CompletableFuture<Optional<StsPolicy>> underWay) {
        try {
            return underWay.get(FETCH_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.log(Level.WARNING, "MTA-STS fetch under way took too long, going without a policy domain={0}", domain);
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (ExecutionException e) {
            throw new java.util.concurrent.CompletionException(e.getCause());
        }
    }

    private Optional<StsPolicy> fetch(String d, String id, Optional<Cached> cached, boolean refresh, Instant now,
                                      Router router) {
        try {
            List<InetAddress> addresses = router.addresses("mta-sts." + d);
            String text = StsPolicyClient.fetch(d, addresses, router.stsPort(), router.trust());
            StsPolicy policy = StsPolicy.parse(text);
            Cached fresh = new Cached(id, policy, now, now.plus(policy.maxAge()));
            byDomain.put(d, fresh);
            failures.remove(d);
            forgetExpired(now);
            keep(d, fresh, text);
            LOG.log(Level.INFO, "MTA-STS policy {0} domain={1} id={2} policy={3}", refresh ? "refreshed" : "fetched", d,
                    id, policy);
            return Optional.of(policy);
        } catch (IOException | IllegalArgumentException e) {
            // IllegalArgumentException: the body is no valid policy, which counts as none (RFC 8461 §3.3)
            failures.put(d, new Failed(id, now.plus(FAILURE_MEMORY)));
            forgetExpired(now);
            LOG.log(Level.WARNING, "MTA-STS policy unavailable domain={0} id={1} cached={2} retry_after={3}: {4}", d, id,
                    cached.isPresent(), FAILURE_MEMORY.toSeconds() + "s", e.getMessage());
            return cached.map(Cached::policy);
        }
    }

    /**
     * Drops policies past their max_age and failures past their memory: mail to ever new domains
     * (wildcard records, bounces to made-up subdomains) must not grow these maps for good. A fetch
     * is a network round trip; a pass over the maps costs nothing beside it.
     */
    private void forgetExpired(Instant now) {
        byDomain.values().removeIf(c -> !c.expires().isAfter(now));
        failures.values().removeIf(f -> !f.until().isAfter(now));
    }

    /**
     * Written through to the store; when that fails the policy still counts, until a restart. A
     * policy with max_age 0 withdraws the one kept before (RFC 8461 §8.3): a restart must not bring
     * it back.
     */
    private void keep(String domain, Cached fresh, String text) {
        if (durable.isEmpty()) {
            return;
        }
        try {
            if (!fresh.expires().isAfter(fresh.fetched())) {
                durable.get().remove(domain);
                return;
            }
            durable.get().put(new DomainPolicy(domain, fresh.id(), text, fresh.fetched(), fresh.expires()));
        } catch (StoreException | IllegalArgumentException e) {
            LOG.log(Level.WARNING, "MTA-STS policy not kept on disk domain={0} id={1}: {2}", domain, fresh.id(), e.getMessage());
        }
    }
}

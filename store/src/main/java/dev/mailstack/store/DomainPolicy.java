package dev.mailstack.store;

import java.time.Instant;

/**
 * A policy a destination domain published, as fetched: the id it was published under, its text
 * (opaque here: the protocol that fetched it parses it), when it was fetched and when it stops
 * counting.
 */
public record DomainPolicy(String domain, String policyId, String text, Instant fetchedAt, Instant expires) {
    public DomainPolicy {
        if (domain.isEmpty() || policyId.isEmpty()) {
            throw new IllegalArgumentException("a domain policy needs a domain and a policy id");
        }
        if (!expires.isAfter(fetchedAt)) {
            throw new IllegalArgumentException("policy of " + domain + " expires " + expires + ", not after it was fetched");
        }
    }
}

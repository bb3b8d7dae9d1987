package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DomainPoliciesTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path dir;

    private static DomainPolicy policy(String domain, String id, Duration maxAge) {
        return new DomainPolicy(domain, id, "text of " + id + "\r\nkept as it came\r\n", T0, T0.plus(maxAge));
    }

    @Test
    void aPolicyOutlivesTheStoreAndTheLatestPerDomainCounts() {
        try (MailboxStore store = MailboxStore.open(dir, null)) {
            store.domainPolicies().put(policy("a.test", "1", Duration.ofDays(1)));
            store.domainPolicies().put(policy("a.test", "2", Duration.ofDays(2)));
            store.domainPolicies().put(policy("b.test", "9", Duration.ofDays(1)));
        }
        try (MailboxStore store = MailboxStore.open(dir, null)) {
            List<DomainPolicy> kept = store.domainPolicies().unexpired(T0.plusSeconds(1)).stream()
                    .sorted(java.util.Comparator.comparing(DomainPolicy::domain)).toList();
            assertEquals(List.of(policy("a.test", "2", Duration.ofDays(2)), policy("b.test", "9", Duration.ofDays(1))), kept,
                    "text, id and times as put; a.test's first policy replaced");
        }
    }

    @Test
    void anExpiredPolicyIsNotReturnedAndIsDeleted() throws Exception {
        try (MailboxStore store = MailboxStore.open(dir, null)) {
            store.domainPolicies().put(policy("short.test", "1", Duration.ofMinutes(1)));
            store.domainPolicies().put(policy("long.test", "1", Duration.ofDays(1)));
            assertEquals(2, store.domainPolicies().unexpired(T0.plusSeconds(59)).size());
            assertEquals(List.of("long.test"), store.domainPolicies().unexpired(T0.plusSeconds(60)).stream()
                    .map(DomainPolicy::domain).toList(), "expired at its last second");
            try (var c = store.db().connect(); var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM domain_policies")) {
                rs.next();
                assertEquals(1, rs.getInt(1), "the expired row is gone, not only hidden");
            }
        }
    }

    @Test
    void aPolicyMustExpireAfterItWasFetched() {
        assertThrows(IllegalArgumentException.class, () -> new DomainPolicy("a.test", "1", "x", T0, T0));
    }
}

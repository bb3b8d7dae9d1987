package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The policies of destination domains, kept on disk so that a restart does not forget them (V9).
 * One per domain, the latest fetched; an expired one is never returned, and goes at the next
 * {@link #put} or {@link #unexpired}.
 */
public final class DomainPolicies {
    private final Database db;

    DomainPolicies(Database db) {
        this.db = db;
    }

    /** Every policy still counting at {@code now}; the expired ones are deleted on the way. */
    public List<DomainPolicy> unexpired(Instant now) {
        try (Connection c = db.connect()) {
            prune(c, now);
            List<DomainPolicy> policies = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT domain, policy_id, policy, fetched_at, expires_at FROM domain_policies WHERE expires_at > ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        policies.add(new DomainPolicy(rs.getString(1), rs.getString(2), rs.getString(3),
                                rs.getTimestamp(4).toInstant(), rs.getTimestamp(5).toInstant()));
                    }
                }
            }
            return policies;
        } catch (SQLException e) {
            throw db.failure(e, "read domain policies");
        }
    }

    /** Keeps {@code policy} in place of the domain's previous one, committed on return. */
    public void put(DomainPolicy policy) {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement delete = c.prepareStatement("DELETE FROM domain_policies WHERE domain = ?");
                     PreparedStatement insert = c.prepareStatement("INSERT INTO domain_policies"
                             + " (domain, policy_id, policy, fetched_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
                    delete.setString(1, policy.domain());
                    delete.executeUpdate();
                    insert.setString(1, policy.domain());
                    insert.setString(2, policy.policyId());
                    insert.setString(3, policy.text());
                    insert.setTimestamp(4, Timestamp.from(policy.fetchedAt()));
                    insert.setTimestamp(5, Timestamp.from(policy.expires()));
                    insert.executeUpdate();
                }
                prune(c, policy.fetchedAt());
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                if (e instanceof SQLException sql && db.dialect().isUniqueViolation(sql)) {
                    // a concurrent put for the domain inserted first (read committed, as on
                    // PostgreSQL): its policy, as fresh as this one, is the one kept
                    return;
                }
                throw e;
            }
        } catch (SQLException e) {
            throw db.failure(e, "keep the policy of " + policy.domain());
        }
    }

    /** Forgets the domain's policy, committed on return: it withdrew it (RFC 8461 §8.3, max_age 0). */
    public void remove(String domain) {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("DELETE FROM domain_policies WHERE domain = ?")) {
            ps.setString(1, domain);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw db.failure(e, "forget the policy of " + domain);
        }
    }

    private static void prune(Connection c, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM domain_policies WHERE expires_at <= ?")) {
            ps.setTimestamp(1, Timestamp.from(now));
            ps.executeUpdate();
        }
    }
}

package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * SQL on the subscriptions table (V23): an account's subscribed names, which outlive their
 * mailboxes (RFC 3501 §6.3.6: the server must not remove a name on its own).
 */
final class Subscriptions {
    /**
     * For {@link Mailboxes#COLUMNS}: whether the mailbox row's own name is subscribed. It names the
     * table, so those columns are read {@code FROM mailboxes} without an alias.
     */
    static final String SUBSCRIBED = "EXISTS (SELECT 1 FROM subscriptions s"
            + " WHERE s.account_id = mailboxes.account_id AND s.name = mailboxes.name)";

    private Subscriptions() {
    }

    static boolean has(Connection c, AccountId account, MailboxName name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM subscriptions WHERE account_id = ? AND name = ?")) {
            ps.setLong(1, account.value());
            ps.setString(2, name.key());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static long count(Connection c, AccountId account) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM subscriptions WHERE account_id = ?")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Adds {@code name} unless it is there already. Callers hold the account's writer turn
     * ({@link AccountWriters}) or make the account, so nothing adds the name between look and insert.
     */
    static void add(Connection c, AccountId account, MailboxName name) throws SQLException {
        if (has(c, account, name)) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO subscriptions (account_id, name) VALUES (?, ?)")) {
            ps.setLong(1, account.value());
            ps.setString(2, name.key());
            ps.executeUpdate();
        }
    }

    /** Whether {@code name} was subscribed. */
    static boolean remove(Connection c, AccountId account, MailboxName name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM subscriptions WHERE account_id = ? AND name = ?")) {
            ps.setLong(1, account.value());
            ps.setString(2, name.key());
            return ps.executeUpdate() > 0;
        }
    }

    /** The account's subscribed names, sorted; those of mailboxes that are gone too. */
    static List<MailboxName> list(Connection c, AccountId account) throws SQLException {
        List<MailboxName> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new MailboxName(rs.getString(1)));
                }
            }
        }
        return out;
    }
}

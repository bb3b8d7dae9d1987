package dev.mailstack.store;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An account's Sieve scripts (RFC 5228): named texts, at most one of them active, the one local
 * delivery runs. The store keeps them as text and never parses them; ManageSieve and the CLI check
 * them with the sieve module before they get here. Writes are made as the account's one writer
 * ({@link AccountWriters}), so two uploads at once cannot both pass the script count.
 */
public final class SieveScripts {
    /** The name column's bound (V13); RFC 5804 §1.6 asks servers to take at least 128 characters. */
    public static final int MAX_NAME_CHARS = 512;

    private final Database db;
    private final AccountWriters writers;

    SieveScripts(Database db, AccountWriters writers) {
        this.db = db;
        this.writers = writers;
    }

    /**
     * A script name as stored, or INVALID_NAME. RFC 5804 §1.6: names are Net-Unicode (RFC 5198,
     * so NFC, which makes two spellings of "é" one name) without control characters (U+0000-001F,
     * U+007F-009F) or the line and paragraph separators; the empty name is SETACTIVE's "none".
     */
    public static String checkName(String name) {
        String n = Normalizer.normalize(name, Normalizer.Form.NFC);
        if (n.isEmpty()) {
            throw new StoreException(StoreFailure.INVALID_NAME, "a script name cannot be empty");
        }
        if (n.length() > MAX_NAME_CHARS) {
            throw new StoreException(StoreFailure.INVALID_NAME, "a script name is at most " + MAX_NAME_CHARS + " characters");
        }
        if (n.chars().anyMatch(c -> c < 0x20 || c >= 0x7f && c <= 0x9f || c == 0x2028 || c == 0x2029)) {
            throw new StoreException(StoreFailure.INVALID_NAME, "a script name cannot hold control characters");
        }
        return n;
    }

    /** The account's scripts by name, each marked active or not. */
    public List<SieveScriptEntry> list(AccountId account) {
        List<SieveScriptEntry> out = new ArrayList<>();
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT name, active_for IS NOT NULL FROM sieve_scripts WHERE account_id = ? ORDER BY name")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new SieveScriptEntry(rs.getString(1), rs.getBoolean(2)));
                }
            }
        } catch (SQLException e) {
            throw db.failure(e, "list sieve scripts");
        }
        return out;
    }

    /** The script's text; empty when the account has no script of that name. */
    public Optional<String> get(AccountId account, String name) {
        String n = checkName(name);
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT content FROM sieve_scripts WHERE account_id = ? AND name = ?")) {
            ps.setLong(1, account.value());
            ps.setString(2, n);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw db.failure(e, "read sieve script");
        }
    }

    /**
     * The text delivery runs for the account: its active script, or empty when none is active.
     * One probe of the unique index on active_for, for every message delivered.
     */
    public Optional<String> activeSieveScript(AccountId account) {
        return activeScript(account).map(ActiveScript::content);
    }

    /** The account's active script with its name (an include of that name is the script itself, RFC 6609 §3.2). */
    public record ActiveScript(String name, String content) {
    }

    /** The active script and its name, as delivery runs it; one lookup by the unique index. */
    public Optional<ActiveScript> activeScript(AccountId account) {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT name, content FROM sieve_scripts WHERE active_for = ?")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new ActiveScript(rs.getString(1), rs.getString(2))) : Optional.empty();
            }
        } catch (SQLException e) {
            throw db.failure(e, "read active sieve script");
        }
    }

    /**
     * Whether a script of {@code octets} octets named {@code name} could be stored now (ManageSieve
     * HAVESPACE, RFC 5804 §2.5): throws TOO_BIG or OVER_QUOTA as {@link #put} would. A script of
     * that name already there is replaced, so it does not count against the number of scripts.
     */
    public void checkSpace(AccountId account, String name, long octets, SieveLimits limits) {
        String n = checkName(name);
        checkSize(octets, limits);
        try (Connection c = db.connect()) {
            if (!exists(c, account, n)) {
                checkCount(c, account, limits);
            }
        } catch (SQLException e) {
            throw db.failure(e, "check sieve space");
        }
    }

    /**
     * Stores the script under {@code name}, replacing one of that name (which stays active if it
     * was: RFC 5804 §2.6, a PUTSCRIPT of the active script changes what runs). TOO_BIG past the
     * size limit, OVER_QUOTA when it would be one script too many, NOT_FOUND for no account.
     */
    public void put(AccountId account, String name, String content, SieveLimits limits) {
        String n = checkName(name);
        checkSize(content.getBytes(StandardCharsets.UTF_8).length, limits);
        inTransaction(account, "store sieve script", c -> store(c, account, n, content, limits));
    }

    /**
     * {@link #put} and {@link #activate} in one transaction: the new script runs from the moment it
     * is stored, and a refused one leaves the script that was active running.
     */
    public void putActive(AccountId account, String name, String content, SieveLimits limits) {
        String n = checkName(name);
        checkSize(content.getBytes(StandardCharsets.UTF_8).length, limits);
        inTransaction(account, "store and activate sieve script", c -> {
            store(c, account, n, content, limits);
            makeActive(c, account, n);
        });
    }

    private void store(Connection c, AccountId account, String n, String content, SieveLimits limits) throws SQLException {
        requireAccount(c, account);
        if (exists(c, account, n)) {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE sieve_scripts SET content = ? WHERE account_id = ? AND name = ?")) {
                ps.setString(1, content);
                ps.setLong(2, account.value());
                ps.setString(3, n);
                ps.executeUpdate();
            }
        } else {
            checkCount(c, account, limits);
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO sieve_scripts (account_id, name, content) VALUES (?, ?, ?)")) {
                ps.setLong(1, account.value());
                ps.setString(2, n);
                ps.setString(3, content);
                ps.executeUpdate();
            }
        }
    }

    /**
     * Renames a script, active or not; it keeps being active if it was (RFC 5804 §2.11.1).
     * NOT_FOUND when there is no {@code from}, ALREADY_EXISTS when {@code to} is taken.
     */
    public void rename(AccountId account, String from, String to) {
        String f = checkName(from);
        String t = checkName(to);
        inTransaction(account, "rename sieve script", c -> {
            if (!exists(c, account, f)) {
                throw new StoreException(StoreFailure.NOT_FOUND, "no script named " + f);
            }
            if (exists(c, account, t)) {
                throw new StoreException(StoreFailure.ALREADY_EXISTS, "a script named " + t + " exists already");
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE sieve_scripts SET name = ? WHERE account_id = ? AND name = ?")) {
                ps.setString(1, t);
                ps.setLong(2, account.value());
                ps.setString(3, f);
                ps.executeUpdate();
            }
        });
    }

    /**
     * Deletes a script. The active one is refused with NO_PERMISSION (RFC 5804 §2.10: deactivate it
     * first), so a slip never leaves delivery without the filters the user thinks are on.
     */
    public void delete(AccountId account, String name) {
        String n = checkName(name);
        inTransaction(account, "delete sieve script", c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT active_for IS NOT NULL FROM sieve_scripts WHERE account_id = ? AND name = ?")) {
                ps.setLong(1, account.value());
                ps.setString(2, n);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new StoreException(StoreFailure.NOT_FOUND, "no script named " + n);
                    }
                    if (rs.getBoolean(1)) {
                        throw new StoreException(StoreFailure.NO_PERMISSION,
                                "script " + n + " is active: deactivate it or activate another first");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM sieve_scripts WHERE account_id = ? AND name = ?")) {
                ps.setLong(1, account.value());
                ps.setString(2, n);
                ps.executeUpdate();
            }
        });
    }

    /** Makes {@code name} the account's one active script (RFC 5804 §2.8); NOT_FOUND for no such script. */
    public void activate(AccountId account, String name) {
        String n = checkName(name);
        inTransaction(account, "activate sieve script", c -> {
            if (!exists(c, account, n)) {
                throw new StoreException(StoreFailure.NOT_FOUND, "no script named " + n);
            }
            makeActive(c, account, n);
        });
    }

    private static void makeActive(Connection c, AccountId account, String n) throws SQLException {
        clearActive(c, account);
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE sieve_scripts SET active_for = account_id WHERE account_id = ? AND name = ?")) {
            ps.setLong(1, account.value());
            ps.setString(2, n);
            ps.executeUpdate();
        }
    }

    /** Leaves the account with no active script: delivery files everything into INBOX again. */
    public void deactivate(AccountId account) {
        inTransaction(account, "deactivate sieve script", c -> clearActive(c, account));
    }

    private static void clearActive(Connection c, AccountId account) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE sieve_scripts SET active_for = NULL WHERE active_for = ?")) {
            ps.setLong(1, account.value());
            ps.executeUpdate();
        }
    }

    private static void checkSize(long octets, SieveLimits limits) {
        if (octets > limits.maxScriptBytes()) {
            throw new StoreException(StoreFailure.TOO_BIG,
                    "a script is at most " + limits.maxScriptBytes() + " octets; this one has " + octets);
        }
    }

    private static void checkCount(Connection c, AccountId account, SieveLimits limits) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM sieve_scripts WHERE account_id = ?")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) >= limits.maxScripts()) {
                    throw new StoreException(StoreFailure.OVER_QUOTA,
                            "an account keeps at most " + limits.maxScripts() + " scripts: delete one first");
                }
            }
        }
    }

    private static boolean exists(Connection c, AccountId account, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?")) {
            ps.setLong(1, account.value());
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void requireAccount(Connection c, AccountId account) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM accounts WHERE id = ?")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "no such account");
                }
            }
        }
    }

    /** Work on one account's script rows in one transaction. */
    /** Runs {@code work} in one transaction as the account's one writer, rolled back on any failure. */
    private void inTransaction(AccountId account, String what, AccountWriters.Work work) {
        writers.inTransaction(db, account, what, work);
    }
}

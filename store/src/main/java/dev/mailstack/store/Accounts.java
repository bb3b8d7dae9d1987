package dev.mailstack.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/** Domains, accounts and aliases: who we host and how an address routes. */
public final class Accounts {
    /** Alias chains deeper than this are a loop or a mistake; resolution stops there. */
    static final int MAX_ALIAS_DEPTH = 8;
    static final List<DefaultMailbox> DEFAULT_MAILBOXES = List.of(
            new DefaultMailbox("INBOX", null), new DefaultMailbox("Drafts", SpecialUse.DRAFTS),
            new DefaultMailbox("Sent", SpecialUse.SENT), new DefaultMailbox("Trash", SpecialUse.TRASH),
            new DefaultMailbox("Junk", SpecialUse.JUNK), new DefaultMailbox("Archive", SpecialUse.ARCHIVE));

    record DefaultMailbox(String name, SpecialUse use) {
    }

    private final Database db;
    private final AccountWriters writers;
    private final ChangeBus changes;

    Accounts(Database db, AccountWriters writers, ChangeBus changes) {
        this.db = db;
        this.writers = writers;
        this.changes = changes;
    }

    public static String normalize(String address) {
        String a = address.trim();
        int at = a.lastIndexOf('@');
        if (at <= 0 || at == a.length() - 1) {
            throw new StoreException(StoreFailure.INVALID_NAME, "not an address (want user@domain): " + address);
        }
        return a.toLowerCase(Locale.ROOT);
    }

    static String domainOf(String address) {
        return address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
    }

    // --- domains

    public void addDomain(String name) {
        String domain = name.trim().toLowerCase(Locale.ROOT);
        if (!domain.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")) {
            throw new StoreException(StoreFailure.INVALID_NAME, "not a domain name: " + name);
        }
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO domains (name, created_at) VALUES (?, ?)")) {
            ps.setString(1, domain);
            ps.setTimestamp(2, Timestamp.from(Instant.now()));
            ps.executeUpdate();
        } catch (SQLException e) {
            if (db.dialect().isUniqueViolation(e)) {
                throw new StoreException(StoreFailure.ALREADY_EXISTS, "domain " + domain + " exists already");
            }
            throw db.failure(e, "add domain");
        }
    }

    public void removeDomain(String name) {
        String domain = name.trim().toLowerCase(Locale.ROOT);
        try (Connection c = db.connect()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT COUNT(*) FROM accounts a JOIN domains d ON a.domain_id = d.id WHERE d.name = ?")) {
                ps.setString(1, domain);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        throw new StoreException(StoreFailure.NO_PERMISSION,
                                "domain " + domain + " still has " + rs.getLong(1) + " user(s): delete them first");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM domains WHERE name = ?")) {
                ps.setString(1, domain);
                if (ps.executeUpdate() == 0) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "no domain " + domain);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM aliases WHERE address LIKE ?")) {
                ps.setString(1, "%@" + domain);
                ps.executeUpdate();
            }
        } catch (SQLException e) {
            throw db.failure(e, "remove domain");
        }
    }

    public List<String> domains() {
        return strings("SELECT name FROM domains ORDER BY name");
    }

    public boolean isLocalDomain(String domain) {
        try (Connection c = db.connect()) {
            return isLocalDomain(c, domain);
        } catch (SQLException e) {
            throw db.failure(e, "look up domain");
        }
    }

    private static boolean isLocalDomain(Connection c, String domain) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM domains WHERE name = ?")) {
            ps.setString(1, domain.toLowerCase(Locale.ROOT));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    // --- accounts

    /** Creates the account with its default mailboxes; {@code passwordHash} is a {@code $6$} crypt string. */
    public Account addUser(String address, String passwordHash) {
        String a = normalize(address);
        String domain = domainOf(a);
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try {
                long domainId;
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM domains WHERE name = ?")) {
                    ps.setString(1, domain);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new StoreException(StoreFailure.NOT_FOUND,
                                    "domain " + domain + " is not hosted here: add it first (mailstack domain add " + domain + ")");
                        }
                        domainId = rs.getLong(1);
                    }
                }
                long id;
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO accounts (domain_id, address, password_hash, created_at) VALUES (?, ?, ?, ?)",
                        Statement.RETURN_GENERATED_KEYS)) {
                    ps.setLong(1, domainId);
                    ps.setString(2, a);
                    ps.setString(3, passwordHash);
                    ps.setTimestamp(4, Timestamp.from(Instant.now()));
                    ps.executeUpdate();
                    try (ResultSet rs = ps.getGeneratedKeys()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                }
                for (DefaultMailbox m : DEFAULT_MAILBOXES) {
                    Mailboxes.create(c, new AccountId(id), new MailboxName(m.name()), Optional.ofNullable(m.use()), true);
                }
                c.commit();
                return new Account(new AccountId(id), a, false, OptionalLong.empty(), 0);
            } catch (SQLException e) {
                c.rollback();
                if (db.dialect().isUniqueViolation(e)) {
                    throw new StoreException(StoreFailure.ALREADY_EXISTS, "user " + a + " exists already");
                }
                throw e;
            } catch (RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw db.failure(e, "add user");
        }
    }

    /** Sessions logged in with the old password go on (as in Dovecot); the next login needs the new one. */
    public void setPasswordHash(String address, String passwordHash) {
        updateAccount("UPDATE accounts SET password_hash = ? WHERE id = ?", passwordHash, address);
    }

    /**
     * A disabled account logs in nowhere and its sessions end at once (they are told as of a
     * deletion, {@link #watch}); its mail is kept and still delivered, as Dovecot's nologin.
     */
    public void setDisabled(String address, boolean disabled) {
        AccountId id = updateAccount("UPDATE accounts SET disabled = ? WHERE id = ?", disabled, address);
        if (disabled) {
            changes.publishRemoved(id);
        }
    }

    /** Null removes the quota; a negative one is refused (every caller's check ends here). */
    public void setQuota(String address, Long quotaBytes) {
        if (quotaBytes != null && quotaBytes < 0) {
            throw new IllegalArgumentException("a quota is a number of bytes, 0 or more: " + quotaBytes);
        }
        updateAccount("UPDATE accounts SET quota_bytes = ? WHERE id = ?", quotaBytes, address);
    }

    /**
     * One column of the account's row, changed as the account's one writer ({@link AccountWriters}):
     * deliveries and IMAP write {@code used_bytes} in the same row, and H2 must never see two
     * writers of one account's rows wait on each other.
     */
    private AccountId updateAccount(String sql, Object value, String address) {
        String a = normalize(address);
        try (Connection c = db.connect()) {
            AccountId id = idOf(c, a);
            writers.lock(id);
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setObject(1, value);
                ps.setLong(2, id.value());
                if (ps.executeUpdate() == 0) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "no user " + a); // deleted meanwhile
                }
            } finally {
                writers.unlock(id);
            }
            return id;
        } catch (SQLException e) {
            throw db.failure(e, "update user");
        }
    }

    private static AccountId idOf(Connection c, String normalized) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM accounts WHERE address = ?")) {
            ps.setString(1, normalized);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "no user " + normalized);
                }
                return new AccountId(rs.getLong(1));
            }
        }
    }

    /**
     * Deletes the account, its mailboxes and their messages; contents no longer referenced are left
     * to {@code MailboxStore.collectGarbage}. Done as the account's one writer, so a delivery or an
     * IMAP command under way to it finishes first and one that comes after finds no mailbox. Then
     * the account's sessions are told ({@link #watch}), and they end.
     */
    public void removeUser(String address) {
        String a = normalize(address);
        AccountId id;
        try (Connection c = db.connect()) {
            id = idOf(c, a);
            asWriter(c, id, () -> {
                if (!deleteAccount(c, id)) {
                    throw new StoreException(StoreFailure.NOT_FOUND, "no user " + a); // deleted meanwhile
                }
                return null;
            });
        } catch (SQLException e) {
            throw db.failure(e, "remove user");
        }
        changes.publishRemoved(id);
    }

    /** Work on one account's rows in one connection's transaction. */
    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction as the account's one writer ({@link AccountWriters}):
     * deliveries and IMAP write the same account's rows, and H2 must never see two writers of one
     * account wait on each other. Rolled back on any failure.
     */
    private <T> T asWriter(Connection c, AccountId id, SqlWork<T> work) throws SQLException {
        writers.lock(id);
        try {
            c.setAutoCommit(false);
            T result = work.run();
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            writers.unlock(id);
        }
    }

    /** False when there was no such account any more. */
    private static boolean deleteAccount(Connection c, AccountId id) throws SQLException {
        try (PreparedStatement find = c.prepareStatement("SELECT id FROM mailboxes WHERE account_id = ?");
             PreparedStatement messages = c.prepareStatement("DELETE FROM messages WHERE id BETWEEN ? AND ?");
             PreparedStatement account = c.prepareStatement("DELETE FROM accounts WHERE id = ?")) {
            find.setLong(1, id.value());
            try (ResultSet rs = find.executeQuery()) {
                while (rs.next()) {
                    MailboxId mailbox = new MailboxId(rs.getLong(1));
                    messages.setLong(1, Mailboxes.messageKey(mailbox, 0));
                    messages.setLong(2, Mailboxes.keyAfter(mailbox));
                    messages.addBatch();
                }
            }
            messages.executeBatch();
            account.setLong(1, id.value());
            return account.executeUpdate() > 0;
        }
    }

    /**
     * Runs {@code onRemoved} once the account is deleted or disabled in this process (on the
     * changing thread, right after the commit; it must not block), or at once when it is gone or
     * disabled already, so that a session that logged in just before hears of it too. It may run twice. Until the
     * returned handle is closed.
     */
    public AccountWatch watch(AccountId account, Runnable onRemoved) {
        AutoCloseable handle = changes.subscribe(account, onRemoved);
        boolean exists;
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM accounts WHERE id = ? AND disabled = FALSE")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
            }
        } catch (SQLException e) {
            closeQuietly(handle);
            throw db.failure(e, "watch user");
        }
        if (!exists) {
            onRemoved.run();
        }
        return () -> closeQuietly(handle);
    }

    private static void closeQuietly(AutoCloseable handle) {
        try {
            handle.close();
        } catch (Exception e) {
            throw new IllegalStateException("unsubscribe cannot fail", e);
        }
    }

    /** Bytes of mail in every account together (/metrics), summed by the database rather than per account here. */
    public long usedBytesTotal() {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT COALESCE(SUM(used_bytes), 0) FROM accounts");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw db.failure(e, "sum used bytes");
        }
    }

    public List<Account> users() {
        List<Account> out = new ArrayList<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT id, address, disabled, quota_bytes, used_bytes FROM accounts ORDER BY address");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(account(rs));
            }
        } catch (SQLException e) {
            throw db.failure(e, "list users");
        }
        return out;
    }

    public Optional<Account> find(String address) {
        String a;
        try {
            a = normalize(address);
        } catch (StoreException e) {
            return Optional.empty();
        }
        try (Connection c = db.connect()) {
            return find(c, a);
        } catch (SQLException e) {
            throw db.failure(e, "find user");
        }
    }

    private static Optional<Account> find(Connection c, String normalized) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, address, disabled, quota_bytes, used_bytes FROM accounts WHERE address = ?")) {
            ps.setString(1, normalized);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(account(rs)) : Optional.empty();
            }
        }
    }

    /** The enabled account whose password matches; empty for a wrong password, unknown or disabled user. */
    public Optional<Account> authenticate(String address, String password) {
        String a;
        try {
            a = normalize(address);
        } catch (StoreException e) {
            return Optional.empty();
        }
        String hash = null;
        Account account = null;
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT id, address, disabled, quota_bytes, used_bytes, password_hash FROM accounts WHERE address = ?")) {
            ps.setString(1, a);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    account = account(rs);
                    hash = rs.getString(6);
                }
            }
        } catch (SQLException e) {
            throw db.failure(e, "authenticate");
        }
        // Hash even for unknown users so response time does not reveal which addresses exist.
        boolean ok = PasswordScheme.verify(password, hash == null ? PasswordScheme.DUMMY_HASH : hash);
        return ok && account != null && !account.disabled() ? Optional.of(account) : Optional.empty();
    }

    private static Account account(ResultSet rs) throws SQLException {
        long quota = rs.getLong(4);
        OptionalLong q = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(quota);
        return new Account(new AccountId(rs.getLong(1)), rs.getString(2), rs.getBoolean(3), q, rs.getLong(5));
    }

    // --- aliases

    public void addAlias(String address, String target) {
        String a = address.trim().toLowerCase(Locale.ROOT);
        if (!a.startsWith("@")) {
            a = normalize(a);
        }
        if (!isLocalDomain(domainOf(a))) {
            throw new StoreException(StoreFailure.NOT_FOUND, "domain " + domainOf(a) + " is not hosted here");
        }
        String t = normalize(target);
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO aliases (address, target) VALUES (?, ?)")) {
            ps.setString(1, a);
            ps.setString(2, t);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (db.dialect().isUniqueViolation(e)) {
                throw new StoreException(StoreFailure.ALREADY_EXISTS, "alias " + a + " -> " + t + " exists already");
            }
            throw db.failure(e, "add alias");
        }
    }

    /** Removes one target of the alias, or all of them when {@code target} is null. */
    public void removeAlias(String address, String target) {
        String a = address.trim().toLowerCase(Locale.ROOT);
        String sql = target == null ? "DELETE FROM aliases WHERE address = ?" : "DELETE FROM aliases WHERE address = ? AND target = ?";
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, a);
            if (target != null) {
                ps.setString(2, normalize(target));
            }
            if (ps.executeUpdate() == 0) {
                throw new StoreException(StoreFailure.NOT_FOUND, "no alias " + a + (target == null ? "" : " -> " + target));
            }
        } catch (SQLException e) {
            throw db.failure(e, "remove alias");
        }
    }

    public List<Alias> aliases() {
        List<Alias> out = new ArrayList<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT address, target FROM aliases ORDER BY address, target");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Alias(rs.getString(1), rs.getString(2)));
            }
        } catch (SQLException e) {
            throw db.failure(e, "list aliases");
        }
        return out;
    }

    // --- vacations

    /**
     * Sets the account's out-of-office reply, or clears it ({@code vacation} empty). Either way the
     * record of senders already answered starts afresh: a new message is another vacation action
     * (RFC 5230 §4.2, a :handle per reason). Done as the account's one writer, like deliveries,
     * which record their replies in the same account's rows ({@link #claimVacationReply}).
     */
    public void setVacation(String address, Optional<Vacation> vacation) {
        String a = normalize(address);
        try (Connection c = db.connect()) {
            AccountId id = idOf(c, a);
            asWriter(c, id, () -> {
                try (PreparedStatement exists = c.prepareStatement("SELECT 1 FROM accounts WHERE id = ?")) {
                    exists.setLong(1, id.value());
                    try (ResultSet rs = exists.executeQuery()) {
                        if (!rs.next()) {
                            throw new StoreException(StoreFailure.NOT_FOUND, "no user " + a); // deleted meanwhile
                        }
                    }
                }
                for (String sql : List.of("DELETE FROM vacations WHERE account_id = ?",
                        "DELETE FROM vacation_replies WHERE account_id = ? AND handle = ''")) {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        ps.setLong(1, id.value());
                        ps.executeUpdate();
                    }
                }
                if (vacation.isPresent()) {
                    Vacation v = vacation.get();
                    try (PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO vacations (account_id, subject, body, ends_at) VALUES (?, ?, ?, ?)")) {
                        ps.setLong(1, id.value());
                        ps.setString(2, v.subject());
                        ps.setString(3, v.body());
                        ps.setTimestamp(4, v.endsAt().map(Timestamp::from).orElse(null));
                        ps.executeUpdate();
                    }
                }
                return null;
            });
        } catch (SQLException e) {
            throw db.failure(e, "set vacation");
        }
    }

    /** The account's out-of-office reply if replies go out now: empty when none is set or it has ended. */
    public Optional<Vacation> vacation(AccountId account) {
        Instant now = Instant.now();
        try (Connection c = db.connect()) {
            return vacation(c, account).filter(v -> v.activeAt(now));
        } catch (SQLException e) {
            throw db.failure(e, "read vacation");
        }
    }

    /** The vacation as set for {@code address}, ended or not (for the administrator to see). */
    public Optional<Vacation> vacationSetting(String address) {
        String a = normalize(address);
        try (Connection c = db.connect()) {
            return vacation(c, idOf(c, a));
        } catch (SQLException e) {
            throw db.failure(e, "read vacation");
        }
    }

    private static Optional<Vacation> vacation(Connection c, AccountId account) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT subject, body, ends_at FROM vacations WHERE account_id = ?")) {
            ps.setLong(1, account.value());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Timestamp ends = rs.getTimestamp(3);
                return Optional.of(new Vacation(rs.getString(1), rs.getString(2),
                        Optional.ofNullable(ends).map(Timestamp::toInstant)));
            }
        }
    }

    /** {@link #claimVacationReply(AccountId, String, String, Instant, Duration)} for the administrator's vacation. */
    public boolean claimVacationReply(AccountId account, String sender, Instant now, Duration interval) {
        return claimVacationReply(account, sender, "", now, interval);
    }

    /**
     * Records that the account answers {@code sender} at {@code now} for the vacation action named
     * {@code handle} ("" for the administrator's; RFC 5230 §4.2: each of a script's actions is
     * tracked on its own), and says whether it may: true when that action has not answered them
     * within {@code interval} before (§4.6, :days or RFC 6131's :seconds; RFC 3834 §2: no more than
     * one reply per sender in a period). False leaves the earlier reply as it was, so a sender who
     * keeps writing hears again one interval after the last reply, not after their last message.
     * Lapsed answers are forgotten on the way.
     */
    public boolean claimVacationReply(AccountId account, String sender, String handle, Instant now, Duration interval) {
        try (Connection c = db.connect()) {
            return asWriter(c, account, () -> claimVacationReply(c, account, sender, handle, now, interval));
        } catch (SQLException e) {
            if (db.dialect().isUniqueViolation(e)) {
                return false; // another process answered them first (read committed); rolled back
            }
            throw db.failure(e, "record a vacation reply");
        }
    }

    /**
     * {@link #claimVacationReply(AccountId, String, String, Instant, Duration)} in the caller's
     * transaction, which holds the account's writer lock: the queue claims with the reply it queues.
     */
    static boolean claimVacationReply(Connection c, AccountId account, String sender, String handle, Instant now,
                                      Duration interval) throws SQLException {
        String s = sender.trim().toLowerCase(Locale.ROOT);
        String h = handleKey(handle);
        try (PreparedStatement prune = c.prepareStatement(
                "DELETE FROM vacation_replies WHERE account_id = ? AND lapses_at <= ?")) {
            prune.setLong(1, account.value());
            prune.setTimestamp(2, Timestamp.from(now));
            prune.executeUpdate();
        }
        try (PreparedStatement find = c.prepareStatement(
                "SELECT 1 FROM vacation_replies WHERE account_id = ? AND sender = ? AND handle = ?")) {
            find.setLong(1, account.value());
            find.setString(2, s);
            find.setString(3, h);
            try (ResultSet rs = find.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO vacation_replies (account_id, sender, handle, lapses_at) VALUES (?, ?, ?, ?)")) {
            insert.setLong(1, account.value());
            insert.setString(2, s);
            insert.setString(3, h);
            insert.setTimestamp(4, Timestamp.from(now.plus(interval)));
            insert.executeUpdate();
        }
        return true;
    }

    /** A handle as the column holds it: a script's own is any length, so a long one is kept as its SHA-256. */
    private static String handleKey(String handle) {
        if (handle.length() <= 64) {
            return handle;
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(handle.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    // --- routing

    /**
     * Resolves a recipient: exact account, then aliases, then {@code user+tag} as user, then the
     * domain's catch-all. Alias targets are resolved again, up to {@link #MAX_ALIAS_DEPTH} levels.
     */
    public AddressResolution resolve(String address) {
        String a;
        try {
            a = normalize(address);
        } catch (StoreException e) {
            return new AddressResolution.NoSuchUser();
        }
        // One connection for every lookup: resolving runs for each RCPT and each queued recipient.
        try (Connection c = db.connect()) {
            if (!isLocalDomain(c, domainOf(a))) {
                return new AddressResolution.NotLocal();
            }
            Set<Long> seen = new LinkedHashSet<>();
            List<Account> accounts = new ArrayList<>();
            List<String> forwards = new ArrayList<>();
            if (!expand(c, a, 0, seen, accounts, forwards, new LinkedHashSet<>())) {
                return new AddressResolution.NoSuchUser();
            }
            return new AddressResolution.Deliver(accounts, forwards);
        } catch (SQLException e) {
            throw db.failure(e, "resolve address");
        }
    }

    private boolean expand(Connection c, String a, int depth, Set<Long> seen, List<Account> accounts, List<String> forwards,
                           Set<String> visited) throws SQLException {
        if (depth > MAX_ALIAS_DEPTH || !visited.add(a)) {
            return false;
        }
        String domain = domainOf(a);
        if (!isLocalDomain(c, domain)) {
            forwards.add(a);
            return true;
        }
        Optional<Account> account = find(c, a);
        if (account.isPresent()) {
            if (seen.add(account.get().id().value())) {
                accounts.add(account.get());
            }
            return true;
        }
        List<String> targets = aliasTargets(c, a);
        if (targets.isEmpty()) {
            String local = a.substring(0, a.lastIndexOf('@'));
            int plus = local.indexOf('+');
            if (plus > 0) {
                return expand(c, local.substring(0, plus) + "@" + domain, depth, seen, accounts, forwards, visited);
            }
            targets = aliasTargets(c, "@" + domain);
        }
        boolean any = false;
        for (String t : targets) {
            any |= expand(c, t, depth + 1, seen, accounts, forwards, visited);
        }
        return any;
    }

    private static List<String> aliasTargets(Connection c, String address) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT target FROM aliases WHERE address = ? ORDER BY target")) {
            ps.setString(1, address);
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    private List<String> strings(String sql) {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw db.failure(e, "query");
        }
        return out;
    }
}

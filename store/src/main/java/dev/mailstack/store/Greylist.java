package dev.mailstack.store;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What greylisting remembers (V17), as postgrey does for Postfix: the triplets of client network,
 * envelope sender and recipient, and the client networks that passed often enough to be let
 * through at once. A triplet seen for the first time is deferred; a retry after the delay and
 * within the retry window passes, and the triplet then passes for the maximum age after its last
 * pass. Each check reads one or two rows by primary key and writes only when something changes.
 */
public final class Greylist {
    /** Passes after the first renew a row's expiry at most this often (postgrey's hourly client count). */
    static final Duration RENEWAL = Duration.ofHours(1);

    private final Database db;

    Greylist(Database db) {
        this.db = db;
    }

    /**
     * How greylisting behaves, postgrey's options: {@code delay} (--delay), {@code retryWindow}
     * (--retry-window: how long after the first attempt a retry still counts), {@code maxAge}
     * (--max-age: how long a triplet or a whitelisted network is kept after its last pass) and
     * {@code autoWhitelistAfter} (--auto-whitelist-clients: passed triplets after which a client
     * network is no longer greylisted; 0: never).
     */
    public record Policy(Duration delay, Duration retryWindow, Duration maxAge, int autoWhitelistAfter) {
        /** postgrey's defaults: 300 s, 2 days, 35 days, 5. */
        public static final Policy POSTGREY = new Policy(Duration.ofSeconds(300), Duration.ofDays(2), Duration.ofDays(35), 5);

        public Policy {
            if (delay.isNegative() || !retryWindow.minus(delay).isPositive()) {
                throw new IllegalArgumentException("the delay must be shorter than the retry window: " + delay);
            }
            if (!maxAge.isPositive() || autoWhitelistAfter < 0) {
                throw new IllegalArgumentException("max age " + maxAge + ", auto-whitelist " + autoWhitelistAfter);
            }
        }

        public Policy withDelay(Duration d) {
            return new Policy(d, retryWindow, maxAge, autoWhitelistAfter);
        }

        public Policy withRetryWindow(Duration window) {
            return new Policy(delay, window, maxAge, autoWhitelistAfter);
        }

        public Policy withMaxAge(Duration age) {
            return new Policy(delay, retryWindow, age, autoWhitelistAfter);
        }

        public Policy withAutoWhitelistAfter(int passes) {
            return new Policy(delay, retryWindow, maxAge, passes);
        }
    }

    /**
     * One client network, sender and recipient, normalised as postgrey's lookup by subnet and
     * sender substitutions do, so that retries from a neighbouring address of the same provider and
     * senders whose address changes per message (VERP, BATV, SRS) still meet their first attempt.
     */
    public record Triplet(String network, String sender, String recipient) {
        private static final Pattern DIGITS = Pattern.compile("[0-9]+");
        /** A BATV tag (draft-levine-smtp-batv §4.1: prvs=KDDDSSSSSS, key, day and signature). */
        private static final Pattern BATV_TAG = Pattern.compile("[0-9a-f]{10}");

        public Triplet {
            Objects.requireNonNull(network, "network");
            Objects.requireNonNull(sender, "sender");
            Objects.requireNonNull(recipient, "recipient");
        }

        /** The triplet of a client at {@code client} sending from {@code sender} to {@code recipient}. */
        public static Triplet of(InetAddress client, String sender, String recipient) {
            return new Triplet(network(client), sender(sender), recipient(recipient));
        }

        /**
         * The client's network, as postgrey's --lookup-by-subnet: the /24 of an IPv4 address, the
         * /64 of an IPv6 one (one site's subnet, RFC 4291 §2.5.1), so a provider's pool of sending
         * servers on one subnet is one client.
         */
        static String network(InetAddress client) {
            byte[] bytes = client.getAddress();
            int prefix = client instanceof Inet4Address ? 24 : 64;
            Arrays.fill(bytes, prefix / 8, bytes.length, (byte) 0);
            try {
                return InetAddress.getByAddress(bytes).getHostAddress() + "/" + prefix;
            } catch (UnknownHostException e) {
                throw new IllegalStateException("4 or 16 bytes are an address", e);
            }
        }

        /**
         * The recipient lowercased, without a +tag: alice+1@, alice+2@ ... all reach alice, and
         * as separate triplets each would be a row of its own (a client could write rows without end).
         */
        static String recipient(String recipient) {
            String r = recipient.toLowerCase(Locale.ROOT);
            int at = r.lastIndexOf('@');
            int plus = r.indexOf('+');
            return plus > 0 && (at < 0 || plus < at) ? r.substring(0, plus) + (at < 0 ? "" : r.substring(at)) : r;
        }

        /**
         * The envelope sender with its per-message parts taken out, lowercased (a subset of
         * postgrey's sender substitutions): a BATV tag ({@code prvs=tag=user@}, or the common
         * {@code prvs=user=tag@}) is dropped, an SRS0 address keeps only its original domain and
         * user ({@code srs0=hash=tt=domain=user@}), a {@code +extension} is dropped, and every run
         * of digits is one {@code #} (VERP bounce addresses number each message). Postgrey
         * replaces whole-word numbers only; any run here, as {@code bounce123} is as variable.
         */
        static String sender(String sender) {
            String s = sender.toLowerCase(Locale.ROOT);
            int at = s.lastIndexOf('@');
            if (at < 0) {
                return s; // the null sender of bounces, or a bare name
            }
            String local = s.substring(0, at);
            String domain = s.substring(at);
            String kept = "";
            String[] parts = local.split("=", -1);
            if (parts[0].equals("prvs") && parts.length == 3) {
                boolean tagFirst = BATV_TAG.matcher(parts[1]).matches();
                boolean tagLast = BATV_TAG.matcher(parts[2]).matches();
                local = tagLast && !tagFirst ? parts[1] : parts[2];
            } else if (parts[0].equals("srs0") && parts.length >= 5) {
                kept = "srs0=" + parts[3] + "="; // the original domain, digits and all
                local = String.join("=", Arrays.copyOfRange(parts, 4, parts.length));
            }
            int plus = local.indexOf('+');
            if (plus > 0) {
                local = local.substring(0, plus);
            }
            return kept + DIGITS.matcher(local).replaceAll("#") + domain;
        }

        /** SHA-256 of the three with NUL between, hex: a fixed-size key that does not keep the addresses. */
        String hash() {
            try {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                sha.update((network + "\0" + sender + "\0" + recipient).getBytes(StandardCharsets.UTF_8));
                return HexFormat.of().formatHex(sha.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }
    }

    /** What to do with a recipient. */
    public sealed interface Verdict permits Pass, Defer {
    }

    /**
     * Let it through. {@code delayed}: on a triplet's first pass, how long after its first attempt
     * this retry came (what postgrey's X-Greylist field reports); zero otherwise.
     * {@code whitelisted}: the client network passed often enough to skip the triplets.
     */
    public record Pass(Duration delayed, boolean whitelisted) implements Verdict {
    }

    /** Try again in {@code retryIn}; {@code retry}: the triplet was seen before (an early retry), not new. */
    public record Defer(Duration retryIn, boolean retry) implements Verdict {
    }

    private record Seen(Instant firstSeen, Instant passedAt, Instant expires) {
    }

    private record Client(int passes, Instant lastPass, Instant expires) {
    }

    /** Greylists {@code triplet} at {@code now}: the verdict, with the rows written as it says. */
    public Verdict check(Triplet triplet, Policy policy, Instant now) {
        try (Connection c = db.connect()) {
            Client client = policy.autoWhitelistAfter() > 0 ? client(c, triplet.network(), now) : null;
            if (client != null && client.passes() >= policy.autoWhitelistAfter()) {
                if (!client.lastPass().plus(RENEWAL).isAfter(now)) {
                    countPass(c, triplet.network(), client, policy, now); // for the expiry, and for statistics
                }
                return new Pass(Duration.ZERO, true);
            }
            String key = triplet.hash();
            Seen seen = seen(c, key);
            if (seen == null || !seen.expires().isAfter(now)) {
                // new, or its retry window (or its maximum age) is over: it starts again
                firstSight(c, key, seen != null, policy, now);
                return new Defer(policy.delay(), false);
            }
            if (seen.passedAt() == null) {
                Duration waited = Duration.between(seen.firstSeen(), now);
                if (waited.compareTo(policy.delay()) < 0) {
                    return new Defer(policy.delay().minus(waited), true);
                }
                // the first pass; the condition makes two sessions passing at once count it once
                if (update(c, "UPDATE greylist_triplets SET passed_at = ?, expires_at = ?"
                        + " WHERE triplet_hash = ? AND passed_at IS NULL", now, now.plus(policy.maxAge()), key)
                        && policy.autoWhitelistAfter() > 0) {
                    countPass(c, triplet.network(), client, policy, now);
                }
                return new Pass(waited, false);
            }
            if (!seen.passedAt().plus(RENEWAL).isAfter(now)) {
                update(c, "UPDATE greylist_triplets SET passed_at = ?, expires_at = ? WHERE triplet_hash = ?",
                        now, now.plus(policy.maxAge()), key);
            }
            if (policy.autoWhitelistAfter() > 0) {
                // as postgrey, every passing delivery counts for the network, at most one an hour (no write otherwise)
                countPass(c, triplet.network(), client, policy, now);
            }
            return new Pass(Duration.ZERO, false);
        } catch (SQLException e) {
            throw db.failure(e, "check the greylist");
        }
    }

    /** Deletes the triplets and client networks that lapsed before {@code now}; how many went. */
    int prune(Connection c, Instant now) throws SQLException {
        int pruned = 0;
        for (String sql : new String[] {"DELETE FROM greylist_triplets WHERE expires_at <= ?",
                "DELETE FROM greylist_clients WHERE expires_at <= ?"}) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setTimestamp(1, Timestamp.from(now));
                pruned += ps.executeUpdate();
            }
        }
        return pruned;
    }

    private static Seen seen(Connection c, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT first_seen, passed_at, expires_at FROM greylist_triplets WHERE triplet_hash = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Timestamp passed = rs.getTimestamp(2);
                return new Seen(rs.getTimestamp(1).toInstant(), passed == null ? null : passed.toInstant(),
                        rs.getTimestamp(3).toInstant());
            }
        }
    }

    /** The network's row, unless it lapsed (then it counts from zero again). */
    private static Client client(Connection c, String network, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT passes, last_pass, expires_at FROM greylist_clients WHERE network = ?")) {
            ps.setString(1, network);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Client client = new Client(rs.getInt(1), rs.getTimestamp(2).toInstant(), rs.getTimestamp(3).toInstant());
                return client.expires().isAfter(now) ? client : new Client(0, Instant.EPOCH, client.expires());
            }
        }
    }

    private void firstSight(Connection c, String key, boolean stale, Policy policy, Instant now) throws SQLException {
        Instant expires = now.plus(policy.retryWindow());
        // another session may have started it again meanwhile (its first attempt is as good as ours,
        // and the insert below then finds its row); or the prune took the row since we read it
        if (stale && update(c, "UPDATE greylist_triplets SET first_seen = ?, passed_at = NULL, expires_at = ?"
                + " WHERE triplet_hash = ? AND expires_at <= ?", now, expires, key, now)) {
            return;
        }
        // a session with the same triplet may insert first (two RCPTs in parallel): its row is the one
        insertOnce(c, "INSERT INTO greylist_triplets (triplet_hash, first_seen, passed_at, expires_at) VALUES (?, ?, NULL, ?)",
                key, now, expires);
    }

    /**
     * Counts a pass of the network's, at most one an hour (postgrey's rule, so one burst of mail
     * does not whitelist a network), and keeps the network for the maximum age after it.
     */
    private void countPass(Connection c, String network, Client client, Policy policy, Instant now) throws SQLException {
        Instant expires = now.plus(policy.maxAge());
        if (client == null) {
            // another session may count this network's pass in the same moment: one pass an hour
            insertOnce(c, "INSERT INTO greylist_clients (network, passes, last_pass, expires_at) VALUES (?, 1, ?, ?)",
                    network, now, expires);
        } else if (client.passes() == 0) { // lapsed: counting starts over
            update(c, "UPDATE greylist_clients SET passes = 1, last_pass = ?, expires_at = ? WHERE network = ?",
                    now, expires, network);
        } else if (!client.lastPass().plus(RENEWAL).isAfter(now)) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE greylist_clients SET passes = passes + 1,"
                    + " last_pass = ?, expires_at = ? WHERE network = ? AND last_pass <= ?")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setTimestamp(2, Timestamp.from(expires));
                ps.setString(3, network);
                ps.setTimestamp(4, Timestamp.from(now.minus(RENEWAL)));
                ps.executeUpdate();
            }
        }
    }

    /** Runs a statement with these parameters (instants as timestamps, strings as they are); whether it changed a row. */
    private static boolean update(Connection c, String sql, Object... values) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < values.length; i++) {
                if (values[i] instanceof Instant t) {
                    ps.setTimestamp(i + 1, Timestamp.from(t));
                } else {
                    ps.setString(i + 1, (String) values[i]);
                }
            }
            return ps.executeUpdate() > 0;
        }
    }

    /** An insert another session may have made first: its row stands (autocommit, so nothing else is undone). */
    private void insertOnce(Connection c, String sql, Object... values) throws SQLException {
        try {
            update(c, sql, values);
        } catch (SQLException e) {
            if (!db.dialect().isUniqueViolation(e)) {
                throw e;
            }
        }
    }
}

package dev.mailstack.net;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Growing delays after failed logins, per client network ({@link Cidr#clientNetwork}: an IPv4
 * address, an IPv6 /64) and shared by SMTP AUTH, POP3, IMAP and ManageSieve (so a guesser cannot
 * switch protocols). The delay doubles with each failure from {@code firstDelay} up to
 * {@code maxDelay}; {@code forgetAfter} without a failure forgets the network.
 *
 * <p>Two waits, both on the session's own virtual thread (other clients go on):
 * <ul>
 * <li>the failing connection waits the delay before it answers the failure, like Dovecot's
 *     auth_failure_delay;</li>
 * <li>every login attempt from a network with failures on record, on any of its connections,
 *     waits until the last failure's delay is over before its credentials are checked
 *     ({@link #awaitTurn}), like Dovecot's auth penalty (looked up before the passdb): a guesser
 *     on parallel connections gets one round of guesses per delay, not one per answer.</li>
 * </ul>
 *
 * <p>A success forgives only the failures counted against the name that logged in. Dovecot
 * resets an address's whole penalty on a success, so an attacker who owns one account could log in
 * with it between guesses at others and never be slowed; forgiving per name still lets a user who
 * mistyped their own password go on at once, while guesses at other names stay counted until the
 * quiet period passes (Postfix's anvil, for smtpd_client_auth_rate_limit, likewise counts a
 * client's AUTH commands over its time unit whether they succeed or not).
 */
public final class AuthThrottle {
    /** Networks remembered at once by default; past it the one whose last failure is oldest is forgotten. */
    public static final int DEFAULT_MAX_NETWORKS = 100_000;
    /**
     * Names whose failures a network's record tells apart. Failures for more names are still
     * counted, but no success forgives them: a guesser spraying names gains nothing, and the record
     * stays small.
     */
    static final int MAX_NAMES_PER_NETWORK = 8;
    /** Longer names are remembered by their start (an address is at most 254 octets, RFC 5321 §4.5.3.1.3). */
    private static final int MAX_NAME_CHARS = 256;

    /**
     * One network's failures: how many, the last one's time, the earliest time the network's next
     * attempt may be checked, how many failures were for each of a few names, and a fingerprint of
     * the last failure's name and password (0: none known).
     */
    private record Penalty(int count, Instant last, Instant nextTurn, Map<String, Integer> byName, long lastTry) {
    }

    /** Salts the fingerprints of failed name and password pairs: only this process can compare them. */
    private final byte[] salt = new byte[16];

    private final Duration firstDelay;
    private final Duration maxDelay;
    private final Duration forgetAfter;
    private final Clock clock;
    private final int maxNetworks;
    /**
     * In the order of each network's last failure (a failure takes its network out and puts it back
     * at the end), so the eldest entry is the one to forget: expired or evicted in O(1), never a scan.
     * Every access is under {@link #lock}: a few map operations, no I/O.
     */
    private final LinkedHashMap<Cidr, Penalty> penalties = new LinkedHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicLong failedTotal = new AtomicLong();
    private final AtomicLong succeededTotal = new AtomicLong();
    /** Logins by endpoint name ("imap", "submission", ...), for metrics. */
    private final Map<String, LongAdder> okByEndpoint = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> failedByEndpoint = new ConcurrentHashMap<>();

    public AuthThrottle(Duration firstDelay, Duration maxDelay, Duration forgetAfter, Clock clock) {
        this(firstDelay, maxDelay, forgetAfter, clock, DEFAULT_MAX_NETWORKS);
    }

    AuthThrottle(Duration firstDelay, Duration maxDelay, Duration forgetAfter, Clock clock, int maxNetworks) {
        if (maxNetworks < 1) {
            throw new IllegalArgumentException("maxNetworks must be at least 1: " + maxNetworks);
        }
        this.firstDelay = firstDelay;
        this.maxDelay = maxDelay;
        this.forgetAfter = forgetAfter;
        this.clock = clock;
        this.maxNetworks = maxNetworks;
        new java.security.SecureRandom().nextBytes(salt);
    }

    /** A salted hash of a name and password, never 0; the password itself is not kept. */
    private long fingerprint(String name, String password) {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            sha.update(salt);
            sha.update(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update((byte) 0);
            byte[] d = sha.digest(password.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            long v = java.nio.ByteBuffer.wrap(d).getLong();
            return v == 0 ? 1 : v;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    /** 1 s after the first failure, doubling to 30 s; forgotten after 15 quiet minutes. */
    public static AuthThrottle defaults() {
        return new AuthThrottle(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMinutes(15), Clock.systemUTC());
    }

    /**
     * How long an attempt from {@code client}'s network waits before its credentials are checked:
     * zero for a network without recent failures, else until its last failure's delay is over.
     * Attempts are not queued one delay apart: behind one NAT address a phone with a stale password
     * would then hold every other user's login back by a delay per login before it.
     */
    public Duration admit(InetAddress client) {
        Cidr network = Cidr.clientNetwork(client);
        lock.lock();
        try {
            Instant now = clock.instant();
            Penalty p = live(network, now);
            if (p == null) {
                return Duration.ZERO;
            }
            return Duration.between(now, later(now, p.nextTurn()));
        } finally {
            lock.unlock();
        }
    }

    /** Records a failure for {@code user} from {@code client} and returns how long to wait before answering it. */
    public Duration failed(InetAddress client, String user) {
        return failed(client, user, null);
    }

    /**
     * Records a failure for {@code user} with {@code password} (null: not known) from {@code client}
     * and returns how long to wait before answering it. The same name and password failing again
     * right after itself is a device with a stale saved password retrying, not a guess: it keeps
     * the network's penalty where it is instead of doubling it, as Dovecot's auth penalty does, so
     * that one phone behind a NAT address does not slow every other user there to 30 s a login.
     */
    public Duration failed(InetAddress client, String user, String password) {
        failedTotal.incrementAndGet();
        Cidr network = Cidr.clientNetwork(client);
        String name = name(user);
        long fingerprint = password == null ? 0 : fingerprint(name, password);
        lock.lock();
        try {
            Instant now = clock.instant();
            Penalty old = live(network, now);
            boolean repeat = old != null && fingerprint != 0 && old.lastTry() == fingerprint;
            int count = old == null ? 1 : repeat ? old.count() : old.count() + 1;
            Map<String, Integer> byName = old == null ? Map.of() : old.byName();
            if (!repeat && (byName.containsKey(name) || byName.size() < MAX_NAMES_PER_NETWORK)) {
                Map<String, Integer> more = new HashMap<>(byName);
                more.merge(name, 1, Integer::sum);
                byName = Map.copyOf(more);
            }
            Duration delay = delayFor(count);
            Instant nextTurn = later(now.plus(delay), old == null ? now : old.nextTurn());
            penalties.remove(network); // and put back last: the most recent failure
            penalties.put(network, new Penalty(count, now, nextTurn, byName, fingerprint));
            forgetOldest(now);
            return delay;
        } finally {
            lock.unlock();
        }
    }

    /** {@code user} logged in from {@code client}: the failures counted against that name are forgiven, no others. */
    public void succeeded(InetAddress client, String user) {
        succeededTotal.incrementAndGet();
        Cidr network = Cidr.clientNetwork(client);
        String name = name(user);
        lock.lock();
        try {
            Penalty p = live(network, clock.instant());
            if (p == null || !p.byName().containsKey(name)) {
                return;
            }
            int count = p.count() - p.byName().get(name);
            if (count <= 0) {
                penalties.remove(network);
                return;
            }
            Map<String, Integer> rest = new HashMap<>(p.byName());
            rest.remove(name);
            penalties.put(network, new Penalty(count, p.last(), p.nextTurn(), Map.copyOf(rest), p.lastTry()));
        } finally {
            lock.unlock();
        }
    }

    /** Networks on record, expired ones not yet dropped included (for tests). */
    int tracked() {
        lock.lock();
        try {
            return penalties.size();
        } finally {
            lock.unlock();
        }
    }

    /** The network's record, or null when there is none or it has been forgotten (then it is dropped). */
    private Penalty live(Cidr network, Instant now) {
        Penalty p = penalties.get(network);
        if (p != null && expired(p, now)) {
            penalties.remove(network);
            return null;
        }
        return p;
    }

    private boolean expired(Penalty p, Instant now) {
        return p.last().plus(forgetAfter).isBefore(now);
    }

    /** Drops expired records from the front (oldest failures first), then any over the bound. */
    private void forgetOldest(Instant now) {
        Iterator<Penalty> oldestFirst = penalties.values().iterator();
        while (oldestFirst.hasNext()) {
            Penalty p = oldestFirst.next();
            if (!expired(p, now) && penalties.size() <= maxNetworks) {
                return;
            }
            oldestFirst.remove();
        }
    }

    /** Names are told apart as logins compare them: without case (user@example.org is USER@example.org). */
    private static String name(String user) {
        String cut = user.length() > MAX_NAME_CHARS ? user.substring(0, MAX_NAME_CHARS) : user;
        return cut.toLowerCase(Locale.ROOT);
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    /**
     * Before checking credentials from {@code connection}: waits its network's turn on the session's
     * own thread ({@link #admit}); other sessions, and other networks' logins, go on.
     */
    public void awaitTurn(Connection connection) {
        Duration wait = admit(connection.clientAddress());
        if (wait.isZero()) {
            return;
        }
        System.getLogger(AuthThrottle.class.getName()).log(System.Logger.Level.INFO,
                "auth delayed conn={0} client={1} wait_ms={2,number,#}", connection.id(),
                connection.clientAddress().getHostAddress(), wait.toMillis());
        sleep(wait);
    }

    /** A successful login of {@code user} on {@code connection}: counted for its endpoint, that name's failures forgiven. */
    public void succeededLogin(Connection connection, String user) {
        okByEndpoint.computeIfAbsent(connection.endpoint().name(), k -> new LongAdder()).increment();
        succeeded(connection.clientAddress(), user);
    }

    /** Successful logins since start on one endpoint. */
    public long succeeded(String endpoint) {
        var n = okByEndpoint.get(endpoint);
        return n == null ? 0 : n.sum();
    }

    /** Failed logins since start on one endpoint. */
    public long failed(String endpoint) {
        var n = failedByEndpoint.get(endpoint);
        return n == null ? 0 : n.sum();
    }

    /** Failed logins since start, all protocols (for metrics). */
    public long failedTotal() {
        return failedTotal.get();
    }

    /** Successful logins since start, all protocols. */
    public long succeededTotal() {
        return succeededTotal.get();
    }

    private Duration delayFor(int count) {
        long millis = firstDelay.toMillis() << Math.min(20, count - 1);
        return Duration.ofMillis(Math.min(millis, maxDelay.toMillis()));
    }

    /**
     * A failed login of {@code user} ("" when the client gave none that could be read) on
     * {@code connection}: counts it, logs it with the connection id ({@code what}: never a
     * password), and waits the delay on the session's own thread before the caller answers (other
     * sessions go on).
     */
    public void failedLogin(Connection connection, String user, String password, String what) {
        Duration delay = failed(connection.clientAddress(), user, password); // first: once counted, the penalty is in force
        failedByEndpoint.computeIfAbsent(connection.endpoint().name(), k -> new LongAdder()).increment();
        System.getLogger(AuthThrottle.class.getName()).log(System.Logger.Level.INFO,
                "auth failed conn={0} client={1} {2} delay_ms={3,number,#}", connection.id(),
                connection.clientAddress().getHostAddress(), what, delay.toMillis());
        sleep(delay);
    }

    /** Waits out a delay on the session's own (virtual) thread. */
    public static void sleep(Duration delay) {
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

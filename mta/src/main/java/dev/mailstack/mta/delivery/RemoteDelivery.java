package dev.mailstack.mta.delivery;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.SevenBitDowngrade;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueuedMessage;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.naming.NamingException;

/**
 * Sends a queued message to the recipients of one remote domain, trying its routes in order, at
 * most so many at once per destination, on a session kept from the last message when there is one.
 */
public final class RemoteDelivery implements AutoCloseable {
    private static final Logger LOG = System.getLogger(RemoteDelivery.class.getName());

    /**
     * The SMTP-style reply one recipient got; 2xx delivered, 4xx try later, 5xx refused (never another code).
     * {@code nextHopReports}: the next hop took the DSN request (RFC 3461 §5.2.2), so a success
     * notice is its to send; otherwise ours says "relayed". {@code attempted}: false when the
     * destination had no turn for this delivery (its queue.destination_concurrency deliveries
     * were all under way), so nothing was tried and the attempt does not count. {@code said}: the
     * host's own reply, when {@code reply} is or quotes one; empty when the reply is our own account
     * of what went wrong (no address, no connection, a policy, a broken session).
     */
    public record Outcome(int position, int code, String reply, Optional<HostReply> said, boolean nextHopReports,
                          boolean attempted) {
        public Outcome(int position, int code, String reply, boolean nextHopReports) {
            this(position, code, reply, Optional.empty(), nextHopReports, true);
        }
    }

    /**
     * A reply as a next hop sent it (RFC 3464 §2.3.5's Remote-MTA and §2.3.6's smtp diagnostic):
     * {@code text} without what we add to it (the command it answered, a 552 to RCPT taken as 452).
     */
    public record HostReply(String host, String text) {
    }

    private final MailboxStore store;
    /** Replaced on SIGHUP; a delivery under way keeps the routes it looked up. */
    private volatile Router router;
    private final String hostname;
    private final SmtpTimeouts timeouts;
    private final DestinationLimits limits;
    private final ConnectionCache sessions = new ConnectionCache();
    private final StsPolicies stsPolicies;

    /** Deliveries to one destination at once by default (Postfix's default_destination_concurrency_limit). */
    public static final int DEFAULT_CONCURRENCY = 20;
    /**
     * How long a delivery waits for its destination's turn before it is deferred: short, because
     * the waiting holds a queue worker and the message's lease, and a stop waits for it.
     */
    static final Duration TURN_WAIT = Duration.ofSeconds(10);

    public RemoteDelivery(MailboxStore store, Router router, String hostname) {
        this(store, router, hostname, SmtpTimeouts.rfc5321(), DEFAULT_CONCURRENCY);
    }

    public RemoteDelivery(MailboxStore store, Router router, String hostname, SmtpTimeouts timeouts, int concurrency) {
        this(store, router, hostname, timeouts, concurrency, new StsPolicies(java.time.Clock.systemUTC()));
    }

    /** With the MTA-STS policies known so far (a test's clock, or a cache kept elsewhere). */
    public RemoteDelivery(MailboxStore store, Router router, String hostname, SmtpTimeouts timeouts, int concurrency,
                          StsPolicies stsPolicies) {
        this.stsPolicies = stsPolicies;
        this.store = store;
        this.router = router;
        this.hostname = hostname;
        this.timeouts = timeouts;
        this.limits = new DestinationLimits(concurrency);
    }

    public List<Outcome> deliver(QueuedMessage message, String domain, List<QueuedMessage.PendingRecipient> recipients) {
        Router current = router; // one view of the routes for this delivery, whatever a reload does meanwhile
        List<Route> routes;
        try {
            routes = current.routes(domain);
        } catch (javax.naming.NameNotFoundException e) {
            // NXDOMAIN: the domain does not exist (a typo, most often); bounce now, as Postfix does, not in five days
            return all(recipients, 550, "550 5.1.2 " + domain + ": no such domain (DNS has no name " + domain + ")");
        } catch (NamingException e) {
            return all(recipients, 451, "451 4.4.3 cannot look up mail exchangers for " + domain + ": " + e.getMessage());
        }
        if (routes.isEmpty()) {
            return all(recipients, 556, "556 5.1.10 " + domain + " accepts no mail (null MX)");
        }
        boolean daneDecides = false;
        Optional<DaneLookup> dane = current.dane(domain);
        if (dane.isPresent()) {
            String ascii;
            try {
                ascii = Router.ascii(domain);
            } catch (javax.naming.NameNotFoundException e) {
                return all(recipients, 550, "550 5.1.2 " + domain + ": no such domain (" + e.getMessage() + ")");
            }
            switch (dane.get().apply(ascii, routes)) {
                case DaneLookup.Insecure insecure -> LOG.log(Level.DEBUG, "DANE does not apply queue={0} domain={1}: {2}",
                        message.id(), domain, insecure.why());
                case DaneLookup.Failed failed -> {
                    return all(recipients, 451, "451 4.7.5 DANE: the DNSSEC lookup of the MX records of " + domain
                            + " failed (" + failed.why() + "); trying later");
                }
                case DaneLookup.Secure secure -> {
                    if (secure.routes().isEmpty()) {
                        // RFC 7672 §2.2: a host whose TLSA lookup failed is not used, and none is left
                        return all(recipients, 451, "451 4.7.5 DANE: the TLSA lookup failed for every MX host of " + domain
                                + " (" + String.join(", ", secure.failed()) + "); trying later");
                    }
                    routes = secure.routes();
                    daneDecides = secure.authenticatesEvery();
                    LOG.log(Level.INFO, "DANE queue={0} domain={1} routes={2} failed={3}", message.id(), domain,
                            routes.stream().map(r -> r.host() + "=" + r.tls().name().toLowerCase(java.util.Locale.ROOT)).toList(),
                            secure.failed());
                }
            }
        }
        // RFC 8461 §2: where DANE authenticates every MX host, MTA-STS is not consulted; where it
        // authenticates some, the policy applies to the others (underPolicy leaves DANE routes alone)
        if (!daneDecides && current.mtaStsApplies(domain)) {
            Optional<StsPolicy> policy = stsPolicies.policy(domain, current);
            if (policy.isPresent()) {
                routes = underPolicy(message, domain, policy.get(), routes);
                if (routes.isEmpty()) {
                    return all(recipients, 451, "451 4.7.5 MTA-STS policy of " + domain + " (enforce, mx "
                            + String.join(", ", policy.get().mxPatterns()) + ") names none of its MX hosts; trying later");
                }
            }
        }
        String destination = current.destination(domain);
        if (!limits.acquire(destination, TURN_WAIT)) {
            String reply = "451 4.4.5 no turn for " + destination + " in " + TURN_WAIT.toSeconds()
                    + " s: it already has queue.destination_concurrency deliveries under way; trying later";
            return recipients.stream().map(r -> new Outcome(r.position(), 451, reply, Optional.empty(), false, false)).toList();
        }
        try {
            return inTransactions(message, recipients, routes, current, current.configured(domain));
        } finally {
            limits.release(destination);
        }
    }

    /**
     * Recipients per transaction: RFC 5321 §4.5.3.1.8 has every server take at least 100, and many
     * (large providers among them) take no more, answering the rest 452.
     */
    static final int RECIPIENTS_PER_TRANSACTION = 100;

    /**
     * The recipients in transactions of at most {@link #RECIPIENTS_PER_TRANSACTION}, one after the
     * other (a later one on the session the one before kept). Those a server refused as too many
     * ("452 4.5.3", RFC 5321 §4.5.3.1.10) while it took others go again at once in the next
     * transaction, as Postfix does, instead of waiting the queue's backoff. Outcomes in recipient order.
     */
    private List<Outcome> inTransactions(QueuedMessage message, List<QueuedMessage.PendingRecipient> recipients,
                                         List<Route> routes, Router router, boolean configured) {
        Map<Integer, Outcome> byPosition = new java.util.HashMap<>();
        List<QueuedMessage.PendingRecipient> left = recipients;
        while (!left.isEmpty()) {
            List<QueuedMessage.PendingRecipient> batch = left.subList(0, Math.min(left.size(), RECIPIENTS_PER_TRANSACTION));
            List<Outcome> got = deliver(message, batch, routes, router, configured);
            boolean someTaken = got.stream().anyMatch(o -> o.code() / 100 == 2);
            if (!someTaken && left.size() > batch.size() && got.stream().map(Outcome::reply).distinct().count() == 1
                    && got.getFirst().code() / 100 == 4) {
                // the destination, not a recipient, failed (no connection, a refused session): the
                // rest would only meet the same, one connection timeout after another
                Outcome first = got.getFirst();
                left.forEach(r -> byPosition.put(r.position(), new Outcome(r.position(), first.code(), first.reply(),
                        first.said(), first.nextHopReports(), first.attempted())));
                break;
            }
            List<QueuedMessage.PendingRecipient> again = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                if (someTaken && tooMany(got.get(i))) {
                    again.add(batch.get(i));
                } else {
                    byPosition.put(batch.get(i).position(), got.get(i));
                }
            }
            again.addAll(left.subList(batch.size(), left.size()));
            left = again;
        }
        return recipients.stream().map(r -> byPosition.get(r.position())).toList();
    }

    /** RFC 3463 X.5.3, "too many recipients": a reply about the transaction, not the recipient. */
    private static boolean tooMany(Outcome o) {
        return o.code() == 452 && (o.reply().startsWith("452 4.5.3")
                || o.reply().toLowerCase(java.util.Locale.ROOT).contains("too many recipients"));
    }

    /**
     * RFC 8461 §5: in enforce mode only the MX hosts the policy names, each with a certificate
     * verified for its name (none left: the caller defers); in testing mode every host as before,
     * the ones enforce would drop logged; mode none is no policy.
     */
    private static List<Route> underPolicy(QueuedMessage message, String domain, StsPolicy policy, List<Route> routes) {
        // a host DANE authenticates stays as it is: MTA-STS must not override DANE (RFC 8461 §2)
        List<Route> matching = routes.stream().filter(r -> r.tls() == TlsPolicy.DANE || policy.matches(r.host())).toList();
        List<String> others = routes.stream().filter(r -> r.tls() != TlsPolicy.DANE && !policy.matches(r.host()))
                .map(Route::host).toList();
        return switch (policy.mode()) {
            case ENFORCE -> {
                if (!others.isEmpty()) {
                    LOG.log(Level.WARNING, "MTA-STS enforce skips MX hosts the policy does not name queue={0} domain={1} hosts={2}",
                            message.id(), domain, others);
                }
                yield matching.stream().map(r -> r.tls() == TlsPolicy.DANE ? r : r.with(TlsPolicy.VERIFY)).toList();
            }
            case TESTING -> {
                if (!others.isEmpty()) {
                    LOG.log(Level.WARNING, "MTA-STS testing: enforce would skip these MX hosts queue={0} domain={1} hosts={2}",
                            message.id(), domain, others);
                }
                yield routes;
            }
            case NONE -> routes;
        };
    }

    /** {@code configured}: the routes are the relay host or a static route, not what DNS gave ({@link Router#configured}). */
    private List<Outcome> deliver(QueuedMessage message, List<QueuedMessage.PendingRecipient> recipients, List<Route> routes,
                                  Router router, boolean configured) {
        try (SevenBitCopy sevenBit = new SevenBitCopy(message)) {
            return deliver(message, recipients, routes, router, sevenBit, configured);
        }
    }

    private List<Outcome> deliver(QueuedMessage message, List<QueuedMessage.PendingRecipient> recipients, List<Route> routes,
                                  Router router, SevenBitCopy sevenBit, boolean configured) {
        NextHopTrust trust = router.trust();
        Failure last = new Failure(451, "451 4.4.1 no route");
        boolean every5xx = true;
        for (Route route : routes) {
            Optional<SmtpClient> kept = sessions.take(route, trust);
            if (kept.isPresent()) {
                SmtpClient client = kept.get();
                try {
                    List<Outcome> outcomes = transaction(client, message, recipients, route, sevenBit, true);
                    sessions.put(route, client);
                    return outcomes;
                } catch (KeptSessionRefused r) {
                    // "421 too many messages on this connection", "451 4.7.0": often about the session,
                    // not the message; a new connection below tries once before the message waits
                    client.close();
                    LOG.log(Level.INFO, "kept session refused MAIL, connecting again queue={0} route={1}: {2}",
                            message.id(), route, r.reply.text());
                    break;
                } catch (Unsuitable u) {
                    sessions.put(route, client); // fine for other mail; this message tries the other hosts
                    last = u.failure;
                    every5xx = u.failure.code() >= 500;
                    break;
                } catch (IOException | RuntimeException e) {
                    // before the message went out (a loss after DATA's 354 is answered inside
                    // transaction): this session is spent, a new connection below takes the message
                    client.abort();
                    LOG.log(Level.INFO, "kept session failed, connecting again queue={0} route={1}: {2}", message.id(),
                            route, e.getMessage());
                    break;
                }
            }
        }
        int tried = 0;
        for (Route route : routes) {
            if (tried >= MAX_ADDRESSES) {
                break; // the hosts left are not even looked up: one without an address must not defer a refusal
            }
            List<InetAddress> addresses;
            try {
                addresses = router.addresses(route.host(), configured);
            } catch (UnknownHostException e) {
                // RFC 3463 X.4.3: the directory server failed; it may answer next time
                last = new Failure(451, "451 4.4.3 " + route.host() + ": address lookup failed (" + e.getMessage() + ")");
                every5xx = false;
                continue;
            }
            if (addresses.isEmpty() && configured) {
                last = new Failure(451, "451 4.3.5 " + route + ", the next hop configured in queue.relay_host or"
                        + " queue.static_routes, does not resolve (DNS has no A or AAAA record for it)");
                every5xx = false;
                continue;
            }
            if (addresses.isEmpty()) {
                // RFC 5321 §5.1: an unusable MX, or an implicit MX without an address, is an error;
                // it stays a refusal only if no other host is merely unreachable for now
                last = new Failure(550, "550 5.4.4 " + route.host() + ": no such host (DNS has no A or AAAA record for it)");
                continue;
            }
            for (InetAddress address : addresses) {
                if (++tried > MAX_ADDRESSES) {
                    break;
                }
                Attempt attempt = attempt(message, recipients, route, address, route.tls(), trust, sevenBit, configured);
                // not when the certificate had to be verified: plaintext would only hand the
                // password to whoever made the handshake fail
                if (attempt instanceof Failure f && f.tlsBroken() && route.tls().plaintextAllowed() && !route.verifies()) {
                    LOG.log(Level.INFO, "TLS failed, trying again without it queue={0} route={1} address={2}: {3}",
                            message.id(), route, address.getHostAddress(), f.reply());
                    attempt = attempt(message, recipients, route, address, TlsPolicy.NONE, trust, sevenBit, configured);
                }
                switch (attempt) {
                    case Done done -> {
                        return done.outcomes();
                    }
                    case Failure f -> {
                        LOG.log(Level.INFO, "delivery attempt failed queue={0} route={1} address={2}: {3}", message.id(),
                                route, address.getHostAddress(), f.reply());
                        last = f;
                        every5xx &= f.code() >= 500;
                    }
                }
            }
        }
        // A host that refuses us outright (5xx greeting) is skipped for the next, as Postfix does; only
        // when every one of them refuses is the mail refused, otherwise it waits for a retry.
        return every5xx ? all(recipients, last.code(), last.reply(), last.said())
                : last.code() < 500 ? all(recipients, 451, last.reply(), last.said())
                : all(recipients, 451, "451 4.4.0 " + last.reply());
    }

    /** Addresses tried in one delivery at most, over every route (Postfix's smtp_mx_address_limit). */
    static final int MAX_ADDRESSES = 5;

    /** What one connection to one address came to. */
    private sealed interface Attempt {
    }

    /** The transaction happened: every recipient has its reply. */
    private record Done(List<Outcome> outcomes) implements Attempt {
    }

    /**
     * No transaction with this host (no connection, refused greeting or EHLO, TLS or login trouble,
     * an extension this message needs missing): try the next. {@code said} as in {@link Outcome}.
     */
    private record Failure(int code, String reply, boolean tlsBroken, Optional<HostReply> said) implements Attempt {
        Failure(int code, String reply) {
            this(code, reply, false, Optional.empty());
        }

        Failure(int code, String reply, boolean tlsBroken) {
            this(code, reply, tlsBroken, Optional.empty());
        }

        /** The host's own refusal, with what we asked. */
        static Failure saidBy(Route route, SmtpClient.Reply reply, String asked) {
            return new Failure(reply.code(), reply.text() + " (" + asked + ")", false,
                    Optional.of(new HostReply(route.host(), reply.text())));
        }
    }

    /** A kept session's MAIL got 4yz: the session goes, and a new connection is tried before the message waits. */
    private static final class KeptSessionRefused extends Exception {
        final SmtpClient.Reply reply;

        KeptSessionRefused(SmtpClient.Reply reply) {
            super(reply.text(), null, false, false);
            this.reply = reply;
        }
    }

    /**
     * A host that lacks what this message needs (SMTPUTF8, or 8BITMIME for 8-bit octets no
     * conversion can encode): said of this host only, so the other MX hosts are tried, and the
     * message bounces only when every one of them lacks it.
     */
    private static final class Unsuitable extends Exception {
        final Failure failure;

        Unsuitable(int code, String reply) {
            super(reply, null, false, false);
            this.failure = new Failure(code, reply);
        }
    }

    private Attempt attempt(QueuedMessage message, List<QueuedMessage.PendingRecipient> recipients, Route route,
                            InetAddress address, TlsPolicy tls, NextHopTrust trust, SevenBitCopy sevenBit,
                            boolean configured) {
        SmtpClient client = null;
        try {
            client = SmtpClient.connect(new InetSocketAddress(address, route.port()), route, tls, trust, timeouts);
            Failure refused = open(client, route, address, tls, configured);
            if (refused != null) {
                return refused;
            }
            Done done = new Done(transaction(client, message, recipients, route, sevenBit, false));
            sessions.put(route, client); // kept for the next message to this route
            client = null;
            return done;
        } catch (Unsuitable u) {
            sessions.put(route, client); // no transaction began: fine for the next message
            client = null;
            return u.failure;
        } catch (KeptSessionRefused r) {
            throw new AssertionError("only a kept session's transaction ends this way", r); // kept is false here
        } catch (SmtpClient.TlsHandshakeFailed e) {
            return new Failure(451, "451 4.7.5 " + route + ": " + e.getMessage(), true);
        } catch (SmtpClient.ProtocolError e) {
            // RFC 5321 §4.2.1: the session is over; the message waits for a retry (RFC 3463 X.5.0)
            return new Failure(451, "451 4.5.0 " + route + ": " + e.getMessage());
        } catch (IOException e) {
            return new Failure(451, "451 4.4.1 " + route + ": " + e.getMessage());
        } finally {
            if (client != null) {
                client.close();
            }
        }
    }

    /** Later deliveries go by these routes, relay host and TLS policies (a configuration reload). */
    public void use(Router changed) {
        router = changed;
    }

    /** Says QUIT on the sessions kept for the next message. */
    @Override
    public void close() {
        sessions.close();
    }

    /**
     * Whether a greeting or EHLO reply starts with our own name (RFC 5321 §4.3.1 and §4.1.1.1: the
     * server's name comes first): the next hop is this server, or another with its name.
     */
    private boolean namesUs(SmtpClient.Reply reply) {
        if (reply.lines().isEmpty()) {
            return false;
        }
        String first = reply.lines().getFirst().strip();
        int space = first.indexOf(' ');
        return (space < 0 ? first : first.substring(0, space)).equalsIgnoreCase(hostname);
    }

    /**
     * Mail sent back to ourselves would come in as relaying (554 "relay access denied") or go round
     * until the hop count stops it; Postfix's clearer "loops back to myself" (RFC 3463 X.4.6,
     * routing loop) says what to fix. A next hop the configuration names (relay host, static
     * route) is the administrator's to fix: its mail waits (4.3.5, as Postfix) instead of bouncing.
     */
    private Failure loop(Route route, InetAddress address, String how, boolean configured) {
        LOG.log(Level.WARNING, "mail loops back to this server: {0} ({1}) {2} with our own name {3}; {4}", route,
                address.getHostAddress(), how, hostname, configured
                        ? "correct queue.relay_host or queue.static_routes, or give this server another hostname"
                        : "add its domain to the local domains, or correct its MX record");
        return configured
                ? new Failure(451, "451 4.3.5 mail for " + route + ", the next hop configured in queue.relay_host or"
                        + " queue.static_routes, loops back to myself (it " + how + " with my own name " + hostname + ")")
                : new Failure(554, "554 5.4.6 mail for " + route.host() + " loops back to myself (it " + how
                        + " with my own name " + hostname + ")");
    }

    /**
     * Greeting, EHLO, TLS as the policy wants, and the relay login; null when the session is ready
     * for mail, else why not ({@link #loop} when the next hop is this server; {@code configured}:
     * the route is the relay host or a static route).
     */
    private Failure open(SmtpClient client, Route route, InetAddress address, TlsPolicy tls, boolean configured)
            throws IOException {
        SmtpClient.Reply greeting = client.expect("the greeting", client.greeting(), SmtpClient.POSITIVE);
        if (!greeting.ok()) {
            return Failure.saidBy(route, greeting, "greeting of " + route);
        }
        if (namesUs(greeting)) {
            return loop(route, address, "greeted us", configured);
        }
        SmtpClient.Reply hello = client.expect("EHLO/HELO", client.hello(hostname, tls), SmtpClient.POSITIVE);
        if (!hello.ok()) {
            return Failure.saidBy(route, hello, "reply to EHLO/HELO from " + route);
        }
        if (namesUs(hello)) {
            return loop(route, address, "answered EHLO", configured);
        }
        if (!client.secure() && !tls.plaintextAllowed()) {
            return new Failure(451, "451 4.7.4 " + route + " does not offer STARTTLS, and the TLS policy for it is "
                    + tls.name().toLowerCase(java.util.Locale.ROOT)
                    + (route.login().isPresent() ? " (queue.relay_host_tls)"
                    : tls == TlsPolicy.DANE ? " (its TLSA records: DANE, RFC 7672 §2.2)"
                    : " (queue.tls_policy, the domain's MTA-STS policy, or unusable TLSA records)"));
        }
        if (route.login().isPresent()) {
            // with verifyCertificate a secure session has passed the check in the handshake, and
            // none other gets the password, loopback included: a local user could be listening
            // on a relay port above 1024 while the relay is down
            boolean verify = route.login().get().verifyCertificate();
            if (!client.secure() && (verify || !address.isLoopbackAddress())) {
                return new Failure(451, "451 4.7.4 not sending the relay host password to " + route + " without "
                        + (verify ? "a verified TLS session" : "TLS") + ": "
                        + (tls == TlsPolicy.NONE ? "queue.relay_host_tls is none" : "it offers no STARTTLS")
                        + (verify && address.isLoopbackAddress() ? " (on loopback, queue.relay_host_tls_verify = false allows it)" : ""));
            }
            SmtpClient.Reply auth = client.authenticate(route.login().get());
            if (auth == null) {
                return new Failure(451, "451 4.7.4 " + route + " offers no AUTH PLAIN or LOGIN for queue.relay_host_user");
            }
            if (auth.code() != 235) {
                // RFC 4954 §6: 235 is the only success; a 334 to our last response would want more
                // than we have (the session then ends, unused)
                // Postfix defers too (smtp_sasl_auth_soft_bounce): a fixed password must not bounce the queue.
                return new Failure(451, "451 4.7.0 " + route + " refused our login (" + auth.text()
                        + "); check queue.relay_host_user and queue.relay_host_password_file");
            }
        }
        return null;
    }

    /** {@code kept}: the session carried an earlier message (see {@link KeptSessionRefused}). */
    private List<Outcome> transaction(SmtpClient client, QueuedMessage message, List<QueuedMessage.PendingRecipient> recipients,
                                      Route route, SevenBitCopy sevenBit, boolean kept)
            throws IOException, Unsuitable, KeptSessionRefused {
        // RFC 6531 §3.4: a UTF-8 address goes only with SMTPUTF8, whether or not the envelope was
        // queued asking for it (a report to, or a forward from, such an address); UTF-8 in the
        // header only when it was, the mail of a client that used SMTPUTF8
        boolean utf8Needed = !asciiAddresses(message, recipients)
                || message.envelope().smtpUtf8() && utf8Header(message);
        if (utf8Needed && !client.has("SMTPUTF8")) {
            // RFC 6531 §3.2: a message that needs SMTPUTF8 cannot go to a server without it.
            throw new Unsuitable(553, "553 5.6.7 " + route + " does not support SMTPUTF8");
        }
        boolean eightBit = message.envelope().body8bit();
        if (!eightBit || client.has("8BITMIME")) {
            return transaction(client, message, recipients, route, utf8Needed, eightBit, Optional.empty(), kept);
        }
        // Converted before the envelope goes out: a message the conversion cannot make all 7-bit
        // (8-bit octets in an address, a field name, a line that is no field: malformed mail) is
        // refused here, not sent in a DATA that would have to be broken off.
        Optional<MessageSpool.Spooled> converted = sevenBit.get();
        if (converted.isEmpty()) {
            // RFC 6152 §3: no 8-bit data to a server without 8BITMIME; RFC 3463 X.6.3
            throw new Unsuitable(554, "554 5.6.3 " + route + " does not support 8BITMIME and the message"
                    + " has 8-bit octets that cannot be converted to 7 bits");
        }
        return transaction(client, message, recipients, route, utf8Needed, false, converted, kept);
    }

    /** One SMTP transaction; {@code sevenBit}, when present, is what DATA sends (RFC 6152 §3's downgrade). */
    private List<Outcome> transaction(SmtpClient client, QueuedMessage message, List<QueuedMessage.PendingRecipient> recipients,
                                      Route route, boolean utf8Needed, boolean eightBit,
                                      Optional<MessageSpool.Spooled> sevenBit, boolean kept)
            throws IOException, KeptSessionRefused {
        StringBuilder mail = new StringBuilder("MAIL FROM:<").append(message.envelope().returnPath()).append('>');
        if (client.has("SIZE")) {
            mail.append(" SIZE=").append(sevenBit.isPresent() ? sevenBit.get().size() : message.size()); // what DATA sends
        }
        if (eightBit) {
            mail.append(" BODY=8BITMIME");
        }
        if (utf8Needed) {
            mail.append(" SMTPUTF8");
        }
        boolean dsn = client.has("DSN");
        if (dsn) {
            message.envelope().ret().ifPresent(r -> mail.append(" RET=").append(r));
            message.envelope().envId().ifPresent(e -> mail.append(" ENVID=").append(e));
        }
        List<String> envelope = new ArrayList<>();
        envelope.add(mail.toString());
        for (QueuedMessage.PendingRecipient r : recipients) {
            StringBuilder rcpt = new StringBuilder("RCPT TO:<").append(r.recipient().address()).append('>');
            if (dsn) {
                r.recipient().dsnNotify().ifPresent(n -> rcpt.append(" NOTIFY=").append(n));
                r.recipient().orcpt().ifPresent(o -> rcpt.append(" ORCPT=").append(o));
            }
            envelope.add(rcpt.toString());
        }
        boolean pipelining = client.has("PIPELINING");
        List<SmtpClient.Reply> replies;
        SmtpClient.Reply go = null;
        if (pipelining) {
            // RFC 2920 §3.1: MAIL, every RCPT and DATA in one send; DATA is last in the group
            envelope.add("DATA");
            replies = client.pipeline(envelope);
            go = replies.getLast();
        } else {
            replies = new ArrayList<>();
            for (String command : envelope) {
                SmtpClient.Reply reply = client.command(command);
                replies.add(reply);
                if (replies.size() == 1 && !reply.ok()) {
                    break; // MAIL refused: no RCPT
                }
            }
        }
        // RFC 5321 §4.3.2: MAIL and RCPT succeed with 2yz, DATA with 354; any other positive or
        // intermediate reply means the server is out of step, and ends the session
        SmtpClient.Reply from = client.expect("MAIL", replies.getFirst(), SmtpClient.POSITIVE);
        Map<Integer, Outcome> outcomes = new LinkedHashMap<>();
        List<QueuedMessage.PendingRecipient> accepted = new ArrayList<>();
        if (from.ok()) {
            for (int i = 0; i < recipients.size(); i++) {
                QueuedMessage.PendingRecipient r = recipients.get(i);
                SmtpClient.Reply sent = client.expect("RCPT", replies.get(i + 1), SmtpClient.POSITIVE);
                SmtpClient.Reply reply = tooManyRecipients(sent);
                if (reply.ok()) {
                    accepted.add(r);
                } else {
                    outcomes.put(r.position(), new Outcome(r.position(), reply.code(), reply.text(),
                            Optional.of(new HostReply(route.host(), sent.text())), false, true));
                }
            }
        }
        if (go == null && !accepted.isEmpty()) {
            go = client.dataCommand();
        }
        if (go != null) {
            go = client.expect("DATA", go, code -> code == 354);
        }
        if (go != null && go.code() == 354 && accepted.isEmpty()) {
            // RFC 2920 §3.1: a server that took DATA with no recipient gets an empty message to close it
            client.content(InputStream.nullInputStream());
        }
        if (!from.ok()) {
            if (kept && from.code() < 500) {
                throw new KeptSessionRefused(from);
            }
            return all(recipients, from.code(), from.text(), Optional.of(new HostReply(route.host(), from.text())));
        }
        if (!accepted.isEmpty()) {
            SmtpClient.Reply end;
            boolean hostSaid = true;
            try {
                end = go.code() != 354 ? go : client.expect("the end of the data",
                        sevenBit.isPresent() ? send(client, sevenBit.get()) : sendAsIs(client, message), SmtpClient.POSITIVE);
            } catch (SmtpClient.ProtocolError e) {
                // after the data no other address gets it either (see below); the session has ended
                end = new SmtpClient.Reply(451, List.of("4.5.0 " + route + ": " + e.getMessage()));
                hostSaid = false;
            } catch (IOException e) {
                // The message may have reached the server whole: no other address gets it now, the
                // next attempt does (a duplicate then is SMTP's own risk, RFC 5321 §6.1).
                client.abort();
                hostSaid = false;
                end = new SmtpClient.Reply(451, List.of("4.4.2 " + route + ": connection lost while sending the message: "
                        + e.getMessage()));
            }
            for (QueuedMessage.PendingRecipient r : accepted) {
                outcomes.put(r.position(), new Outcome(r.position(), end.code(), end.text(),
                        hostSaid ? Optional.of(new HostReply(route.host(), end.text())) : Optional.empty(), dsn && end.ok(), true));
            }
            LOG.log(Level.INFO, "relayed queue={0} route={1} tls={2} pipelined={3} reply={4} recipients={5}", message.id(),
                    route, client.secure() ? "on" : "off", pipelining, end.text(), accepted.size());
        }
        List<Outcome> out = new ArrayList<>();
        for (QueuedMessage.PendingRecipient r : recipients) {
            out.add(outcomes.get(r.position()));
        }
        return out;
    }

    /**
     * RFC 5321 §4.5.3.1.10: a 552 to RCPT is the "too many recipients" of RFC 821 usage, to be
     * taken as 452, a temporary failure, whatever its text says; Postfix does the same, enhanced
     * code included (5.x.y becomes 4.x.y).
     */
    private static SmtpClient.Reply tooManyRecipients(SmtpClient.Reply rcpt) {
        if (rcpt.code() != 552) {
            return rcpt;
        }
        List<String> lines = new ArrayList<>(rcpt.lines());
        if (lines.getFirst().startsWith("5.")) {
            lines.set(0, "4" + lines.getFirst().substring(1));
        }
        return new SmtpClient.Reply(452, List.copyOf(lines));
    }

    /** Whether this delivery's addresses are all ASCII: a UTF-8 one at another domain is not this hop's business. */
    private static boolean asciiAddresses(QueuedMessage message, List<QueuedMessage.PendingRecipient> recipients) {
        return isAscii(message.envelope().returnPath()) && recipients.stream().allMatch(r -> isAscii(r.recipient().address()));
    }

    /**
     * Whether the header of a message sent with SMTPUTF8 has UTF-8 (RFC 6531 §3.2). Clients often
     * ask for SMTPUTF8 on plain ASCII mail; such mail still goes to a next hop without SMTPUTF8
     * instead of bouncing (as Postfix's smtputf8_autodetect does).
     */
    private boolean utf8Header(QueuedMessage message) throws IOException {
        long header = store.facts(message.content()).headerSize();
        try (InputStream in = new BufferedInputStream(store.openContent(message.contentKey(), 0, header))) {
            for (int b; (b = in.read()) >= 0; ) {
                if (b >= 0x80) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 0x80);
    }

    private SmtpClient.Reply sendAsIs(SmtpClient client, QueuedMessage message) throws IOException {
        try (InputStream content = withoutReturnPath(store.openContent(message.contentKey(), 0))) {
            return client.content(content);
        }
    }

    /**
     * The message as RFC 6152 §3 has it sent to a next hop without 8BITMIME (8-bit parts as
     * quoted-printable or base64): made when the first such host is met, shared by the hosts
     * after it in the same delivery, and deleted when the delivery ends.
     */
    private final class SevenBitCopy implements AutoCloseable {
        private final QueuedMessage message;
        private MessageSpool.Spooled copy;
        private boolean eightBitLeft;

        SevenBitCopy(QueuedMessage message) {
            this.message = message;
        }

        /** The converted message; empty when it still has octets no conversion could encode. */
        Optional<MessageSpool.Spooled> get() throws IOException {
            if (copy == null) {
                MessageSummary summary = MessageSummary.decode(store.facts(message.content()).summary());
                try (MessageSpool spool = store.spool()) {
                    EightBitWatch out = new EightBitWatch(spool);
                    SevenBitDowngrade.write(offset -> store.openContent(message.contentKey(), offset), summary,
                            message.size(), out);
                    eightBitLeft = out.seen;
                    copy = spool.finish();
                }
            }
            return eightBitLeft ? Optional.empty() : Optional.of(copy);
        }

        @Override
        public void close() {
            if (copy != null) {
                copy.discard(); // the delivery's outcome stands; a file left is swept
            }
        }
    }

    /** Passes bytes on, noting whether any had the high bit set. */
    private static final class EightBitWatch extends java.io.FilterOutputStream {
        boolean seen;

        EightBitWatch(java.io.OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            seen |= (b & 0x80) != 0;
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = off; i < off + len && !seen; i++) {
                seen = b[i] < 0;
            }
            out.write(b, off, len);
        }
    }

    private SmtpClient.Reply send(SmtpClient client, MessageSpool.Spooled content) throws IOException {
        try (InputStream in = withoutReturnPath(content.open())) {
            return client.content(in);
        }
    }

    /** RFC 5321 §4.4: Return-Path is for final delivery; a relay does not send it on. */
    static InputStream withoutReturnPath(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 64 * 1024);
        in.mark(2048);
        byte[] head = in.readNBytes(12);
        if (!new String(head, StandardCharsets.US_ASCII).equalsIgnoreCase("Return-Path:")) {
            in.reset();
            return in;
        }
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                return in;
            }
        }
        return in;
    }

    private static List<Outcome> all(List<QueuedMessage.PendingRecipient> recipients, int code, String reply) {
        return all(recipients, code, reply, Optional.empty());
    }

    private static List<Outcome> all(List<QueuedMessage.PendingRecipient> recipients, int code, String reply,
                                     Optional<HostReply> said) {
        return recipients.stream().map(r -> new Outcome(r.position(), code, reply, said, false, true)).toList();
    }
}

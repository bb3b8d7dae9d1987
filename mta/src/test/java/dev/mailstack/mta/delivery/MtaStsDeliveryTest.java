package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.mailstack.mta.MtaFixture;
import dev.mailstack.mta.queue.QueueSettings;
import dev.mailstack.mta.smtp.SmtpSettings;
import dev.mailstack.net.TlsContext;
import dev.mailstack.store.MailboxName;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MTA-STS end to end on loopback: a local DNS responder with the domain's MX, _mta-sts TXT and A
 * records, an HTTPS policy server and a real mailstack as the MX, both presenting the test
 * certificate for mta-sts.sts.test and mx.sts.test (resources/sts, signed by the test CA the
 * sender trusts). Every host name resolves to 127.0.0.1; rogue.sts.test and mx.elsewhere.test
 * reach the same listener under names its certificate does not carry.
 */
class MtaStsDeliveryTest {
    static final String DOMAIN = "sts.test";
    static final String ENFORCE = "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n";

    @TempDir
    Path dir;
    SendingStore sender;
    MtaFixture next;
    NextHopTrust testCa;
    TlsContext stsTls;
    HttpsServer policyServer;
    volatile String policy = ENFORCE;
    volatile String mediaType = "text/plain";
    volatile int status = 200;
    volatile boolean chunked;
    final AtomicInteger policyRequests = new AtomicInteger();
    final List<LocalDnsServer> dnsServers = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        Path sts = Files.createDirectories(dir.resolve("sts"));
        for (String name : List.of("sts-ca.pem", "sts-fullchain.pem", "sts-privkey.pem")) {
            try (InputStream in = getClass().getResourceAsStream("/sts/" + name)) {
                Files.copy(in, sts.resolve(name));
            }
        }
        testCa = NextHopTrust.fromPem(sts.resolve("sts-ca.pem"));
        stsTls = TlsContext.fromPem(sts.resolve("sts-fullchain.pem"), sts.resolve("sts-privkey.pem"));
        sender = new SendingStore(dir.resolve("here"));
        next = new MtaFixture(dir.resolve("next"), new Router(Map.of(), Optional.empty(), null),
                SmtpSettings.mx("mx.example.org"), QueueSettings.defaults("mx.example.org"), stsTls);
        policyServer = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        policyServer.setHttpsConfigurator(new HttpsConfigurator(stsTls.sslContext()));
        policyServer.createContext("/.well-known/mta-sts.txt", exchange -> {
            policyRequests.incrementAndGet();
            byte[] body = policy.getBytes(StandardCharsets.US_ASCII);
            exchange.getResponseHeaders().set("Content-Type", mediaType);
            exchange.sendResponseHeaders(status, chunked ? 0 : body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        policyServer.start();
    }

    @AfterEach
    void close() throws Exception {
        policyServer.stop(0);
        for (LocalDnsServer dns : dnsServers) {
            dns.close();
        }
        next.close();
        sender.close();
    }

    /** The zone: sts.test's MX hosts (preference 10, 20, …), its _mta-sts record if any, and every host at 127.0.0.1. */
    private static Optional<LocalDnsServer.Record> sts(String... strings) {
        return Optional.of(new LocalDnsServer.Txt(strings));
    }

    /** The _mta-sts lookup fails (SERVFAIL), as when an attacker blocks it. */
    private static Optional<LocalDnsServer.Record> blocked() {
        return Optional.of(new LocalDnsServer.ServFail());
    }

    private LocalDnsServer dns(Optional<LocalDnsServer.Record> stsRecord, String... mxHosts) throws Exception {
        Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
        List<LocalDnsServer.Record> mx = new ArrayList<>();
        for (int i = 0; i < mxHosts.length; i++) {
            mx.add(new LocalDnsServer.Mx(10 * (i + 1), mxHosts[i] + "."));
        }
        zone.put(DOMAIN, mx);
        stsRecord.ifPresent(r -> zone.put("_mta-sts." + DOMAIN, List.of(r, new LocalDnsServer.Txt("v=spf1 -all"))));
        for (String host : List.of("mta-sts.sts.test", "mx.sts.test", "rogue.sts.test", "mx.elsewhere.test")) {
            zone.put(host, List.of(new LocalDnsServer.A("127.0.0.1")));
        }
        LocalDnsServer dns = new LocalDnsServer(zone);
        dnsServers.add(dns);
        return dns;
    }

    private Router router(LocalDnsServer dns) {
        return new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(), testCa, true,
                policyServer.getAddress().getPort());
    }

    private RemoteDelivery.Outcome deliver(RemoteDelivery remote) throws Exception {
        return sender.deliver(remote, DOMAIN);
    }

    private RemoteDelivery.Outcome deliver(Router router) throws Exception {
        return sender.deliver(router, DOMAIN);
    }

    private long received() throws Exception {
        return next.alice().status(MailboxName.INBOX).messages();
    }

    @Test
    void enforceDeliversToAnMxThePolicyNamesWithAVerifiedCertificate() throws Exception {
        RemoteDelivery.Outcome sent = deliver(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")));
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
        assertEquals(1, policyRequests.get());
    }

    @Test
    void enforceDefersWhenThePolicyNamesNoMxHostAndSendsNothing() throws Exception {
        RemoteDelivery.Outcome deferred = deliver(router(dns(sts("v=STSv1; id=1"), "mx.elsewhere.test")));
        assertEquals(451, deferred.code(), deferred.reply());
        assertTrue(deferred.reply().contains("MTA-STS") && deferred.reply().contains("mx.sts.test"), deferred.reply());
        assertEquals(0, received());
    }

    @Test
    void enforceRefusesACertificateNotNamingTheMxAndNeverFallsBackToPlaintext() throws Exception {
        policy = "version: STSv1\nmode: enforce\nmx: *.sts.test\nmax_age: 86400\n";
        RemoteDelivery.Outcome deferred = deliver(router(dns(sts("v=STSv1; id=1"), "rogue.sts.test")));
        assertEquals(451, deferred.code(), deferred.reply());
        assertTrue(deferred.reply().contains("4.7.5") && deferred.reply().contains("rogue.sts.test"), deferred.reply());
        assertEquals(0, received(), "no plaintext retry carried the message");

        // the next MX the policy names, with a certificate for its name, takes it
        RemoteDelivery.Outcome sent = deliver(router(dns(sts("v=STSv1; id=1"), "rogue.sts.test", "mx.sts.test")));
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void enforceRefusesAnMxCertificateFromAnotherAuthority() throws Exception {
        // the policy comes from the cache (fetched under the test CA); the MX is then checked
        // against the JDK's authorities, which do not know the test CA
        LocalDnsServer dns = dns(sts("v=STSv1; id=1"), "mx.sts.test");
        StsPolicies policies = new StsPolicies(java.time.Clock.systemUTC());
        try (RemoteDelivery remote = sender.remote(router(dns), policies)) {
            assertEquals(250, deliver(remote).code());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
        Router systemTrust = new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(),
                NextHopTrust.system(), true, policyServer.getAddress().getPort());
        try (RemoteDelivery remote = sender.remote(systemTrust, policies)) {
            RemoteDelivery.Outcome deferred = deliver(remote);
            assertEquals(451, deferred.code(), deferred.reply());
            assertTrue(deferred.reply().contains("4.7.5"), deferred.reply());
        }
        assertEquals(1, received(), "the untrusted session carried nothing");
    }

    @Test
    void testingModeDeliversToAnMxThePolicyDoesNotName() throws Exception {
        policy = "version: STSv1\nmode: testing\nmx: mx.sts.test\nmax_age: 86400\n";
        RemoteDelivery.Outcome sent = deliver(router(dns(sts("v=STSv1; id=1"), "mx.elsewhere.test")));
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
        assertEquals(1, policyRequests.get(), "the policy was fetched, and did not stop delivery");
    }

    @Test
    void withoutAnStsRecordMailGoesAsBeforeAndNoPolicyIsFetched() throws Exception {
        RemoteDelivery.Outcome sent = deliver(router(dns(Optional.empty(), "mx.elsewhere.test")));
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
        assertEquals(0, policyRequests.get());
    }

    @Test
    void aPolicyServedAsAnotherMediaTypeIsNoPolicy() throws Exception {
        mediaType = "text/html";
        RemoteDelivery.Outcome sent = deliver(router(dns(sts("v=STSv1; id=1"), "mx.elsewhere.test")));
        assertEquals(250, sent.code(), "enforce policy not taken, discovery fails soft: " + sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
        assertEquals(1, policyRequests.get());
    }

    @Test
    void anExplicitTlsPolicyOrMtaStsOffLeavesThePolicyUnasked() throws Exception {
        LocalDnsServer dns = dns(sts("v=STSv1; id=1"), "mx.elsewhere.test");
        Router explicit = new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(DOMAIN, TlsPolicy.MAY),
                testCa, true, policyServer.getAddress().getPort());
        assertEquals(250, deliver(explicit).code());
        Router off = new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(), testCa, false,
                policyServer.getAddress().getPort());
        assertEquals(250, deliver(off).code());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
        assertEquals(0, policyRequests.get());
    }

    @Test
    void aCachedPolicyStillAppliesWhenItsServerIsGone() throws Exception {
        // the record split over two strings, which RFC 8461 §3.1 joins
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; ", "id=1"), "mx.sts.test")))) {
            assertEquals(250, deliver(remote).code());
            assertEquals(1, policyRequests.get());

            // same id: the cache answers
            remote.use(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")));
            assertEquals(250, deliver(remote).code());
            assertEquals(1, policyRequests.get(), "cached, not fetched again");

            // a new id with the server down: the cached enforce policy still refuses an MX it does not name
            policyServer.stop(0);
            remote.use(router(dns(sts("v=STSv1; id=2"), "mx.elsewhere.test")));
            RemoteDelivery.Outcome deferred = deliver(remote);
            assertEquals(451, deferred.code(), deferred.reply());
            assertTrue(deferred.reply().contains("MTA-STS"), deferred.reply());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
        // and without that cache, the same failed discovery lets the mail go as before (RFC 8461 §5.1)
        RemoteDelivery.Outcome sent = deliver(router(dns(sts("v=STSv1; id=2"), "mx.elsewhere.test")));
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 3);
    }

    @Test
    void thePolicyIsFetchedAgainOnlyWhenTheRecordIdChanges() throws Exception {
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.elsewhere.test")))) {
            assertEquals(451, deliver(remote).code(), "enforce, MX not named");
            policy = "version: STSv1\nmode: testing\nmx: mx.sts.test\nmax_age: 86400\n";
            assertEquals(451, deliver(remote).code(), "same id: the cached enforce policy, the new one unseen");
            assertEquals(1, policyRequests.get());

            remote.use(router(dns(sts("v=STSv1; id=2"), "mx.elsewhere.test")));
            RemoteDelivery.Outcome sent = deliver(remote);
            assertEquals(250, sent.code(), "new id: the testing policy fetched: " + sent.reply());
            assertEquals(2, policyRequests.get());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    /** A clock the test moves: no waiting for a policy to expire. */
    static final class MovableClock extends java.time.Clock {
        volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void anExpiredCachedPolicyNoLongerAppliesWhenItCannotBeFetchedAgain() throws Exception {
        policy = "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 60\n";
        MovableClock clock = new MovableClock();
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")), new StsPolicies(clock))) {
            assertEquals(250, deliver(remote).code());
            policyServer.stop(0);
            remote.use(router(dns(Optional.empty(), "mx.elsewhere.test")));
            clock.now = clock.now.plusSeconds(59);
            RemoteDelivery.Outcome deferred = deliver(remote);
            assertEquals(451, deferred.code(), "no record now, but the cached policy has a second left: " + deferred.reply());

            clock.now = clock.now.plusSeconds(1);
            RemoteDelivery.Outcome sent = deliver(remote);
            assertEquals(250, sent.code(), "max_age over: no policy any more: " + sent.reply());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
    }

    @Test
    void anEnforcePolicyKeptInTheStoreOutlivesARestartWhileItsDiscoveryIsBlocked() throws Exception {
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")),
                new StsPolicies(java.time.Clock.systemUTC(), sender.store().domainPolicies()))) {
            assertEquals(250, deliver(remote).code());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);

        // after the restart an attacker blocks the TXT lookup, takes the policy host down and
        // answers the MX lookup with a host of its own
        sender.restart();
        policyServer.stop(0);
        Router attacked = router(dns(blocked(), "mx.elsewhere.test"));
        try (RemoteDelivery remote = sender.remote(attacked,
                new StsPolicies(java.time.Clock.systemUTC(), sender.store().domainPolicies()))) {
            RemoteDelivery.Outcome deferred = deliver(remote);
            assertEquals(451, deferred.code(), deferred.reply());
            assertTrue(deferred.reply().contains("4.7.5") && deferred.reply().contains("MTA-STS"), deferred.reply());
        }
        assertEquals(1, received(), "nothing went to the MX the policy does not name");
        assertEquals(1, policyRequests.get());

        // what a sender that keeps policies in memory only would have done after its restart
        RemoteDelivery.Outcome downgraded = deliver(attacked);
        assertEquals(250, downgraded.code(), downgraded.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
    }

    /** RFC 8461 §8.3: max_age 0 withdraws the policy; the copy kept on disk goes too. */
    @Test
    void aPolicyWithdrawnWithMaxAgeZeroIsNotBroughtBackByARestart() throws Exception {
        StsPolicies policies = new StsPolicies(java.time.Clock.systemUTC(), sender.store().domainPolicies());
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")), policies)) {
            assertEquals(250, deliver(remote).code());
        }
        assertEquals(1, sender.store().domainPolicies().unexpired(java.time.Instant.now()).size(), "kept");
        policy = "version: STSv1\r\nmode: none\r\nmax_age: 0\r\n";
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=2"), "mx.sts.test")), policies)) {
            assertEquals(250, deliver(remote).code());
        }
        assertEquals(2, policyRequests.get());
        assertEquals(List.of(), sender.store().domainPolicies().unexpired(java.time.Instant.now()), "withdrawn");
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
    }

    @Test
    void aFailedFetchIsRememberedForItsRecordIdAndNotTriedAgainForFiveMinutes() throws Exception {
        status = 503;
        MovableClock clock = new MovableClock();
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.elsewhere.test")), new StsPolicies(clock))) {
            assertEquals(250, deliver(remote).code(), "no policy: mail goes as before");
            assertEquals(1, policyRequests.get());
            assertEquals(250, deliver(remote).code());
            assertEquals(1, policyRequests.get(), "the second delivery did not wait on the policy host again");

            status = 200;
            clock.now = clock.now.plus(StsPolicies.FAILURE_MEMORY).minusSeconds(1);
            assertEquals(250, deliver(remote).code(), "still remembered: the enforce policy now served is unseen");
            assertEquals(1, policyRequests.get());

            clock.now = clock.now.plusSeconds(1);
            RemoteDelivery.Outcome deferred = deliver(remote);
            assertEquals(451, deferred.code(), "five minutes on, fetched again: " + deferred.reply());
            assertEquals(2, policyRequests.get());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 3);
    }

    @Test
    void whileAFailedFetchIsRememberedTheCachedPolicyApplies() throws Exception {
        MovableClock clock = new MovableClock();
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")), new StsPolicies(clock))) {
            assertEquals(250, deliver(remote).code());
            assertEquals(1, policyRequests.get());

            // a new id, and the policy host failing: a new record id is fetched at once (RFC 8461
            // §3.3 limits attempts per version ID), its failure remembered, the cached policy kept
            status = 503;
            remote.use(router(dns(sts("v=STSv1; id=2"), "mx.elsewhere.test")));
            for (int i = 0; i < 2; i++) {
                RemoteDelivery.Outcome deferred = deliver(remote);
                assertEquals(451, deferred.code(), deferred.reply());
                assertTrue(deferred.reply().contains("MTA-STS"), deferred.reply());
            }
            assertEquals(2, policyRequests.get(), "one attempt for id 2, not one a delivery");
        }
        assertEquals(1, received());
    }

    @Test
    void aPolicyPastHalfItsMaxAgeIsFetchedAgainAndAFailedRefreshKeepsIt() throws Exception {
        policy = "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 3600\n";
        MovableClock clock = new MovableClock();
        Instant fetched = clock.now;
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")), new StsPolicies(clock))) {
            assertEquals(250, deliver(remote).code());
            remote.use(router(dns(sts("v=STSv1; id=1"), "mx.elsewhere.test")));
            clock.now = fetched.plusSeconds(1799);
            assertEquals(451, deliver(remote).code(), "enforce, from the cache");
            assertEquals(1, policyRequests.get(), "not yet half its max_age");

            status = 503;
            clock.now = fetched.plusSeconds(1800);
            RemoteDelivery.Outcome kept = deliver(remote);
            assertEquals(451, kept.code(), "the refresh failed, the cached enforce policy still counts: " + kept.reply());
            assertEquals(2, policyRequests.get(), "refreshed at half its max_age, same record id");

            status = 200;
            policy = "version: STSv1\nmode: testing\nmx: mx.sts.test\nmax_age: 3600\n";
            clock.now = clock.now.plus(StsPolicies.FAILURE_MEMORY);
            RemoteDelivery.Outcome sent = deliver(remote);
            assertEquals(250, sent.code(), "refreshed: the testing policy now served replaced it: " + sent.reply());
            assertEquals(3, policyRequests.get());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
    }

    @Test
    void aPolicyIsRefreshedAfterADayAtMostEvenWhileItsRecordIsBlocked() throws Exception {
        policy = "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 604800\n";
        MovableClock clock = new MovableClock();
        Instant fetched = clock.now;
        try (RemoteDelivery remote = sender.remote(router(dns(sts("v=STSv1; id=1"), "mx.sts.test")), new StsPolicies(clock))) {
            assertEquals(250, deliver(remote).code());
            // an attacker blocks the record from here on, hoping the policy runs out unrefreshed
            remote.use(router(dns(blocked(), "mx.elsewhere.test")));
            clock.now = fetched.plus(StsPolicies.REFRESH_AT_MOST).minusSeconds(1);
            assertEquals(451, deliver(remote).code(), "enforce, from the cache");
            assertEquals(1, policyRequests.get(), "a week's max_age: not yet a day old");

            policy = "version: STSv1\nmode: testing\nmx: mx.sts.test\nmax_age: 604800\n";
            clock.now = fetched.plus(StsPolicies.REFRESH_AT_MOST);
            RemoteDelivery.Outcome sent = deliver(remote);
            assertEquals(2, policyRequests.get(), "fetched again after a day, under the id it had, record or not");
            assertEquals(250, sent.code(), "the testing policy now served replaced it: " + sent.reply());
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
    }

    @Test
    void daneTakesPrecedenceOverAnEnforcePolicyWhereTheMxHasUsableTlsaRecords() throws Exception {
        // the enforce policy names only mx.sts.test; mx.elsewhere.test has a DANE-EE record its
        // certificate matches, in a signed zone: RFC 8461 §2, DANE decides and the policy is not asked
        X509Certificate leaf;
        try (InputStream in = Files.newInputStream(dir.resolve("sts/sts-fullchain.pem"))) {
            leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        byte[] spki = MessageDigest.getInstance("SHA-256").digest(leaf.getPublicKey().getEncoded());
        for (boolean tlsa : List.of(true, false)) {
            Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
            zone.put(DOMAIN, List.of(new LocalDnsServer.Mx(10, "mx.elsewhere.test.")));
            zone.put("_mta-sts." + DOMAIN, List.of(new LocalDnsServer.Txt("v=STSv1; id=1")));
            for (String host : List.of("mta-sts.sts.test", "mx.elsewhere.test")) {
                zone.put(host, List.of(new LocalDnsServer.A("127.0.0.1")));
            }
            if (tlsa) {
                zone.put("_" + next.smtp.port() + "._tcp.mx.elsewhere.test", List.of(new LocalDnsServer.Tlsa(3, 1, 1, spki)));
            }
            LocalDnsServer dns = new LocalDnsServer(zone, true);
            dnsServers.add(dns);
            Router daneAndSts = new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(), testCa, true,
                    policyServer.getAddress().getPort(), true);
            RemoteDelivery.Outcome outcome = deliver(daneAndSts);
            if (tlsa) {
                assertEquals(250, outcome.code(), "DANE authenticated the MX the policy does not name: " + outcome.reply());
                assertEquals(0, policyRequests.get(), "MTA-STS not consulted");
            } else {
                // without TLSA records (securely denied) the enforce policy decides, as before
                assertEquals(451, outcome.code(), outcome.reply());
                assertTrue(outcome.reply().contains("MTA-STS"), outcome.reply());
                assertEquals(1, policyRequests.get());
            }
        }
        assertEquals(1, received());
    }

    @Test
    void anEnforcePolicyStillRulesTheMxHostsDaneDoesNotAuthenticate() throws Exception {
        // mx.sts.test has a TLSA record its certificate does not match (an attacker's MX would not
        // either); mx.elsewhere.test has none and the enforce policy does not name it: DANE for one
        // host must not switch the policy off for the other (RFC 8461 §2 only keeps it from DANE's)
        Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
        zone.put(DOMAIN, List.of(new LocalDnsServer.Mx(10, "mx.sts.test."), new LocalDnsServer.Mx(20, "mx.elsewhere.test.")));
        zone.put("_mta-sts." + DOMAIN, List.of(new LocalDnsServer.Txt("v=STSv1; id=1")));
        for (String host : List.of("mta-sts.sts.test", "mx.sts.test", "mx.elsewhere.test")) {
            zone.put(host, List.of(new LocalDnsServer.A("127.0.0.1")));
        }
        zone.put("_" + next.smtp.port() + "._tcp.mx.sts.test", List.of(new LocalDnsServer.Tlsa(3, 1, 1, new byte[32])));
        LocalDnsServer dns = new LocalDnsServer(zone, true);
        dnsServers.add(dns);
        RemoteDelivery.Outcome outcome = deliver(new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(),
                testCa, true, policyServer.getAddress().getPort(), true));
        assertEquals(451, outcome.code(), outcome.reply());
        assertEquals(1, policyRequests.get(), "the policy was asked for the host DANE does not cover");
        assertEquals(0, received(), "not sent to the host the policy does not name");
    }

    @Test
    void enforceDefersWhenTheNamedMxOffersNoStarttlsAndNeverSendsInPlaintext() throws Exception {
        try (MtaFixture plain = new MtaFixture(dir.resolve("plain"), new Router(Map.of(), Optional.empty(), null),
                SmtpSettings.mx("mx.example.org"), QueueSettings.defaults("mx.example.org"), null)) {
            LocalDnsServer dns = dns(sts("v=STSv1; id=1"), "mx.sts.test");
            Router toPlain = new Router(Map.of(), Optional.empty(), dns.url(), plain.smtp.port(), Map.of(), testCa, true,
                    policyServer.getAddress().getPort());
            RemoteDelivery.Outcome deferred = deliver(toPlain);
            assertEquals(451, deferred.code(), deferred.reply());
            assertTrue(deferred.reply().contains("does not offer STARTTLS") && deferred.reply().contains("MTA-STS"),
                    deferred.reply());
            assertEquals(0, plain.alice().status(MailboxName.INBOX).messages(), "nothing went in plaintext");
            assertEquals(1, policyRequests.get());
        }
    }

    @Test
    void aPolicyLargerThanSixtyFourKibIsNoPolicyAndIsLogged() throws Exception {
        // a valid enforce policy, made too large by an extension field (RFC 8461 §3.3: 64 KiB at most)
        policy = ENFORCE + "x_padding: " + "a".repeat(64 * 1024) + "\r\n";
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger(StsPolicies.class.getName());
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getLevel() == java.util.logging.Level.WARNING) {
                    warnings.add(new java.util.logging.SimpleFormatter().formatMessage(r));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            for (boolean asChunks : List.of(false, true)) {
                chunked = asChunks; // with Content-Length, then in chunks without one
                RemoteDelivery.Outcome sent = deliver(router(dns(sts("v=STSv1; id=1"), "mx.elsewhere.test")));
                assertEquals(250, sent.code(), "chunked=" + asChunks + ": the enforce policy not taken: " + sent.reply());
            }
        } finally {
            logger.removeHandler(capture);
        }
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
        assertEquals(2, policyRequests.get());
        assertEquals(2, warnings.size(), warnings.toString());
        for (String w : warnings) {
            assertTrue(w.contains("MTA-STS policy unavailable domain=sts.test") && w.contains("than 65536"), w);
        }
    }
}

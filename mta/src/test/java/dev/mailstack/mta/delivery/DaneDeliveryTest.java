package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.mta.queue.QueueSettings;
import dev.mailstack.mta.smtp.SmtpSettings;
import dev.mailstack.net.TlsContext;
import dev.mailstack.store.MailboxName;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DANE (RFC 7672) end to end on loopback: a local DNS responder playing a validating resolver
 * for a signed zone (the AD bit) with dane.test's MX, the hosts' addresses and their TLSA
 * records, and a real mailstack as the MX presenting the test certificate for mx.sts.test
 * (resources/sts). The sender trusts only the JDK's authorities, which do not know the test CA:
 * a certificate accepted here was accepted by its TLSA records alone.
 */
class DaneDeliveryTest {
    static final String DOMAIN = "dane.test";
    static final String MX = "mx.sts.test";
    /** Another name for the same listener, which the certificate does not carry. */
    static final String OTHER_MX = "mx.elsewhere.test";

    @TempDir
    Path dir;
    SendingStore sender;
    MtaFixture next;
    X509Certificate leaf;
    X509Certificate ca;
    final List<LocalDnsServer> dnsServers = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        Path sts = Files.createDirectories(dir.resolve("sts"));
        for (String name : List.of("sts-ca.pem", "sts-fullchain.pem", "sts-privkey.pem")) {
            try (InputStream in = getClass().getResourceAsStream("/sts/" + name)) {
                Files.copy(in, sts.resolve(name));
            }
        }
        try (InputStream in = Files.newInputStream(sts.resolve("sts-fullchain.pem"))) {
            List<?> chain = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            leaf = (X509Certificate) chain.get(0);
            ca = (X509Certificate) chain.get(1);
        }
        sender = new SendingStore(dir.resolve("here"));
        next = new MtaFixture(dir.resolve("next"), new Router(Map.of(), Optional.empty(), null),
                SmtpSettings.mx("mx.example.org"), QueueSettings.defaults("mx.example.org"),
                TlsContext.fromPem(sts.resolve("sts-fullchain.pem"), sts.resolve("sts-privkey.pem")));
    }

    @AfterEach
    void close() throws Exception {
        for (LocalDnsServer dns : dnsServers) {
            dns.close();
        }
        next.close();
        sender.close();
    }

    static byte[] sha256(byte[] data) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(data);
    }

    /** 3 1 1: the SHA-256 of the leaf's public key (the form RFC 7671 §5.1 recommends). */
    LocalDnsServer.Tlsa eeSpki() throws Exception {
        return new LocalDnsServer.Tlsa(3, 1, 1, sha256(leaf.getPublicKey().getEncoded()));
    }

    /** 2 0 1: the SHA-256 of the whole CA certificate. */
    LocalDnsServer.Tlsa taCertificate() throws Exception {
        return new LocalDnsServer.Tlsa(2, 0, 1, sha256(ca.getEncoded()));
    }

    static LocalDnsServer.Tlsa noMatch(int usage) {
        return new LocalDnsServer.Tlsa(usage, 1, 1, new byte[32]);
    }

    String tlsaName(String host) {
        return "_" + next.smtp.port() + "._tcp." + host;
    }

    /**
     * The zone: dane.test's MX hosts in order, every host at 127.0.0.1, and {@code tlsa}'s
     * records per MX host (a {@link LocalDnsServer.ServFail} makes that lookup fail).
     */
    LocalDnsServer dns(boolean signed, Map<String, List<LocalDnsServer.Record>> tlsa, String... mxHosts) throws Exception {
        Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
        List<LocalDnsServer.Record> mx = new ArrayList<>();
        for (int i = 0; i < mxHosts.length; i++) {
            mx.add(new LocalDnsServer.Mx(10 * (i + 1), mxHosts[i] + "."));
        }
        zone.put(DOMAIN, mx);
        for (String host : List.of(MX, OTHER_MX)) {
            zone.put(host, List.of(new LocalDnsServer.A("127.0.0.1")));
        }
        tlsa.forEach((host, records) -> zone.put(tlsaName(host), records));
        LocalDnsServer dns = new LocalDnsServer(zone, signed);
        dnsServers.add(dns);
        return dns;
    }

    Router router(LocalDnsServer dns) {
        return new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(), NextHopTrust.system(), false,
                Router.HTTPS_PORT, true);
    }

    /** How DANE has the first MX host reached under {@code router}: what the delivery went by. */
    static TlsPolicy daneLevel(Router router) throws Exception {
        DaneLookup.Result result = router.dane(DOMAIN).orElseThrow().apply(DOMAIN, router.routes(DOMAIN));
        return ((DaneLookup.Secure) result).routes().getFirst().tls();
    }

    long received() throws Exception {
        return next.alice().status(MailboxName.INBOX).messages();
    }

    String firstMessage() throws Exception {
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
        var ref = next.alice().select(MailboxName.INBOX).messages().getFirst();
        try (InputStream in = next.alice().openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void daneEeMatchingTheMxCertificateDeliversOverTls() throws Exception {
        Router router = router(dns(true, Map.of(MX, List.of(eeSpki())), MX));
        assertEquals(TlsPolicy.DANE, daneLevel(router), "the certificate had to match");
        RemoteDelivery.Outcome sent = sender.deliver(router, DOMAIN);
        assertEquals(250, sent.code(), sent.reply());
        assertTrue(firstMessage().contains("with ESMTPS"), "received over TLS");
    }

    @Test
    void daneEeIgnoresTheNamesOfTheCertificate() throws Exception {
        // RFC 7672 §3.1.1: the MX is reached as mx.elsewhere.test, which the certificate does not name
        Router router = router(dns(true, Map.of(OTHER_MX, List.of(eeSpki())), OTHER_MX));
        assertEquals(TlsPolicy.DANE, daneLevel(router));
        RemoteDelivery.Outcome sent = sender.deliver(router, DOMAIN);
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void aTlsaRecordTheCertificateDoesNotMatchDefersWith475AndSendsNothing() throws Exception {
        RemoteDelivery.Outcome deferred = sender.deliver(router(dns(true, Map.of(MX, List.of(noMatch(3))), MX)), DOMAIN);
        assertEquals(451, deferred.code(), deferred.reply());
        assertTrue(deferred.reply().startsWith("451 4.7.5") && deferred.reply().contains("DANE"), deferred.reply());
        assertEquals(0, received(), "no plaintext retry carried the message");
    }

    @Test
    void anMxWithoutStarttlsUnderUsableTlsaIsDeferredAndNeverSentInPlaintext() throws Exception {
        try (MtaFixture plain = new MtaFixture(dir.resolve("plain"), new Router(Map.of(), Optional.empty(), null),
                SmtpSettings.mx("mx.example.org"), QueueSettings.defaults("mx.example.org"), null)) {
            Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
            zone.put(DOMAIN, List.of(new LocalDnsServer.Mx(10, MX + ".")));
            zone.put(MX, List.of(new LocalDnsServer.A("127.0.0.1")));
            zone.put("_" + plain.smtp.port() + "._tcp." + MX, List.of(eeSpki()));
            try (LocalDnsServer signed = new LocalDnsServer(zone, true)) {
                Router toPlain = new Router(Map.of(), Optional.empty(), signed.url(), plain.smtp.port(), Map.of(),
                        NextHopTrust.system(), false, Router.HTTPS_PORT, true);
                RemoteDelivery.Outcome deferred = sender.deliver(toPlain, DOMAIN);
                assertEquals(451, deferred.code(), deferred.reply());
                assertTrue(deferred.reply().contains("does not offer STARTTLS") && deferred.reply().contains("DANE"),
                        deferred.reply());
            }
            assertEquals(0, plain.alice().status(MailboxName.INBOX).messages(), "nothing went in plaintext");
        }
    }

    /**
     * RFC 7672 §8.1: under DANE the client names the TLSA base domain in SNI. An MX host that is an
     * alias of a provider's host, whose TLSA records are at the expanded name (§2.2.2), is asked
     * for by that name: a next hop that picks its certificate by SNI then serves the one the
     * records match, where the MX host's own name got its default certificate, which they do not.
     */
    @Test
    void sniNamesTheTlsaBaseDomainOfAnMxHostThatIsAnAlias() throws Exception {
        Path byName = Files.createDirectories(dir.resolve("by-name").resolve("mx.provider.test"));
        Files.copy(dir.resolve("sts").resolve("sts-fullchain.pem"), byName.resolve("fullchain.pem"));
        Files.copy(dir.resolve("sts").resolve("sts-privkey.pem"), byName.resolve("privkey.pem"));
        Path defaults = Files.createDirectories(dir.resolve("default"));
        for (String name : List.of("fullchain.pem", "privkey.pem")) {
            try (InputStream in = getClass().getResourceAsStream("/dane/default-" + name)) {
                Files.copy(in, defaults.resolve(name));
            }
        }
        try (MtaFixture provider = new MtaFixture(dir.resolve("provider"), new Router(Map.of(), Optional.empty(), null),
                SmtpSettings.mx("mx.example.org"), QueueSettings.defaults("mx.example.org"), TlsContext.fromPem(
                        defaults.resolve("fullchain.pem"), defaults.resolve("privkey.pem"), dir.resolve("by-name")))) {
            Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
            zone.put(DOMAIN, List.of(new LocalDnsServer.Mx(10, "mx.dane.test.")));
            zone.put("mx.dane.test", List.of(new LocalDnsServer.Cname("mx.provider.test.")));
            zone.put("mx.provider.test", List.of(new LocalDnsServer.A("127.0.0.1")));
            zone.put("_" + provider.smtp.port() + "._tcp.mx.provider.test", List.of(eeSpki()));
            try (LocalDnsServer signed = new LocalDnsServer(zone, true)) {
                Router router = new Router(Map.of(), Optional.empty(), signed.url(), provider.smtp.port(), Map.of(),
                        NextHopTrust.system(), false, Router.HTTPS_PORT, true);
                RemoteDelivery.Outcome sent = sender.deliver(router, DOMAIN);
                assertEquals(250, sent.code(), sent.reply());
            }
            provider.awaitMessages(provider.alice(), MailboxName.INBOX, 1);
        }
    }

    @Test
    void withoutTheAdBitTlsaRecordsAreIgnoredAndMailGoesAsBefore() throws Exception {
        LocalDnsServer unsigned = dns(false, Map.of(MX, List.of(noMatch(3))), MX);
        RemoteDelivery.Outcome sent = sender.deliver(router(unsigned), DOMAIN);
        assertEquals(250, sent.code(), "an unsigned zone's TLSA records count for nothing: " + sent.reply());
        assertTrue(firstMessage().contains("with ESMTPS"), "opportunistic TLS as before");
        assertFalse(unsigned.queries.stream().anyMatch(q -> q.endsWith("/52")), "no TLSA lookup for an insecure MX RRset: "
                + unsigned.queries);
    }

    @Test
    void aHostWhoseTlsaLookupFailsIsNotUsedAndWithNoneLeftTheMailIsDeferred() throws Exception {
        RemoteDelivery.Outcome deferred = sender.deliver(router(dns(true,
                Map.of(MX, List.of(new LocalDnsServer.ServFail())), MX)), DOMAIN);
        assertEquals(451, deferred.code(), deferred.reply());
        assertTrue(deferred.reply().startsWith("451 4.7.5") && deferred.reply().contains("DANE")
                && deferred.reply().contains(MX), deferred.reply());
        assertEquals(0, received());

        // a second MX host whose TLSA records are securely denied takes it, with opportunistic TLS
        RemoteDelivery.Outcome sent = sender.deliver(router(dns(true,
                Map.of(MX, List.of(new LocalDnsServer.ServFail())), MX, OTHER_MX)), DOMAIN);
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void aSha256MatchBesideASha512RecordThatDoesNotMatchIsNotEnough() throws Exception {
        // RFC 7671 §9: the strongest digest of 3 1 decides; the SHA-256 one is there for older clients
        LocalDnsServer.Tlsa wrongSha512 = new LocalDnsServer.Tlsa(3, 1, 2, new byte[64]);
        RemoteDelivery.Outcome deferred = sender.deliver(router(dns(true, Map.of(MX, List.of(eeSpki(), wrongSha512)), MX)),
                DOMAIN);
        assertEquals(451, deferred.code(), deferred.reply());
        assertTrue(deferred.reply().startsWith("451 4.7.5") && deferred.reply().contains("DANE"), deferred.reply());
        assertEquals(0, received());
        // with the SHA-512 of the same key published too, it matches
        LocalDnsServer.Tlsa sha512 = new LocalDnsServer.Tlsa(3, 1, 2,
                MessageDigest.getInstance("SHA-512").digest(leaf.getPublicKey().getEncoded()));
        RemoteDelivery.Outcome sent = sender.deliver(router(dns(true, Map.of(MX, List.of(eeSpki(), sha512)), MX)), DOMAIN);
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void daneTaMatchingTheTestCaDeliversToTheHostTheCertificateNames() throws Exception {
        Router router = router(dns(true, Map.of(MX, List.of(taCertificate())), MX));
        assertEquals(TlsPolicy.DANE, daneLevel(router));
        RemoteDelivery.Outcome sent = sender.deliver(router, DOMAIN);
        assertEquals(250, sent.code(), sent.reply());
        assertTrue(firstMessage().contains("with ESMTPS"));

        // RFC 7672 §3.2.2: under DANE-TA the certificate must name the MX host (or dane.test)
        RemoteDelivery.Outcome deferred = sender.deliver(router(dns(true, Map.of(OTHER_MX, List.of(taCertificate())),
                OTHER_MX)), DOMAIN);
        assertEquals(451, deferred.code(), deferred.reply());
        assertTrue(deferred.reply().startsWith("451 4.7.5") && deferred.reply().contains("DANE"), deferred.reply());
        assertEquals(1, received());
    }

    @Test
    void tlsaRecordsThatAreAllUnusableRequireTlsWithoutAuthentication() throws Exception {
        // RFC 7672 §3.1.3: PKIX-EE(1) is unusable for SMTP: the certificate need not match it ...
        RemoteDelivery.Outcome sent = sender.deliver(router(dns(true, Map.of(MX, List.of(noMatch(1))), MX)), DOMAIN);
        assertEquals(250, sent.code(), sent.reply());
        assertTrue(firstMessage().contains("with ESMTPS"));
        // ... but TLS is required
        try (MtaFixture plain = new MtaFixture(dir.resolve("plain"), new Router(Map.of(), Optional.empty(), null),
                SmtpSettings.mx("mx.example.org"), QueueSettings.defaults("mx.example.org"), null)) {
            Map<String, List<LocalDnsServer.Record>> zone = new HashMap<>();
            zone.put(DOMAIN, List.of(new LocalDnsServer.Mx(10, MX + ".")));
            zone.put(MX, List.of(new LocalDnsServer.A("127.0.0.1")));
            zone.put("_" + plain.smtp.port() + "._tcp." + MX, List.of(noMatch(1)));
            try (LocalDnsServer signed = new LocalDnsServer(zone, true)) {
                RemoteDelivery.Outcome deferred = sender.deliver(new Router(Map.of(), Optional.empty(), signed.url(),
                        plain.smtp.port(), Map.of(), NextHopTrust.system(), false, Router.HTTPS_PORT, true), DOMAIN);
                assertEquals(451, deferred.code(), deferred.reply());
                assertTrue(deferred.reply().contains("does not offer STARTTLS"), deferred.reply());
            }
            assertEquals(0, plain.alice().status(MailboxName.INBOX).messages());
        }
    }

    @Test
    void anExplicitTlsPolicyOrDaneOffLeavesTheTlsaRecordsUnasked() throws Exception {
        LocalDnsServer dns = dns(true, Map.of(MX, List.of(noMatch(3))), MX);
        Router explicit = new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(DOMAIN, TlsPolicy.MAY),
                NextHopTrust.system(), false, Router.HTTPS_PORT, true);
        assertEquals(250, sender.deliver(explicit, DOMAIN).code());
        Router off = new Router(Map.of(), Optional.empty(), dns.url(), next.smtp.port(), Map.of(), NextHopTrust.system(),
                false, Router.HTTPS_PORT, false);
        assertEquals(250, sender.deliver(off, DOMAIN).code());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 2);
        assertFalse(dns.queries.stream().anyMatch(q -> q.endsWith("/52")), dns.queries.toString());
    }

    @Test
    void aResolverNotOnLoopbackLeavesDaneOff() {
        // RFC 7672 §2.1: an AD bit that crossed the network could have been set by anyone (nothing is sent here)
        Router remoteResolver = new Router(Map.of(), Optional.empty(), "dns://192.0.2.1:53", 25, Map.of(),
                NextHopTrust.system(), false, Router.HTTPS_PORT, true);
        assertTrue(remoteResolver.dane(DOMAIN).isEmpty());
        Router local = new Router(Map.of(), Optional.empty(), "dns://127.0.0.1:53", 25, Map.of(),
                NextHopTrust.system(), false, Router.HTTPS_PORT, true);
        assertTrue(local.dane(DOMAIN).isPresent());
    }
}

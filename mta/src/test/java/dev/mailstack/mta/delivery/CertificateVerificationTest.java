package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.net.TestTls;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.StoreFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Next hops whose certificate is checked: the verify TLS policy, and a relay host we log in to.
 * The next hop is a real mailstack on loopback with the self-signed test certificate for
 * localhost and 127.0.0.1: trusted only when that certificate is the trust file.
 */
class CertificateVerificationTest {
    @TempDir
    Path dir;
    SendingStore sender;
    MtaFixture next;
    NextHopTrust testCa;
    NextHopTrust otherCa;

    @BeforeEach
    void open() throws Exception {
        sender = new SendingStore(dir.resolve("here"));
        next = MtaFixture.create(dir.resolve("next"));
        Path tls = Files.createDirectories(dir.resolve("ca"));
        testCa = NextHopTrust.fromPem(TestTls.pemFiles(tls)[0]);
        Path other = tls.resolve("other.pem");
        try (var in = TestTls.class.getResourceAsStream("/tls/other-fullchain.pem")) {
            Files.copy(in, other);
        }
        otherCa = NextHopTrust.fromPem(other);
    }

    @AfterEach
    void close() {
        next.close();
        sender.close();
    }

    private RemoteDelivery.Outcome deliver(Router router) throws Exception {
        return sender.deliver(router, "example.org");
    }

    private Router verifyingMx(NextHopTrust trust) {
        return new Router(Map.of("example.org", new Route("127.0.0.1", next.smtp.port())), Optional.empty(), null, 25,
                Map.of("example.org", TlsPolicy.VERIFY), trust);
    }

    private Router relayWithLogin(TlsPolicy tls, boolean verify, NextHopTrust trust) {
        Route relay = new Route("127.0.0.1", next.submission.port()).with(tls)
                .with(new RelayLogin("alice@example.org", StoreFixture.PASSWORD, verify));
        return new Router(Map.of(), Optional.of(relay), null, 25, Map.of(), trust);
    }

    @Test
    void verifyDeliversOnlyToACertificateFromATrustedAuthority() throws Exception {
        RemoteDelivery.Outcome refused = deliver(verifyingMx(NextHopTrust.system()));
        assertEquals(451, refused.code(), refused.reply());
        assertTrue(refused.reply().contains("4.7.5") && refused.reply().contains("certificate of 127.0.0.1 not accepted"),
                refused.reply());
        RemoteDelivery.Outcome other = deliver(verifyingMx(otherCa));
        assertEquals(451, other.code(), "signed by another authority: " + other.reply());
        assertEquals(0, next.alice().status(MailboxName.INBOX).messages(), "no plaintext retry carried the message");

        RemoteDelivery.Outcome sent = deliver(verifyingMx(testCa));
        assertEquals(250, sent.code(), sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void theRelayPasswordGoesOnlyToAVerifiedRelayHostEvenUnderMay() throws Exception {
        // may, the default: without the check a failed handshake would be retried in plaintext,
        // where loopback takes a login
        RemoteDelivery.Outcome refused = deliver(relayWithLogin(TlsPolicy.MAY, true, NextHopTrust.system()));
        assertEquals(451, refused.code(), refused.reply());
        assertTrue(refused.reply().contains("not accepted"), refused.reply());
        assertEquals(0, next.alice().status(MailboxName.INBOX).messages());

        RemoteDelivery.Outcome trusted = deliver(relayWithLogin(TlsPolicy.MAY, true, testCa));
        assertEquals(250, trusted.code(), trusted.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void aLoginWithoutTheCheckTakesAnyCertificateAsBefore() throws Exception {
        RemoteDelivery.Outcome sent = deliver(relayWithLogin(TlsPolicy.ENCRYPT, false, NextHopTrust.system()));
        assertEquals(250, sent.code(), "queue.relay_host_tls_verify = false: " + sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }

    @Test
    void aTrustFileWithoutCertificatesIsRefusedWithItsName() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> NextHopTrust.fromPem(empty));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());
    }

    /** The server's STARTTLS offer taken up by hand, then the handshake as the client does it, naming {@code host}. */
    private void handshake(String host) throws Exception {
        try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), next.smtp.port())) {
            s.setSoTimeout(10_000);
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII));
            in.readLine(); // greeting
            s.getOutputStream().write("STARTTLS\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertTrue(in.readLine().startsWith("220"));
            testCa.handshake(s, host, true).close();
        }
    }

    @Test
    void theCertificateMustNameTheHostAsRouted() throws Exception {
        handshake("localhost"); // named in the certificate (DNS name, and SNI sent)
        handshake("127.0.0.1"); // named as an IP address
        var e = org.junit.jupiter.api.Assertions.assertThrows(javax.net.ssl.SSLHandshakeException.class,
                () -> handshake("mx.other.test"));
        assertTrue(e.getMessage().contains("mx.other.test"), e.getMessage());
        Router byName = new Router(Map.of("example.org", new Route("localhost", next.smtp.port())), Optional.empty(), null, 25,
                Map.of("example.org", TlsPolicy.VERIFY), testCa);
        assertEquals(250, deliver(byName).code(), "an MX host reached by name, its certificate naming it");
    }

    @Test
    void withTheCheckTheLoginNeverGoesInPlaintextEvenOnLoopback() throws Exception {
        RemoteDelivery.Outcome refused = deliver(relayWithLogin(TlsPolicy.NONE, true, testCa));
        assertEquals(451, refused.code(), refused.reply());
        assertTrue(refused.reply().contains("without a verified TLS session")
                && refused.reply().contains("queue.relay_host_tls_verify = false"), refused.reply());
        assertEquals(0, next.alice().status(MailboxName.INBOX).messages());

        RemoteDelivery.Outcome sent = deliver(relayWithLogin(TlsPolicy.NONE, false, NextHopTrust.system()));
        assertEquals(250, sent.code(), "without the check a relay on loopback takes it: " + sent.reply());
        next.awaitMessages(next.alice(), MailboxName.INBOX, 1);
    }
}

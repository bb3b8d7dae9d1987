package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DANE-TA's two checks beyond the record match (RFC 7672 §3.1.2, §3.2.2), on chains put together
 * by hand: the MTA-STS test leaf and CA, and net's self-signed mail.other.example.
 */
class DaneTrustManagerTest {
    X509Certificate leaf;
    X509Certificate ca;
    X509Certificate other;

    static List<?> read(String resource) throws Exception {
        try (InputStream in = DaneTrustManagerTest.class.getResourceAsStream(resource)) {
            return List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
    }

    @BeforeEach
    void read() throws Exception {
        List<?> sts = read("/sts/sts-fullchain.pem");
        leaf = (X509Certificate) sts.get(0);
        ca = (X509Certificate) sts.get(1);
        other = (X509Certificate) read("/tls/other-fullchain.pem").get(0);
    }

    DaneTrustManager underCa(String... names) throws Exception {
        TlsaRecord ta = new TlsaRecord(2, 0, 1, MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()));
        return new DaneTrustManager(new TlsaRecords(List.of(ta), List.of(names)), names[0]);
    }

    @Test
    void aChainUpToTheTrustAnchorNamingTheHostIsAccepted() throws Exception {
        assertDoesNotThrow(() -> underCa("mx.sts.test", "sts.test").check(new X509Certificate[]{leaf, ca}));
        assertDoesNotThrow(() -> underCa("mx.elsewhere.test", "mta-sts.sts.test").check(new X509Certificate[]{leaf, ca}),
                "the next-hop domain is a name the certificate may carry instead");
    }

    @Test
    void aTrustAnchorInTheChainThatDidNotSignTheLeafIsRefused() throws Exception {
        // a server sending the domain's CA after a certificate of its own, which names itself
        CertificateException e = assertThrows(CertificateException.class,
                () -> underCa("mail.other.example").check(new X509Certificate[]{other, ca}));
        assertTrue(e.getMessage().contains("does not chain"), e.getMessage());
    }

    @Test
    void aCertificateUnderTheTrustAnchorNamingNeitherNameIsRefused() throws Exception {
        CertificateException e = assertThrows(CertificateException.class,
                () -> underCa("mx.elsewhere.test", "dane.test").check(new X509Certificate[]{leaf, ca}));
        assertTrue(e.getMessage().contains("names none of"), e.getMessage());
    }

    @Test
    void namesAreTheCertificatesDnsNamesWholeAndCaseBlind() {
        assertTrue(DaneTrustManager.namesOneOf(leaf, List.of("elsewhere.test", "MX.sts.test.")));
        assertFalse(DaneTrustManager.namesOneOf(leaf, List.of("other.sts.test", "sts.test", "x.mx.sts.test")));
    }
}

package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** TLSA matching (RFC 6698 §2.1) and which records SMTP can use (RFC 7672 §3.1.3), on the MTA-STS test certificates. */
class TlsaRecordTest {
    X509Certificate leaf;
    X509Certificate ca;

    @BeforeEach
    void read() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/sts/sts-fullchain.pem")) {
            List<?> chain = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            leaf = (X509Certificate) chain.get(0);
            ca = (X509Certificate) chain.get(1);
        }
    }

    static byte[] digest(String algorithm, byte[] data) throws Exception {
        return MessageDigest.getInstance(algorithm).digest(data);
    }

    @Test
    void eachSelectorAndMatchingTypeMatchesItsCertificateOnly() throws Exception {
        byte[] cert = leaf.getEncoded();
        byte[] spki = leaf.getPublicKey().getEncoded();
        List<TlsaRecord> forLeaf = List.of(new TlsaRecord(3, 0, 0, cert), new TlsaRecord(3, 0, 1, digest("SHA-256", cert)),
                new TlsaRecord(3, 0, 2, digest("SHA-512", cert)), new TlsaRecord(3, 1, 0, spki),
                new TlsaRecord(3, 1, 1, digest("SHA-256", spki)), new TlsaRecord(3, 1, 2, digest("SHA-512", spki)));
        for (TlsaRecord r : forLeaf) {
            assertTrue(r.matches(leaf), r::toString);
            assertFalse(r.matches(ca), r::toString);
            assertTrue(r.usable(), r::toString);
        }
        // the SPKI digest given as a full-certificate digest matches nothing
        assertFalse(new TlsaRecord(3, 0, 1, digest("SHA-256", spki)).matches(leaf));
    }

    @Test
    void pkixUsagesAndUnknownParametersAreUnusable() throws Exception {
        byte[] sha256 = digest("SHA-256", ca.getEncoded());
        assertTrue(new TlsaRecord(2, 0, 1, sha256).usable());
        assertFalse(new TlsaRecord(0, 0, 1, sha256).usable(), "PKIX-TA");
        assertFalse(new TlsaRecord(1, 0, 1, sha256).usable(), "PKIX-EE");
        assertFalse(new TlsaRecord(4, 0, 1, sha256).usable(), "unknown usage");
        assertFalse(new TlsaRecord(2, 2, 1, sha256).usable(), "unknown selector");
        assertFalse(new TlsaRecord(2, 0, 3, sha256).usable(), "unknown matching type");
        assertFalse(new TlsaRecord(2, 0, 2, sha256).usable(), "a SHA-512 record of 32 octets");
    }
}

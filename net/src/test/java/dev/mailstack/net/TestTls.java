package dev.mailstack.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The self-signed test certificate for localhost (net's test resources, shared through the test-jar). */
public final class TestTls {
    private TestTls() {
    }

    /** Copies the PEM files to {@code dir} (so tests can also use them as config files). */
    public static Path[] pemFiles(Path dir) throws IOException {
        Path chain = dir.resolve("fullchain.pem");
        Path key = dir.resolve("privkey.pem");
        try (InputStream c = TestTls.class.getResourceAsStream("/tls/fullchain.pem");
             InputStream k = TestTls.class.getResourceAsStream("/tls/privkey.pem")) {
            Files.copy(c, chain, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(k, key, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return new Path[]{chain, key};
    }

    public static TlsContext serverContext(Path dir) throws IOException {
        Path[] files = pemFiles(dir);
        return TlsContext.fromPem(files[0], files[1]);
    }

    /** A client context that trusts the test certificate and nothing else. */
    public static SSLContext clientContext() {
        try (InputStream c = TestTls.class.getResourceAsStream("/tls/fullchain.pem")) {
            Certificate cert = CertificateFactory.getInstance("X.509").generateCertificate(c);
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("test", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("test certificate unusable", e);
        }
    }
}

package dev.mailstack.net;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

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

    /**
     * A Let's Encrypt live/HOST folder under {@code live} holding the test pair named by
     * {@code prefix}: "" for CN=localhost (RSA), "other-" for CN=mail.other.example (EC).
     */
    public static Path hostFolder(Path live, String host, String prefix) throws IOException {
        Path folder = Files.createDirectories(live.resolve(host));
        try (InputStream c = TestTls.class.getResourceAsStream("/tls/" + prefix + "fullchain.pem");
             InputStream k = TestTls.class.getResourceAsStream("/tls/" + prefix + "privkey.pem")) {
            Files.copy(c, folder.resolve("fullchain.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.copy(k, folder.resolve("privkey.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return folder;
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

    /** The subject of the certificate a TLS server on loopback presents for an SNI name (null: none). */
    public static String presentedSubject(int port, String sni) throws IOException {
        try (SSLSocket s = (SSLSocket) trustAnything().getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
            s.setSSLParameters(p);
            s.startHandshake();
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }

    /** A client context that accepts any server certificate, to look at which one is presented. */
    private static SSLContext trustAnything() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[]{new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS client", e);
        }
    }
}

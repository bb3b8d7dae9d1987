package dev.mailstack.mta.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The certificate authorities a next hop's certificate must chain to when its route asks for
 * verification ({@link Route#verifies()}: the {@code verify} TLS policy, or a relay host we log in
 * to): a PEM bundle (queue.tls_trust_file, Postfix's smtp_tls_CAfile) or the JDK's. Every other
 * handshake takes any certificate: opportunistic TLS between MTAs guards against passive
 * listeners only (RFC 7435).
 */
public final class NextHopTrust {
    private final SSLContext verifying;
    private final SSLContext anyCertificate;
    private final String source;

    private NextHopTrust(SSLContext verifying, String source) throws GeneralSecurityException {
        this.verifying = verifying;
        this.source = source;
        this.anyCertificate = SSLContext.getInstance("TLS");
        anyCertificate.init(null, new TrustManager[]{new AnyCertificate()}, new SecureRandom());
    }

    /** The certificate authorities the JDK trusts (its cacerts), read once. */
    public static NextHopTrust system() {
        return SystemAuthorities.INSTANCE;
    }

    private static final class SystemAuthorities {
        static final NextHopTrust INSTANCE = load();
    }

    private static NextHopTrust load() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init((KeyStore) null);
            return new NextHopTrust(context(tmf), "the JDK's certificate authorities");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no TLS: " + e.getMessage(), e);
        }
    }

    /** Only the certificates in {@code pemFile} (one or more PEM blocks) as trust anchors. */
    public static NextHopTrust fromPem(Path pemFile) throws IOException {
        try (InputStream in = Files.newInputStream(pemFile)) {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new IOException(pemFile + " holds no PEM certificate");
            }
            KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
            anchors.load(null, null);
            int i = 0;
            for (Certificate c : certificates) {
                anchors.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(anchors);
            return new NextHopTrust(context(tmf), pemFile.toString());
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read the certificates in " + pemFile + ": " + e.getMessage(), e);
        }
    }

    private static SSLContext context(TrustManagerFactory tmf) throws GeneralSecurityException {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), new SecureRandom());
        return ctx;
    }

    /**
     * A client handshake over {@code socket}, naming {@code host} for SNI (RFC 6066 §3). With
     * {@code verify} the certificate must chain to these authorities and be valid for {@code host}
     * (RFC 6125 matching of DNS names and IP addresses, as JSSE does it for HTTPS).
     */
    SSLSocket handshake(Socket socket, String host, boolean verify) throws IOException {
        return handshake(verify ? verifying : anyCertificate, socket, host, verify);
    }

    /**
     * A client handshake under DANE: the certificate must match one of {@code tlsa}'s records
     * ({@link DaneTrustManager}); these authorities play no part (RFC 7672 §3.1). {@code host} is
     * the TLSA base domain, which SNI names (RFC 7672 §8.1).
     */
    SSLSocket handshake(Socket socket, String host, TlsaRecords tlsa) throws IOException {
        try {
            SSLContext dane = SSLContext.getInstance("TLS");
            dane.init(null, new TrustManager[]{new DaneTrustManager(tlsa, host)}, new SecureRandom());
            return handshake(dane, socket, host, false);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no TLS: " + e.getMessage(), e);
        }
    }

    private static SSLSocket handshake(SSLContext context, Socket socket, String host, boolean identify) throws IOException {
        SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(socket, host, socket.getPort(), true);
        ssl.setUseClientMode(true);
        SSLParameters parameters = ssl.getSSLParameters();
        parameters.setProtocols(new String[]{"TLSv1.3", "TLSv1.2"});
        if (identify) {
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
        }
        ssl.setSSLParameters(parameters);
        ssl.startHandshake();
        return ssl;
    }

    /** Where the trusted authorities come from, for error messages. */
    @Override
    public String toString() {
        return source;
    }

    private static final class AnyCertificate implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            // opportunistic: encryption against passive listeners, no authentication
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}

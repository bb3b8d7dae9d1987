package dev.mailstack.net;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The server's TLS identity from PEM files in the Let's Encrypt layout (fullchain.pem with the
 * certificate chain, privkey.pem with a PKCS#8 RSA or EC key). TLS 1.2 and 1.3 only.
 * {@link #reload()} swaps in new files for connections that start afterwards.
 */
public final class TlsContext {
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

    private final Path chainFile;
    private final Path keyFile;
    private final AtomicReference<SSLContext> context = new AtomicReference<>();

    private TlsContext(Path chainFile, Path keyFile) {
        this.chainFile = chainFile;
        this.keyFile = keyFile;
    }

    public static TlsContext fromPem(Path chainFile, Path keyFile) throws IOException {
        TlsContext t = new TlsContext(chainFile, keyFile);
        t.reload();
        return t;
    }

    /** Reads the files again; on error the previous certificate stays in use and the error is thrown. */
    public void reload() throws IOException {
        try {
            Certificate[] chain;
            try (InputStream in = Files.newInputStream(chainFile)) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(new Certificate[0]);
            }
            if (chain.length == 0) {
                throw new IOException(chainFile + " holds no certificate");
            }
            PrivateKey key = readKey(keyFile);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] none = new char[0];
            ks.setKeyEntry("server", key, none, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            context.set(ctx);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use " + chainFile + " and " + keyFile + ": " + e.getMessage(), e);
        }
    }

    private static PrivateKey readKey(Path file) throws IOException, GeneralSecurityException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("PRIVATE KEY")) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(2));
                PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
                for (String algorithm : new String[]{"RSA", "EC", "Ed25519"}) {
                    try {
                        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
                    } catch (GeneralSecurityException tryNext) {
                        // the key is of another algorithm
                    }
                }
                throw new IOException(file + ": unsupported private key algorithm");
            }
            if (m.group(1).endsWith("PRIVATE KEY")) {
                throw new IOException(file + " holds a '" + m.group(1) + "'; convert it to PKCS#8: "
                        + "openssl pkcs8 -topk8 -nocrypt -in " + file.getFileName() + " -out privkey.pem");
            }
        }
        throw new IOException(file + " holds no 'BEGIN PRIVATE KEY' block");
    }

    /** Wraps an accepted socket (implicit TLS) or a live one (STARTTLS) and completes the handshake. */
    Socket wrap(Socket plain, boolean autoClose) throws IOException {
        SSLSocket ssl = (SSLSocket) context.get().getSocketFactory()
                .createSocket(plain, plain.getInetAddress().getHostAddress(), plain.getPort(), autoClose);
        ssl.setUseClientMode(false);
        SSLParameters params = ssl.getSSLParameters();
        params.setProtocols(PROTOCOLS);
        ssl.setSSLParameters(params);
        ssl.setSoTimeout(plain.getSoTimeout());
        ssl.startHandshake();
        return ssl;
    }

    /** For tests and clients that trust exactly this certificate. */
    public SSLContext sslContext() {
        return context.get();
    }

}

package dev.mailstack.net;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The server's TLS identity from PEM files in the Let's Encrypt layout (fullchain.pem with the
 * certificate chain, privkey.pem with a PKCS#8 RSA or EC key). TLS 1.2 and 1.3 only.
 * {@link #reload()} swaps in new files for connections that start afterwards; {@link #files()}
 * names what it reads, for a {@link CertificateWatcher}. Protocols and cipher suites: {@link TlsSuites}.
 */
public final class TlsContext {
    private static final String DEFAULT_ALIAS = "default";

    static {
        // A client may not renegotiate a TLS 1.2 session (RFC 5746 makes it safe, not free): each one
        // costs the server a signature, as often as the client likes and outside the handshake's
        // deadline. No mail client needs it. Read once, at the first server handshake: set before.
        if (System.getProperty("jdk.tls.rejectClientInitiatedRenegotiation") == null) {
            System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
        }
    }

    /** Null with {@link #fromFolder}: the default pair is then picked from {@code byNameDir} at each reload. */
    private final Path chainFile;
    private final Path keyFile;
    private final Path byNameDir;
    private final AtomicReference<SSLContext> context = new AtomicReference<>();
    private volatile Path defaultChain;
    private final ReentrantLock reloading = new ReentrantLock();

    private TlsContext(Path chainFile, Path keyFile, Path byNameDir) {
        this.chainFile = chainFile;
        this.keyFile = keyFile;
        this.byNameDir = byNameDir;
    }

    public static TlsContext fromPem(Path chainFile, Path keyFile) throws IOException {
        return fromPem(chainFile, keyFile, null);
    }

    /**
     * With {@code byNameDir} (e.g. /etc/letsencrypt/live), each subfolder named after a host holds
     * that host's fullchain.pem and privkey.pem, chosen by the name the client asks for (SNI,
     * RFC 6066 §3); other clients get the default pair.
     */
    public static TlsContext fromPem(Path chainFile, Path keyFile, Path byNameDir) throws IOException {
        TlsContext t = new TlsContext(chainFile, keyFile, byNameDir);
        t.reload();
        return t;
    }

    /**
     * Only the SNI folder, as certbot leaves it: clients that ask for no name, or for one without
     * a subfolder, get the pair of the first complete subfolder by name ({@link #defaultChain()}).
     * RFC 6066 §3 lets a server that does not recognise the name go on with any certificate, and
     * refusing the handshake instead would lock out every client that sends no SNI.
     */
    public static TlsContext fromFolder(Path byNameDir) throws IOException {
        return fromPem(null, null, byNameDir);
    }

    /**
     * Reads the files again; on error the previous certificate stays in use and the error, naming
     * the file at fault, is thrown. Reloads run one at a time, so a slower one that read older
     * files cannot overwrite a newer result.
     */
    public void reload() throws IOException {
        reloading.lock();
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] none = new char[0];
            List<PemPair> pairs = pairs();
            PemPair fallback = chainFile != null ? pairs.get(0) : firstComplete(pairs).orElseThrow(() -> new IOException(
                    byNameDir + " has no subfolder holding both fullchain.pem and privkey.pem"));
            if (chainFile == null) {
                pairs.add(0, new PemPair(DEFAULT_ALIAS, fallback.chain(), fallback.key()));
            }
            for (PemPair pair : pairs) {
                if (pair.alias().equals(DEFAULT_ALIAS) || pair.complete()) {
                    Certificate[] chain = pair.readChain();
                    ks.setKeyEntry(pair.alias(), pair.readKey(chain[0]), none, chain);
                }
            }
            // SunX509 names entries by their keystore alias, which is what ByName selects on
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
            kmf.init(ks, none);
            javax.net.ssl.X509ExtendedKeyManager base = null;
            for (javax.net.ssl.KeyManager km : kmf.getKeyManagers()) {
                if (km instanceof javax.net.ssl.X509ExtendedKeyManager x) {
                    base = x;
                }
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(new javax.net.ssl.KeyManager[]{new ByName(base, ks)}, null, null);
            context.set(ctx);
            defaultChain = fallback.chain();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use " + (chainFile != null ? chainFile + " and " + keyFile : byNameDir)
                    + ": " + e.getMessage(), e);
        } finally {
            reloading.unlock();
        }
    }

    /**
     * Every file {@link #reload()} reads or would read: the configured default pair and, for each subfolder of
     * the SNI folder as it is now, its fullchain.pem and privkey.pem (present or not, so one that
     * appears counts as a change).
     */
    public List<Path> files() throws IOException {
        List<Path> files = new ArrayList<>();
        for (PemPair pair : pairs()) {
            files.add(pair.chain());
            files.add(pair.key());
        }
        return files;
    }

    /**
     * The chain file of the pair served to clients whose SNI name matches no subfolder: the
     * configured one, or with {@link #fromFolder} the one the last successful reload picked.
     */
    public Path defaultChain() {
        return defaultChain;
    }

    /** The configured default pair (if any), then one pair per subfolder of the SNI folder, by name. */
    private List<PemPair> pairs() throws IOException {
        List<PemPair> pairs = new ArrayList<>();
        if (chainFile != null) {
            pairs.add(new PemPair(DEFAULT_ALIAS, chainFile, keyFile));
        }
        if (byNameDir != null && Files.isDirectory(byNameDir)) {
            try (var dirs = Files.list(byNameDir)) {
                for (Path d : (Iterable<Path>) dirs.filter(Files::isDirectory).sorted()::iterator) {
                    pairs.add(new PemPair(d.getFileName().toString().toLowerCase(Locale.ROOT),
                            d.resolve("fullchain.pem"), d.resolve("privkey.pem")));
                }
            }
        }
        return pairs;
    }

    /** The first subfolder, by name, that holds both files: the same choice from one reload to the next. */
    private static java.util.Optional<PemPair> firstComplete(List<PemPair> pairs) {
        return pairs.stream().filter(PemPair::complete).findFirst();
    }

    /** A certificate chain and its key, kept under {@code alias} (the SNI host name, or the default). */
    private record PemPair(String alias, Path chain, Path key) {
        /** A subfolder counts once both files are there; a half-made one is skipped, not an error. */
        boolean complete() {
            return Files.exists(chain) && Files.exists(key);
        }

        Certificate[] readChain() throws IOException {
            try {
                return TlsContext.readChain(chain);
            } catch (GeneralSecurityException e) {
                // A half-written file usually ends up here: "cannot use fullchain.pem: Could not parse certificate"
                throw new IOException("cannot use " + chain + ": " + e.getMessage(), e);
            }
        }

        /** The key, once it is known to belong to the chain's first certificate (JSSE would only fail at handshake time). */
        PrivateKey readKey(Certificate leaf) throws IOException {
            try {
                PrivateKey k = PemPrivateKey.read(key);
                if (!belongTogether(k, leaf.getPublicKey())) {
                    throw new IOException(key + " does not match the certificate in " + chain);
                }
                return k;
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot use " + key + ": " + e.getMessage(), e);
            }
        }
    }

    /** Signs a few bytes with the private key and verifies them with the certificate's public key. */
    private static boolean belongTogether(PrivateKey key, PublicKey certified) throws GeneralSecurityException {
        if (!key.getAlgorithm().equals(certified.getAlgorithm())) {
            return false;
        }
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519 names its own signature
        };
        byte[] probe = "mailstack key check".getBytes(StandardCharsets.US_ASCII);
        Signature sign = Signature.getInstance(algorithm);
        sign.initSign(key);
        sign.update(probe);
        byte[] signature = sign.sign();
        Signature verify = Signature.getInstance(algorithm);
        verify.initVerify(certified);
        verify.update(probe);
        return verify.verify(signature);
    }

    private static Certificate[] readChain(Path file) throws IOException, GeneralSecurityException {
        Certificate[] chain;
        try (InputStream in = Files.newInputStream(file)) {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(new Certificate[0]);
        }
        if (chain.length == 0) {
            throw new IOException(file + " holds no certificate");
        }
        return chain;
    }

    /** Picks the key pair by the SNI host name, falling back to the default pair. */
    private static final class ByName extends javax.net.ssl.X509ExtendedKeyManager {
        private final javax.net.ssl.X509ExtendedKeyManager base;
        private final java.util.Set<String> aliases = new java.util.HashSet<>();

        ByName(javax.net.ssl.X509ExtendedKeyManager base, KeyStore ks) throws GeneralSecurityException {
            this.base = base;
            for (String a : java.util.Collections.list(ks.aliases())) {
                aliases.add(a);
            }
        }

        private String choose(javax.net.ssl.SSLSession handshake) {
            if (handshake instanceof javax.net.ssl.ExtendedSSLSession ext) {
                for (javax.net.ssl.SNIServerName n : ext.getRequestedServerNames()) {
                    if (n instanceof javax.net.ssl.SNIHostName host) {
                        String name = host.getAsciiName().toLowerCase(java.util.Locale.ROOT);
                        if (aliases.contains(name)) {
                            return name;
                        }
                    }
                }
            }
            return DEFAULT_ALIAS;
        }

        @Override
        public String chooseServerAlias(String keyType, java.security.Principal[] issuers, Socket socket) {
            return pick(socket instanceof SSLSocket ssl ? choose(ssl.getHandshakeSession()) : DEFAULT_ALIAS, keyType);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, java.security.Principal[] issuers, javax.net.ssl.SSLEngine engine) {
            return pick(choose(engine.getHandshakeSession()), keyType);
        }

        /**
         * The asked-for host's pair when its key fits the type JSSE asks about, else none; the
         * default's only when no host was asked for. JSSE asks once per key type the client
         * accepts, in the client's order (ECDSA before RSA in every TLS 1.3 client): answering a
         * host's RSA pair's turn with an EC default would present the wrong name, while null makes
         * JSSE ask again for the next type.
         */
        private String pick(String alias, String keyType) {
            return matches(alias, keyType) ? alias : null;
        }

        private boolean matches(String alias, String keyType) {
            PrivateKey key = base.getPrivateKey(alias);
            String want = keyType.startsWith("EC") ? "EC" : keyType.startsWith("RSA") ? "RSA" : keyType;
            return key != null && key.getAlgorithm().equalsIgnoreCase(want);
        }

        @Override
        public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
            return base.getServerAliases(keyType, issuers);
        }

        @Override
        public java.security.cert.X509Certificate[] getCertificateChain(String alias) {
            return base.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return base.getPrivateKey(alias);
        }

        @Override
        public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, Socket socket) {
            return null;
        }
    }

    /**
     * Wraps an accepted socket (implicit TLS) or a live one (STARTTLS) and completes the handshake
     * within {@code deadline}. Each handshake read has only the socket's timeout, so a client that
     * sends a record a byte at a time, each just inside it, held its connection (and a connection
     * permit) for hours; past the deadline the TCP socket is closed under the handshake, which then
     * fails as a dropped connection.
     */
    Socket wrap(Socket plain, boolean autoClose, java.time.Duration deadline) throws IOException {
        SSLSocket ssl = (SSLSocket) context.get().getSocketFactory()
                .createSocket(plain, plain.getInetAddress().getHostAddress(), plain.getPort(), autoClose);
        ssl.setUseClientMode(false);
        TlsSuites.apply(ssl);
        ssl.setSoTimeout(plain.getSoTimeout());
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        // a virtual thread asleep for the deadline: SSLSocket has no handshake timeout of its own, and
        // the listener's watchdog sees a connection only once its handshake is done
        Thread guard = Thread.ofVirtual().name("tls-handshake-deadline").start(() -> {
            try {
                Thread.sleep(deadline);
            } catch (InterruptedException e) {
                return; // finished in time
            }
            if (!done.get()) {
                System.getLogger(TlsContext.class.getName()).log(System.Logger.Level.INFO,
                        "tls handshake not finished in {0} s client={1}; closing", deadline.toSeconds(),
                        plain.getInetAddress().getHostAddress());
                try {
                    plain.close();
                } catch (IOException ignored) {
                    // closed either way
                }
            }
        });
        try {
            ssl.startHandshake();
        } finally {
            done.set(true);
            guard.interrupt();
        }
        return ssl;
    }

    /** For tests and clients that trust exactly this certificate. */
    public SSLContext sslContext() {
        return context.get();
    }

}

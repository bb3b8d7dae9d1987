package dev.mailstack.server;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.CertificateWatcher;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TlsContext;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything {@code mailstack serve} runs, wired with plain constructors (STYLE.md R11): one
 * store, the TLS identity, and a listener per enabled endpoint.
 */
public final class Server implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Server.class.getName());

    private final Config config;
    /** Reads the configuration again for a SIGHUP (the file, the environment, the command line). */
    private final java.util.function.Supplier<Config> reread;
    /** What the last reload applied: a change is reported once, not on every SIGHUP after it. */
    private Config applied;
    private FrontEnds frontEnds;
    private Housekeeping housekeeping;
    /** Held from before the store opens until after it closes. */
    private final DataFolderLock owner;
    private final MailboxStore store;
    private final List<TcpListener> listeners = new ArrayList<>();
    private final List<AutoCloseable> services = new ArrayList<>();
    private TlsContext tls;
    private final java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();

    private Server(Config config, java.util.function.Supplier<Config> reread, DataFolderLock owner, MailboxStore store) {
        this.config = config;
        this.reread = reread;
        this.applied = config;
        this.owner = owner;
        this.store = store;
    }

    public static Server start(Config config) throws IOException {
        return start(config, () -> config);
    }

    /** With where a SIGHUP finds the configuration again (mailstack serve: its file, environment and flags). */
    public static Server start(Config config, java.util.function.Supplier<Config> reread) throws IOException {
        // Before the store opens: a second server on the same folder must not migrate or sweep it.
        DataFolderLock owner = DataFolderLock.tryTake(config.dataDir()).orElseThrow(() -> new ConfigException(
                "another mailstack process owns the data folder " + config.dataDir().toAbsolutePath()
                        + " (a running server, or an import): stop it first, or give this one another data_dir"));
        MailboxStore store;
        try {
            store = MailboxStore.open(config.dataDir(), config.optional(ConfigKey.JDBC_URL).orElse(null));
        } catch (RuntimeException e) {
            try {
                owner.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
        Server server = new Server(config, reread, owner, store);
        try {
            server.startFrontEnds();
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private void startFrontEnds() throws IOException {
        String hostname = config.hostname();
        if (!Config.isFullName(hostname)) {
            LOG.log(Level.WARNING, "the server calls itself {0}, not a full domain name: greetings, Received: headers"
                    + " and the Thunderbird autoconfig say so and other servers may refuse its mail; set hostname in the"
                    + " configuration (e.g. hostname = mail.example.org, or --hostname) source=\"{1}\"", hostname,
                    config.optional(ConfigKey.HOSTNAME).isPresent() ? config.effective().get(ConfigKey.HOSTNAME).origin()
                            : "the name of this machine");
        }
        tls = tls().orElse(null);
        if (tls != null) {
            watchCertificateFiles();
        }
        NetLimits limits = new NetLimits(config.integer(ConfigKey.MAX_LINE_BYTES),
                Duration.ofSeconds(config.integer(ConfigKey.IDLE_TIMEOUT)), config.integer(ConfigKey.MAX_CONNECTIONS),
                config.integer(ConfigKey.MAX_CONNECTIONS_PER_IP), config.integer(ConfigKey.MAX_COMMANDS_PER_SECOND),
                config.integer(ConfigKey.MIN_DATA_RATE));
        store.diskSpace().keepFree(config.number(ConfigKey.STORE_MIN_FREE_BYTES));
        store.limitMailboxes(config.integer(ConfigKey.STORE_MAX_MAILBOXES));
        Housekeeping.sweepAtStart(store, config.dataDir());
        Optional<ControlSocket> control = ControlSocket.open(config.dataDir(), store, config.mimeLimits(), ControlSocket.IDLE);
        control.ifPresent(services::add);
        if (config.flag(ConfigKey.WARM_UP)) {
            WarmUp.run(config, limits);
        }
        AuthThrottle throttle = AuthThrottle.defaults();
        frontEnds = new FrontEnds(config, store, hostname, throttle);
        List<String> closedForTls = new ArrayList<>();
        for (FrontEnds.Planned p : frontEnds.planned()) {
            Optional<Integer> port = config.port(p.portKey(), p.standardPort(), p.unprivilegedPort());
            if (port.isPresent() && p.tls() == TlsMode.IMPLICIT && tls == null) {
                closedForTls.add(p.name() + " " + port.get());
            }
            if (port.isEmpty() || (p.tls() == TlsMode.IMPLICIT && tls == null)) {
                continue;
            }
            // Without a certificate, STARTTLS endpoints run plain and do not offer the upgrade.
            TlsMode mode = tls == null ? TlsMode.NONE : p.tls();
            Endpoint endpoint = new Endpoint(p.name(), new InetSocketAddress(config.bind(), port.get()), mode);
            try {
                listeners.add(TcpListener.start(endpoint, p.protocol(), limits, mode == TlsMode.NONE ? null : tls));
            } catch (java.net.BindException e) {
                throw new ListenFailure(p.name(), p.portKey(), endpoint.address(), e);
            }
        }
        // Thunderbird's first autoconfig lookup is https://autoconfig.DOMAIN/; off by default (a web server has 443)
        Optional<Integer> httpsPort = config.port(ConfigKey.HTTPS_PORT, 443, 8443);
        if (httpsPort.isPresent() && tls == null) {
            closedForTls.add("https " + httpsPort.get());
            httpsPort = Optional.empty();
        }
        if (tls == null) {
            // the ports this start would have opened (2465, 1993, 1995 without privilege), not the standard ones
            LOG.log(Level.WARNING, "no TLS certificate configured: STARTTLS is off"
                    + (closedForTls.isEmpty() ? "" : " and the implicit-TLS ports stay closed (" + String.join(", ", closedForTls) + ")")
                    + "; set tls.certificate and tls.key, or tls.certificates_dir");
        }
        Optional<Path> lmtpSocket = config.optional(ConfigKey.LMTP_SOCKET).map(Path::of);
        if (lmtpSocket.isPresent()) {
            // a local socket: no address, no TLS; the endpoint's address stands for "this machine"
            Endpoint local = new Endpoint("lmtp-unix", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), TlsMode.NONE);
            try {
                listeners.add(TcpListener.startUnix(local, lmtpSocket.get(), PosixFilePermissions.fromString("rw-rw----"),
                        config.optional(ConfigKey.LMTP_SOCKET_GROUP), frontEnds.lmtp(), limits));
            } catch (IOException e) {
                throw new IOException("lmtp.socket: cannot listen on " + lmtpSocket.get() + ": " + e.getMessage(), e);
            }
        }
        services.addAll(frontEnds.services());
        housekeeping = Housekeeping.start(store, config.dataDir(), Housekeeping.intervalFor(limits.idleTimeout()),
                Housekeeping.Retention.of(config), Clock.systemUTC());
        services.add(housekeeping);
        HttpEndpoints web = new HttpEndpoints(store, hostname, List.copyOf(listeners), frontEnds.counters(), throttle,
                dev.mailstack.net.Cidr.parseList(config.string(ConfigKey.METRICS_NETWORKS)));
        listenHttp(web, "http", ConfigKey.HTTP_PORT, config.port(ConfigKey.HTTP_PORT, 80, 8080), limits, null);
        listenHttp(web, "https", ConfigKey.HTTPS_PORT, httpsPort, limits, tls);
        // every port by name, HTTP among them: a count left the reader to guess which were open
        List<String> open = new ArrayList<>();
        for (TcpListener l : listeners) {
            open.add(l.endpoint().name() + (l.endpoint().name().equals("lmtp-unix") ? "" : ":" + l.port()));
        }
        LOG.log(Level.INFO, "ready hostname={0} data={1} listening={2} control_socket={3}", hostname,
                config.dataDir().toAbsolutePath(), open.isEmpty() ? "-" : String.join(",", open),
                control.isPresent() ? "on" : "off");
    }

    /** One of the HTTP side's endpoints, if its port is on; stopped with the mail listeners, its idle clients without a word. */
    private void listenHttp(HttpEndpoints web, String name, ConfigKey key, Optional<Integer> port, NetLimits limits,
                            TlsContext tls) throws IOException {
        if (port.isEmpty()) {
            return;
        }
        Endpoint endpoint = new Endpoint(name, new InetSocketAddress(config.bind(), port.get()),
                tls == null ? TlsMode.NONE : TlsMode.IMPLICIT);
        try {
            listeners.add(web.listen(endpoint, HttpEndpoints.limits(limits), tls));
        } catch (java.net.BindException e) {
            throw new ListenFailure(name, key, endpoint.address(), e);
        }
    }

    private Optional<TlsContext> tls() throws IOException {
        return tls(config);
    }

    /** The certificates the configuration names, loaded (mailstack config check loads them too). */
    static Optional<TlsContext> tls(Config config) throws IOException {
        Optional<String> cert = config.optional(ConfigKey.TLS_CERTIFICATE);
        Optional<String> key = config.optional(ConfigKey.TLS_KEY);
        Optional<Path> byName = config.optional(ConfigKey.TLS_CERTIFICATES_DIR).map(Path::of);
        if (cert.isEmpty() && key.isEmpty()) {
            if (byName.isEmpty()) {
                return Optional.empty();
            }
            // Let's Encrypt's live/ alone is a complete setup: one of its certificates serves
            // clients that send no SNI name or one without a folder.
            TlsContext folderOnly = TlsContext.fromFolder(byName.get());
            logFolderDefault(folderOnly);
            return Optional.of(folderOnly);
        }
        if (cert.isEmpty() || key.isEmpty()) {
            throw new ConfigException("tls.certificate and tls.key go together: set both or neither");
        }
        return Optional.of(TlsContext.fromPem(Path.of(cert.get()), Path.of(key.get()), byName.orElse(null)));
    }

    /** Without tls.certificate the default is a choice made for the operator: say which. */
    private static void logFolderDefault(TlsContext folderOnly) {
        Path chain = folderOnly.defaultChain();
        LOG.log(Level.INFO, "tls: no tls.certificate set, clients without a matching SNI name get the certificate of"
                + " {0} (the first folder by name) chain={1}", chain.getParent().getFileName(), chain);
    }

    /** Certbot renews without telling us: a change to the files reloads them like a SIGHUP. */
    private void watchCertificateFiles() {
        int seconds = config.integer(ConfigKey.TLS_RELOAD_CHECK);
        if (seconds > 0) {
            services.add(CertificateWatcher.start(tls, Duration.ofSeconds(seconds), () -> reload("files-changed")));
        }
    }

    /**
     * SIGHUP: reads the configuration again and applies the keys that can change live
     * ({@link ConfigKey#live()}), then the certificate files; new connections use them, live ones
     * keep theirs. A configuration with an error is not applied at all.
     */
    public synchronized void reload() {
        reloadConfig();
        reload("sighup");
    }

    private void reloadConfig() {
        Config fresh;
        try {
            fresh = reread.get();
            frontEnds.apply(fresh);
            housekeeping.apply(Housekeeping.Retention.of(fresh));
            store.diskSpace().keepFree(fresh.number(ConfigKey.STORE_MIN_FREE_BYTES));
            store.limitMailboxes(fresh.integer(ConfigKey.STORE_MAX_MAILBOXES));
        } catch (ConfigException | IllegalArgumentException e) {
            LOG.log(Level.ERROR, "reload: configuration not applied, the running one stays error=\"{0}\"", e.getMessage());
            return;
        }
        List<String> live = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        for (ConfigKey k : ConfigKey.values()) {
            // live keys against what the last reload applied; the others against what the server started
            // with, so a change that waits for a restart is reported on every SIGHUP until then
            if (k.live() ? !fresh.string(k).equals(applied.string(k)) : !fresh.string(k).equals(config.string(k))) {
                (k.live() ? live : restart).add(k.key());
            }
        }
        applied = fresh;
        LOG.log(Level.INFO, "reload: configuration applied changed={0}", live.isEmpty() ? "-" : String.join(",", live));
        if (!restart.isEmpty()) {
            LOG.log(Level.WARNING, "reload: these changes take effect at the next restart keys={0}", String.join(",", restart));
        }
    }

    private void reload(String trigger) {
        if (tls == null) {
            LOG.log(Level.INFO, "reload: no TLS certificate configured, nothing to reload trigger={0}", trigger);
            return;
        }
        try {
            Path defaultBefore = tls.defaultChain();
            tls.reload();
            LOG.log(Level.INFO, "reload: certificate reloaded trigger={0}", trigger);
            if (config.optional(ConfigKey.TLS_CERTIFICATE).isEmpty() && !tls.defaultChain().equals(defaultBefore)) {
                logFolderDefault(tls); // a folder that sorts first appeared, or the first one went
            }
        } catch (IOException e) {
            // A half-written renewal, or the chain renewed before the key: the next change retries.
            LOG.log(Level.WARNING, "reload: failed, the previous certificate stays in use trigger={0} error=\"{1}\"",
                    trigger, e.getMessage());
        }
    }

    public MailboxStore store() {
        return store;
    }

    public List<TcpListener> listeners() {
        return List.copyOf(listeners);
    }

    /** The port a named endpoint listens on ("smtp", "imap", ..., "http", "https"). */
    public int port(String endpoint) {
        return listeners.stream().filter(l -> l.endpoint().name().equals(endpoint)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no endpoint " + endpoint)).port();
    }

    /** Graceful stop: listeners first (sessions finish within {@code grace}), then services, then the store. */
    public void stop(Duration grace) {
        if (!stopped.compareAndSet(false, true)) {
            return; // the folder may belong to another server by now: touch nothing
        }
        if (frontEnds != null) {
            frontEnds.beginStop(); // deliveries to other servers get their time beside the sessions' grace
        }
        List<Thread> stopping = new ArrayList<>();
        for (TcpListener l : listeners) {
            stopping.add(Thread.ofVirtual().start(() -> l.shutdown(grace)));
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (AutoCloseable s : services) {
            try {
                s.close();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "stopping a service failed", e);
            }
        }
        try {
            store.close();
        } finally {
            try {
                owner.close();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "releasing the data folder failed error=\"{0}\"", e.getMessage());
            }
        }
        LOG.log(Level.INFO, "stopped");
    }

    @Override
    public void close() {
        stop(Duration.ZERO);
    }

}

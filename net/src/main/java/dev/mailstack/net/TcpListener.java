package dev.mailstack.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.atomic.AtomicInteger;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Accepts connections on one endpoint and serves each on its own virtual thread. A permit is
 * taken before a connection is served and given back on every path (Helidon, STYLE.md R13);
 * clients over the total or per-address limit get the protocol's refusal and are closed. The
 * endpoint is a TCP port or, for a peer on this machine (Postfix's {@code lmtp:unix:}), a Unix
 * domain socket ({@link #startUnix}), served by the same session code.
 */
public final class TcpListener implements AutoCloseable {
    private static final Logger LOG = System.getLogger(TcpListener.class.getName());
    private static final int MAX_LINGERING_REFUSALS = 64;
    private static final Duration REFUSAL_LINGER = Duration.ofSeconds(1);
    private static final long REFUSAL_LINGER_BYTES = 64 * 1024;
    private static final AtomicLong IDS = new AtomicLong(Instant.now().getEpochSecond() % 1_000_000 * 1000);

    private final Endpoint endpoint;
    private final Protocol protocol;
    private final NetLimits limits;
    private final TlsContext tls;
    private final Semaphore permits;
    /** Connections per client network (an IPv6 client owns a /64: {@link Cidr#clientNetwork}). */
    private final Map<Cidr, AtomicInteger> perAddress = new ConcurrentHashMap<>();
    private final Set<Connection> active = ConcurrentHashMap.newKeySet();
    /** The TCP socket; null on a Unix domain socket. */
    private final ServerSocket server;
    /** The Unix domain socket and its file; null on TCP. */
    private final ServerSocketChannel unix;
    private final Path socketFile;
    private final Thread acceptor;
    private final Thread watchdog;
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean closing;
    private final AtomicLong accepted = new AtomicLong();
    /** Refused connections whose request is being drained before they close (see {@link #refuse}). */
    private final Semaphore lingering = new Semaphore(MAX_LINGERING_REFUSALS);

    private TcpListener(Endpoint endpoint, Protocol protocol, NetLimits limits, TlsContext tls) throws IOException {
        if (endpoint.tls() != TlsMode.NONE && tls == null) {
            throw new IllegalArgumentException(endpoint.name() + " needs a TLS certificate (tls.certificate / tls.key)");
        }
        this.endpoint = endpoint;
        this.protocol = protocol;
        this.limits = limits;
        this.tls = tls;
        this.permits = new Semaphore(limits.maxConnections());
        this.server = new ServerSocket();
        this.unix = null;
        this.socketFile = null;
        try {
            server.setReuseAddress(true);
            server.bind(endpoint.address(), 128);
        } catch (IOException | RuntimeException e) {
            server.close(); // a port taken is not the end of every caller: a test picks another
            throw e;
        }
        this.acceptor = Thread.ofVirtual().name(endpoint.name() + "-accept").unstarted(this::acceptLoop);
        this.watchdog = Thread.ofVirtual().name(endpoint.name() + "-write-watchdog").unstarted(this::watchWrites);
    }

    private TcpListener(Endpoint endpoint, Protocol protocol, NetLimits limits, Path socketFile,
                        Set<PosixFilePermission> mode, Optional<String> group) throws IOException {
        this.endpoint = endpoint;
        this.protocol = protocol;
        this.limits = limits;
        this.tls = null;
        this.permits = new Semaphore(limits.maxConnections());
        this.server = null;
        this.socketFile = socketFile;
        removeStale(socketFile);
        this.unix = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            unix.bind(UnixDomainSocketAddress.of(socketFile), 128);
        } catch (IOException | RuntimeException e) {
            unix.close(); // the file there, if any, is not ours: another server may have bound it meanwhile
            throw e;
        }
        try {
            // the umask decided the mode bind gave it; who may connect is decided here, on the socket we
            // just made (not through a link put in its place: the folder is ours, see lmtp.socket)
            if (!Files.isSymbolicLink(socketFile)) {
                // (a view that follows no links opens the file, which a socket refuses: ENXIO)
                PosixFileAttributeView view = Files.getFileAttributeView(socketFile, PosixFileAttributeView.class);
                if (group.isPresent()) {
                    view.setGroup(socketFile.getFileSystem().getUserPrincipalLookupService()
                            .lookupPrincipalByGroupName(group.get()));
                }
                view.setPermissions(mode);
            }
        } catch (IOException | RuntimeException e) {
            unix.close();
            Files.deleteIfExists(socketFile);
            throw e;
        }
        this.acceptor = Thread.ofVirtual().name(endpoint.name() + "-accept").unstarted(this::acceptLoop);
        this.watchdog = Thread.ofVirtual().name(endpoint.name() + "-write-watchdog").unstarted(this::watchWrites);
    }

    /**
     * A file left at {@code path} by a server that was killed is removed, as Postfix and Dovecot
     * do with their sockets at start; anything else there (a file, a folder, a socket another
     * process still listens on) is an error rather than something to delete.
     */
    private static void removeStale(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if (!(mode instanceof Integer m) || (m & 0170000) != 0140000) { // S_IFSOCK
            throw new IOException(path + " exists and is not a socket: not removed; remove it or choose another path");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException(path + " is in use: another process listens on it");
        } catch (java.net.ConnectException e) {
            Files.delete(path); // nobody listens: left by a server that did not stop cleanly
        }
    }

    /**
     * Listens on a Unix domain socket at {@code socketFile}, made with {@code mode} (0660: the
     * server's user and group) and given {@code group} when there is one (a group of its own, so
     * the MTA connecting need not join the server's, which reads its keys and mail), replacing a
     * stale socket file; the file is removed at shutdown.
     * Its clients count as this machine's ({@link Connection#isLoopback()}); TLS is never offered.
     */
    public static TcpListener startUnix(Endpoint endpoint, Path socketFile, Set<PosixFilePermission> mode,
                                        Optional<String> group, Protocol protocol, NetLimits limits) throws IOException {
        if (endpoint.tls() != TlsMode.NONE) {
            throw new IllegalArgumentException(endpoint.name() + ": no TLS on a Unix domain socket");
        }
        TcpListener l = new TcpListener(endpoint, protocol, limits, socketFile, mode, group);
        l.acceptor.start();
        l.watchdog.start();
        LOG.log(Level.INFO, "listening endpoint={0} socket={1} tls={2}", endpoint.name(), socketFile, endpoint.tls());
        return l;
    }

    /** Binds and starts accepting; the socket is open when this returns. */
    public static TcpListener start(Endpoint endpoint, Protocol protocol, NetLimits limits, TlsContext tls) throws IOException {
        TcpListener l = new TcpListener(endpoint, protocol, limits, tls);
        l.acceptor.start();
        l.watchdog.start();
        LOG.log(Level.INFO, "listening endpoint={0} address={1}:{2,number,#} tls={3}", endpoint.name(),
                l.server.getInetAddress().getHostAddress(), l.port(), endpoint.tls());
        return l;
    }

    /** The TCP port; -1 on a Unix domain socket. */
    public int port() {
        return server == null ? -1 : server.getLocalPort();
    }

    /** The Unix domain socket's file, if this listens on one. */
    public java.util.Optional<Path> socketFile() {
        return java.util.Optional.ofNullable(socketFile);
    }

    public Endpoint endpoint() {
        return endpoint;
    }

    public int activeConnections() {
        return active.size();
    }

    /** Connections accepted since start, refused ones included. */
    public long acceptedConnections() {
        return accepted.get();
    }

    /**
     * The connection permit is taken before accept, so no more sessions than the limit ever get a
     * thread; a client accepted without one gets the protocol's "too many connections" reply from
     * this thread and is closed at once (a few dozen bytes into a fresh socket's buffer never block).
     */
    private void acceptLoop() {
        while (!closing) {
            boolean permitted = permits.tryAcquire();
            Socket socket;
            SocketChannel channel = null;
            try {
                if (unix != null) {
                    channel = unix.accept();
                    socket = null;
                } else {
                    socket = server.accept();
                }
            } catch (IOException e) {
                if (permitted) {
                    permits.release();
                }
                if (closing || (server != null ? server.isClosed() : !unix.isOpen())) {
                    return;
                }
                // out of file descriptors (EMFILE), say: the listener must outlive it
                LOG.log(Level.ERROR, "accept failed endpoint=" + endpoint.name() + "; trying again in 100 ms", e);
                LockSupport.parkNanos(100_000_000L);
                continue;
            }
            accepted.incrementAndGet();
            String id = Long.toString(IDS.incrementAndGet(), 36);
            if (channel != null) {
                SocketChannel local = channel;
                if (!permitted && !permits.tryAcquire()) {
                    refuse(id, local, "max-connections", protocol.tooManyConnectionsReply());
                    continue;
                }
                Thread.ofVirtual().name(endpoint.name() + "-" + id + "-local").start(() -> handleLocal(id, local));
                continue;
            }
            if (!permitted && !permits.tryAcquire()) { // one may have come free while accept waited
                refuse(id, socket, "max-connections", protocol.tooManyConnectionsReply());
                continue;
            }
            String peer = socket.getInetAddress().getHostAddress();
            Thread.ofVirtual().name(endpoint.name() + "-" + id + "-" + peer).start(() -> handle(id, socket));
        }
    }

    /**
     * A clean reply where the protocol's first bytes are ours to send (not under implicit TLS), then
     * close; where the client speaks first, what it sent is drained on a thread of its own first,
     * a bounded number at once (past that, closed at once as before).
     */
    private void refuse(String id, Socket socket, String reason, String reply) {
        LOG.log(Level.WARNING, "connection refused conn={0} client={1} reason={2}", id,
                socket.getInetAddress().getHostAddress(), reason);
        boolean plain = endpoint.tls() != TlsMode.IMPLICIT;
        try {
            if (plain && !reply.isEmpty()) {
                socket.getOutputStream().write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
            }
            if (plain && protocol.clientSpeaksFirst() && lingering.tryAcquire()) {
                try {
                    Thread.ofVirtual().name(endpoint.name() + "-" + id + "-refused").start(() -> {
                        try {
                            Connection.drainThenClose(socket, REFUSAL_LINGER, REFUSAL_LINGER_BYTES);
                        } finally {
                            lingering.release();
                        }
                    });
                    return;
                } catch (RuntimeException e) {
                    lingering.release(); // no thread to drain on: close at once below
                }
            }
        } catch (IOException e) {
            // the client is gone already: close below
        }
        try {
            socket.close();
        } catch (IOException e) {
            // closing is all we wanted
        }
    }

    private void refuse(String id, SocketChannel channel, String reason, String reply) {
        LOG.log(Level.WARNING, "connection refused conn={0} client=local reason={1}", id, reason);
        try (channel) {
            if (reply.isEmpty()) {
                return;
            }
            channel.write(java.nio.ByteBuffer.wrap((reply + "\r\n").getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            // the client is gone already
        }
    }

    /**
     * Socket writes have no timeout of their own: once a second, every connection whose write has
     * waited longer than its idle timeout for the client to read is cut off, so a client that stops
     * reading cannot hold a session (and a POP3 maildrop, a shutdown) for ever.
     */
    private void watchWrites() {
        try {
            while (!closed.await(1, TimeUnit.SECONDS)) {
                long now = System.nanoTime();
                // While stopping, goodbyes go to clients that may not read them: a second is enough.
                long limit = closing ? TimeUnit.SECONDS.toNanos(1) : Long.MAX_VALUE;
                for (Connection c : active) {
                    if (c.writeStalled(now, limit)) {
                        LOG.log(Level.INFO, "write timeout conn={0}: the client stopped reading; closing", c.id());
                        c.abort();
                    } else if (c.readStalled(now)) {
                        c.timeOutRead(now); // a Unix domain socket has no SO_TIMEOUT, a TLS record's bytes each get it anew: kept here
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Serves one connection holding a permit, which it gives back on every path. */
    private void handle(String id, Socket socket) {
        InetAddress address = socket.getInetAddress();
        Cidr network = Cidr.clientNetwork(address);
        // counted and uncounted inside the map's compute, so that a counter dropped at zero by a
        // closing connection is never the one a new connection counts itself in
        int[] count = new int[1];
        perAddress.compute(network, (a, n) -> {
            AtomicInteger c = n == null ? new AtomicInteger() : n;
            count[0] = c.incrementAndGet();
            return c;
        });
        Connection connection = null;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout((int) limits.idleTimeout().toMillis());
            if (count[0] > limits.maxConnectionsPerIp() || closing) {
                Socket refused = socket;
                socket = null; // refuse closes it, perhaps later
                refuse(id, refused, closing ? "shutting-down" : "max-connections-per-ip",
                        closing ? protocol.shutdownReply() : protocol.tooManyConnectionsReply());
                return;
            }
            Socket tcp = socket;
            if (endpoint.tls() == TlsMode.IMPLICIT) {
                socket = tls.wrap(socket, true, limits.idleTimeout()); // the whole handshake within one idle timeout
                if (closing) {
                    return; // the server stopped during the handshake: a session now would outlive it
                }
            }
            connection = new Connection(id, endpoint, tcp, socket, tls, limits);
            active.add(connection);
            LOG.log(Level.INFO, "connect conn={0} endpoint={1} client={2}", id, endpoint.name(), address.getHostAddress());
            serve(id, connection);
        } catch (IOException | RuntimeException e) {
            ended(id, e);
        } finally {
            close(id, connection, socket);
            perAddress.computeIfPresent(network, (a, n) -> n.decrementAndGet() == 0 ? null : n);
            permits.release();
            // last: once a connection is no longer counted active, its limits are released too
            if (connection != null) {
                active.remove(connection);
            }
        }
    }

    /** How a session's thread ended on an exception, in the log: a client gone is no server error. */
    private static void ended(String id, Exception e) {
        switch (e) {
            case LineTooLongException tooLong -> LOG.log(Level.INFO, "line too long conn={0}", id);
            case SocketException dropped -> LOG.log(Level.DEBUG, "connection dropped conn={0}: {1}", id, e.toString());
            case javax.net.ssl.SSLException dropped -> LOG.log(Level.DEBUG, "connection dropped conn={0}: {1}", id, e.toString());
            case java.nio.channels.ClosedChannelException dropped ->
                    LOG.log(Level.DEBUG, "connection dropped conn={0}: {1}", id, e.toString());
            case java.io.EOFException dropped -> LOG.log(Level.DEBUG, "connection dropped conn={0}: {1}", id, e.toString());
            case IOException failed -> LOG.log(Level.INFO, "connection error conn={0}: {1}", id, e.toString());
            default -> LOG.log(Level.ERROR, "session failed conn=" + id, e);
        }
    }

    /** The session's connection closed (and logged), or without one, what was accepted. */
    private static void close(String id, Connection connection, java.io.Closeable accepted) {
        if (connection != null) {
            connection.close();
            LOG.log(Level.INFO, "disconnect conn={0}", id);
            return;
        }
        try {
            if (accepted != null) { // null: handed to refuse, which closes it
                accepted.close();
            }
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** The protocol's session, and the goodbye its ending asks for. */
    private void serve(String id, Connection connection) throws IOException {
        try {
            protocol.serve(connection);
        } catch (SocketTimeoutException e) {
            LOG.log(Level.INFO, "idle timeout conn={0}", id);
            say(connection, protocol.idleTimeoutReply());
        } catch (ShutdownException e) {
            if (connection.takeGoodbye()) { // unless the shutdown said it while this session read its last line
                say(connection, protocol.shutdownReply());
            }
        } catch (SessionEndedException e) {
            LOG.log(Level.INFO, "session ended from outside conn={0}", id);
            if (e.goodbye().isPresent()) {
                connection.reply(e.goodbye().get());
            }
        }
    }

    /** One of the protocol's replies; an empty one is no reply at all ({@link Protocol}). */
    private static void say(Connection connection, String reply) throws IOException {
        if (!reply.isEmpty()) {
            connection.reply(reply);
        }
    }

    /**
     * Serves one connection of the Unix domain socket holding a permit, which it gives back on
     * every path. No per-address limit: every client is this machine (the MTA in front, whose own
     * limit, Postfix's lmtp_destination_concurrency_limit, applies), and only the total counts.
     */
    private void handleLocal(String id, SocketChannel channel) {
        Connection connection = null;
        try {
            if (closing) {
                refuse(id, channel, "shutting-down", protocol.shutdownReply());
                return;
            }
            connection = new Connection(id, endpoint, channel, limits);
            active.add(connection);
            LOG.log(Level.INFO, "connect conn={0} endpoint={1} client=local", id, endpoint.name());
            serve(id, connection);
        } catch (IOException | RuntimeException e) {
            ended(id, e);
        } finally {
            close(id, connection, channel);
            permits.release();
            if (connection != null) {
                active.remove(connection);
            }
        }
    }

    /**
     * Stops accepting, tells sessions waiting for a command goodbye, lets the others finish what
     * they are doing (a DATA transfer, a FETCH) until {@code grace} runs out, then cuts them off.
     */
    public void shutdown(Duration grace) {
        closing = true;
        try {
            if (unix != null) {
                Files.deleteIfExists(socketFile); // first: no client finds a socket that takes no connections
                unix.close();
            } else {
                server.close();
            }
        } catch (IOException ignored) {
            // the socket is closed either way
        }
        Instant deadline = Instant.now().plus(grace);
        for (Connection c : active) {
            c.startShutdown();
        }
        while (!active.isEmpty() && Instant.now().isBefore(deadline)) {
            for (Connection c : active) {
                if (c.awaitingCommand() && c.takeGoodbye()) {
                    boolean said;
                    try {
                        String reply = protocol.shutdownReply();
                        said = reply.isEmpty() || c.tryReply(reply);
                    } catch (IOException e) {
                        said = false; // the client is gone already
                    }
                    if (said) {
                        c.close();
                    } else {
                        c.abort(); // another thread (an IDLE notifier) is stuck writing to it: no goodbye
                    }
                }
            }
            try {
                Thread.sleep(20); // polling a handful of sessions for a few seconds at shutdown only
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Connection c : active) {
            c.abort(); // the grace is over: the TCP socket itself, so a TLS close cannot wait on a stuck write
        }
        closed.countDown();
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}

package dev.mailstack.server;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The running server's door for its own command line: a Unix domain socket at
 * {@code data/control/control.sock}, in a folder only the server's user and root may enter.
 * {@code mailstack import} hands its messages over here ({@link ControlSession}) while the server
 * runs, so they are stored by the server's own writers: in turn with deliveries and IMAP to the
 * same account (H2 must never see two writers of one account, see the store's AccountWriters) and
 * announced to the IMAP sessions and IDLE that have the mailbox open. {@code mailstack user add,
 * passwd, del} and {@code import} send their changes the same way, so a deleted account's IMAP,
 * POP3 and SMTP sessions, which only hear of deletions in this process, end at once. Opened only by
 * the owner of the {@link DataFolderLock}, so a socket file found here was left by a server that died.
 */
final class ControlSocket implements AutoCloseable {
    private static final Logger LOG = System.getLogger(ControlSocket.class.getName());
    /**
     * A connection whose other side is silent this long (sends nothing, or takes no reply) is
     * closed: an import sends a chunk at least every few milliseconds. Time the server spends on a
     * request (a long USER DEL, say) does not count ({@link ControlSession#idleNanos}).
     */
    static final Duration IDLE = Duration.ofMinutes(5);

    private final Path path;
    private final ServerSocketChannel channel;
    private final MailboxStore store;
    private final MimeLimits limits;
    private final Duration idle;
    private final Map<SocketChannel, Connection> connections = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread acceptor;
    private final Thread watchdog;
    private volatile boolean closing;

    private record Connection(ControlSession session, Thread thread) {
    }

    private ControlSocket(Path path, ServerSocketChannel channel, MailboxStore store, MimeLimits limits, Duration idle) {
        this.path = path;
        this.channel = channel;
        this.store = store;
        this.limits = limits;
        this.idle = idle;
        this.acceptor = Thread.ofVirtual().name("control-accept").unstarted(this::acceptLoop);
        this.watchdog = Thread.ofVirtual().name("control-idle-watchdog").unstarted(this::closeIdle);
    }

    static Path path(Path dataDir) {
        return dataDir.resolve("control").resolve("control.sock");
    }

    /**
     * Where versions before the rename listened, when imports were all the socket took. No client
     * looks there any more; a file left by such a server (stopped by the update, or killed) is
     * removed at start so that nobody takes it for a way in.
     */
    static Path formerPath(Path dataDir) {
        return dataDir.resolve("control").resolve("import.sock");
    }

    /**
     * Listens, replacing a socket file a killed server left. Empty, with a warning, where the folder
     * cannot be made private or the path is too long for a socket (about 100 bytes): imports then
     * tell the administrator that the server runs without one.
     */
    static Optional<ControlSocket> open(Path dataDir, MailboxStore store, MimeLimits limits, Duration idle) throws IOException {
        Path dir = DataFolderLock.controlFolder(dataDir);
        if (!DataFolderLock.makePrivate(dir)) {
            LOG.log(Level.WARNING, "control socket off: cannot make {0} private to this user (rwx------); chown it to"
                    + " the server's user. Until then mailstack import and user add/passwd/del refuse to run while the"
                    + " server does", dir);
            return Optional.empty();
        }
        Path path = path(dataDir);
        Files.deleteIfExists(path);
        Files.deleteIfExists(formerPath(dataDir));
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException | IllegalArgumentException e) {
            channel.close();
            LOG.log(Level.WARNING, "control socket off: cannot listen on {0} error=\"{1}\". Until then mailstack import"
                    + " and user add/passwd/del refuse to run while the server does", path, e.getMessage());
            return Optional.empty();
        }
        ControlSocket socket = new ControlSocket(path, channel, store, limits, idle);
        socket.acceptor.start();
        socket.watchdog.start();
        return Optional.of(socket);
    }

    private void acceptLoop() {
        while (!closing) {
            SocketChannel client;
            try {
                client = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                // Out of file descriptors, say: the next accept may work; a client waits meanwhile.
                LOG.log(Level.WARNING, "control socket: accept failed, retrying error=\"{0}\"", e.getMessage());
                LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
                continue;
            }
            if (closing) {
                closeQuietly(client); // taken in the moment the socket closed: close() has already looked
                return;
            }
            String id = "ctl" + ids.incrementAndGet();
            try {
                ControlSession session = new ControlSession(store, limits, id, Channels.newInputStream(client),
                        Channels.newOutputStream(client));
                Thread thread = Thread.ofVirtual().name("control-" + id).unstarted(() -> serve(client, session, id));
                connections.put(client, new Connection(session, thread));
                thread.start();
            } catch (RuntimeException e) {
                connections.remove(client);
                closeQuietly(client);
                LOG.log(Level.WARNING, "control socket: cannot serve a connection", e);
            }
        }
    }

    private void serve(SocketChannel client, ControlSession session, String id) {
        try (client) {
            session.run();
        } catch (IOException e) {
            if (!closing) {
                LOG.log(Level.INFO, "control: connection ended conn={0} error=\"{1}\"", id, e.getMessage());
            }
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "control: request failed conn=" + id, e);
        } finally {
            connections.remove(client);
        }
    }

    private void closeIdle() {
        while (!closing) {
            LockSupport.parkNanos(Math.min(idle.toNanos() / 4, Duration.ofSeconds(15).toNanos()));
            long now = System.nanoTime();
            connections.forEach((client, c) -> {
                if (c.session().idleNanos(now) > idle.toNanos()) {
                    LOG.log(Level.INFO, "control: closing a connection silent for {0} ms conn={1}", idle.toMillis(),
                            c.session().id());
                    closeQuietly(client);
                }
            });
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /**
     * Removes the socket, stops accepting and ends the connections: their input ends at once, a
     * message being stored gets a few seconds to commit and send its OK, then what is left is closed.
     */
    @Override
    public void close() {
        closing = true;
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "control socket: cannot remove {0} error=\"{1}\"", path, e.getMessage());
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "control socket: close failed error=\"{0}\"", e.getMessage());
        }
        watchdog.interrupt(); // parked, not in I/O: an interrupt only wakes it
        try {
            acceptor.join();
            for (SocketChannel c : connections.keySet()) {
                try {
                    c.shutdownInput();
                } catch (IOException e) {
                    closeQuietly(c);
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            for (Connection c : connections.values()) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !c.thread().join(Duration.ofNanos(left))) {
                    LOG.log(Level.WARNING, "control: {0} still running at stop, closing it", c.thread().getName());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            connections.keySet().forEach(ControlSocket::closeQuietly);
        }
    }
}

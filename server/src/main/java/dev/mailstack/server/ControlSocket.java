package dev.mailstack.server;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.net.LineReader;
import dev.mailstack.net.LineTooLongException;
import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The running server's door for its own command line: a Unix domain socket at
 * {@code data/control/import.sock}, in a folder only the server's user (and root) may enter.
 * {@code mailstack import} hands its messages over here while the server runs, so they are
 * stored by the server's own writers: in turn with deliveries and IMAP to the same account
 * (H2 must never see two writers of one account, see AccountWriters), and announced to the
 * IMAP sessions and IDLE that have the mailbox open. One line per request, UTF-8, LF:
 * <pre>
 * IMPORT address                                  OK | ERR text
 * MAILBOX name                                    OK | ERR text   (created unless it exists)
 * MESSAGE octets epoch-millis flags mailbox       OK | ERR text   (the octets follow the line;
 *                                                 flags are Maildir letters "SRFTD" or "-")
 * </pre>
 */
final class ControlSocket implements AutoCloseable {
    private static final Logger LOG = System.getLogger(ControlSocket.class.getName());
    private static final int MAX_LINE = 4096;

    private final Path path;
    private final ServerSocketChannel channel;
    private final MailboxStore store;
    private final MimeLimits limits;
    private final Map<SocketChannel, Thread> clients = new ConcurrentHashMap<>();
    private final Thread acceptor;

    private ControlSocket(Path path, ServerSocketChannel channel, MailboxStore store, MimeLimits limits) {
        this.path = path;
        this.channel = channel;
        this.store = store;
        this.limits = limits;
        this.acceptor = Thread.ofVirtual().name("control-accept").start(this::acceptLoop);
    }

    static Path path(Path dataDir) {
        return dataDir.resolve("control").resolve("import.sock");
    }

    /**
     * Opens the socket, replacing one a killed server left behind. Empty, with a warning, where
     * the platform or the path's length (about 100 bytes) allows none: imports then open the
     * store themselves, as they do when no server runs.
     */
    static Optional<ControlSocket> open(Path dataDir, MailboxStore store, MimeLimits limits) throws IOException {
        Path path = path(dataDir);
        Path dir = path.getParent();
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            LOG.log(Level.WARNING, "control socket off: no POSIX permissions here to keep it private");
            return Optional.empty();
        }
        if (Files.exists(path)) {
            try (SocketChannel other = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                throw new ConfigException("another mailstack server runs on the data folder " + dataDir.toAbsolutePath()
                        + " (its control socket " + path + " answers): stop it first");
            } catch (ConnectException e) {
                Files.deleteIfExists(path); // left by a server that was killed
            }
        }
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException | IllegalArgumentException e) {
            channel.close();
            LOG.log(Level.WARNING, "control socket off: cannot listen on {0} error=\"{1}\"; imports open the store"
                    + " themselves", path, e.getMessage());
            return Optional.empty();
        }
        return Optional.of(new ControlSocket(path, channel, store, limits));
    }

    private void acceptLoop() {
        while (true) {
            SocketChannel client;
            try {
                client = channel.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                LOG.log(Level.WARNING, "control socket: accept failed error=\"{0}\"", e.getMessage());
                return;
            }
            Thread t = Thread.ofVirtual().name("control").unstarted(() -> {
                try (client) {
                    serve(Channels.newInputStream(client), Channels.newOutputStream(client));
                } catch (IOException e) {
                    LOG.log(Level.INFO, "control: connection ended error=\"{0}\"", e.getMessage());
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "control: request failed", e);
                } finally {
                    clients.remove(client);
                }
            });
            clients.put(client, t);
            t.start();
        }
    }

    private void serve(InputStream in, OutputStream out) throws IOException {
        LineReader reader = new LineReader(in, MAX_LINE);
        StoreImport target = null;
        String address = null;
        int imported = 0;
        try {
            for (String line; (line = reader.readLine()) != null; ) {
                String[] words = line.split(" ", 2);
                String reply;
                try {
                    switch (words[0]) {
                        case "IMPORT" -> {
                            String who = words.length > 1 ? words[1] : "";
                            Account account = store.accounts().find(who).orElseThrow(() -> new IllegalArgumentException(
                                    "no user " + who + ": create it first (mailstack user add)"));
                            address = account.address();
                            target = new StoreImport(store, store.open(account.id()), limits);
                        }
                        case "MAILBOX" -> requireUser(target).ensure(new MailboxName(words.length > 1 ? words[1] : ""));
                        case "MESSAGE" -> {
                            String[] f = (words.length > 1 ? words[1] : "").split(" ", 4);
                            long octets = octets(f[0]);
                            if (octets < 0) {
                                // Where the octets end is unknown: nothing more can be read in step.
                                reply(out, "ERR MESSAGE needs its octet count first; connection closed");
                                return;
                            }
                            if (target == null) {
                                reader.skip(octets);
                                throw new IllegalArgumentException("IMPORT address first");
                            }
                            message(f, octets, reader, target);
                            imported++;
                        }
                        default -> throw new IllegalArgumentException("unknown request " + words[0]
                                + " (IMPORT, MAILBOX or MESSAGE)");
                    }
                    reply = "OK";
                } catch (IllegalArgumentException | StoreException e) {
                    reply = "ERR " + e.getMessage();
                }
                reply(out, reply);
            }
        } catch (LineTooLongException e) {
            reply(out, "ERR request line over " + MAX_LINE + " bytes; connection closed");
        } finally {
            if (address != null) {
                LOG.log(Level.INFO, "control: import user={0} messages={1}", address, imported);
            }
        }
    }

    private static StoreImport requireUser(StoreImport target) {
        if (target == null) {
            throw new IllegalArgumentException("IMPORT address first");
        }
        return target;
    }

    private static long octets(String word) {
        try {
            return Long.parseLong(word);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The octets are read whatever else the line says, so an ERR leaves the stream in step. */
    private static void message(String[] f, long octets, LineReader reader, StoreImport target) throws IOException {
        try (ImportTarget.Draft draft = target.draft()) {
            reader.readExactly(octets, draft);
            if (f.length < 4) {
                throw new IllegalArgumentException("MESSAGE octets epoch-millis flags mailbox");
            }
            Instant date;
            try {
                date = Instant.ofEpochMilli(Long.parseLong(f[1]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a time in milliseconds: " + f[1]);
            }
            draft.store(new MailboxName(f[3]), MailImport.flags(":2," + f[2]), date);
        }
    }

    private static void reply(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Stops accepting, ends the imports under way (a message not yet stored is not stored) and removes the socket. */
    @Override
    public void close() {
        try {
            channel.close();
            acceptor.join();
            for (Map.Entry<SocketChannel, Thread> c : clients.entrySet()) {
                c.getKey().close();
                c.getValue().join(Duration.ofSeconds(5)); // a commit under way ends, then its reply fails
            }
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(Level.WARNING, "control socket: close failed error=\"{0}\"", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.mailstack.server;

import com.sun.security.auth.module.UnixSystem;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/**
 * How a command that writes to the store reaches it ({@code mailstack import}, {@code mailstack
 * user add|passwd|del|import}). While the server runs: through its {@link ControlSocket}, so the
 * change takes turns with the server's own writers of the account (H2 must never see two, see the
 * store's AccountWriters) and the server acts on it: IMAP sessions hear of imported mail, a deleted
 * account's sessions end. With no server: into the store itself, owning the data folder
 * ({@link DataFolderLock}) until done, so that no server starts meanwhile. Never beside a running
 * server through H2's auto-server, where neither would hold; without its control socket the
 * command refuses and says why.
 */
sealed interface StoreAccess extends AutoCloseable {
    /** The running server, through its control socket. */
    record ThroughServer(ControlClient server) implements StoreAccess {
        @Override
        public AccountAdmin accounts() {
            return server;
        }

        @Override
        public ImportTarget importInto(String address) throws IOException {
            server.importInto(address);
            return server;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** The store itself, this process owning the data folder until closed. */
    record Owner(DataFolderLock lock, MailboxStore store, MimeLimits limits) implements StoreAccess {
        @Override
        public AccountAdmin accounts() {
            return new StoreAccountAdmin(store);
        }

        @Override
        public ImportTarget importInto(String address) {
            Account user = store.accounts().find(address)
                    .orElseThrow(() -> new CommandFailure("no user " + address + ": create it first (mailstack user add)"));
            return new StoreImport(store, store.open(user.id()), limits);
        }

        /** The store first, then the folder: as the server does, no one else opens it before it is closed. */
        @Override
        public void close() throws IOException {
            try {
                store.close();
            } finally {
                lock.close();
            }
        }
    }

    /** Where {@code mailstack user}'s changes go. */
    AccountAdmin accounts();

    /** Where messages imported for {@code address} go; a {@link CommandFailure} when there is no such user. */
    ImportTarget importInto(String address) throws IOException;

    @Override
    void close() throws IOException;

    /**
     * How long a command waits for a server that holds the data folder but has no control socket
     * yet: it takes the folder before it opens its store (migrations, the sweep of unused files)
     * and opens the socket after that, a few seconds as a rule. Bounded, because the holder may
     * as well be an import run with no server, or a server whose socket is off.
     */
    Duration STARTING_SERVER_WAIT = Duration.ofSeconds(10);
    /** Between looks at the folder's lock and socket while waiting; neither tells anyone when it changes. */
    Duration POLL = Duration.ofMillis(100);

    /**
     * The running server when one answers, else the store owned by this process. Refuses (a
     * {@link CommandFailure} that says what to do) when another process owns the folder and no
     * server answers within {@link #STARTING_SERVER_WAIT}, and when the folder belongs to another
     * user and no server runs: what this user wrote into the store could not be read by the server
     * afterwards. {@code what} and {@code command} name the command in those messages ("the
     * import", "import").
     */
    static StoreAccess open(StoreOptions options, Config config, String what, String command) throws IOException {
        DataFolder.mustExist(config);
        return openOrMake(options, config, what, command);
    }

    /** The same for a command that may start a store (user add, user import): the data folder is made if missing. */
    static StoreAccess openOrMake(StoreOptions options, Config config, String what, String command) throws IOException {
        Path data = config.dataDir();
        if (Files.exists(data) && !ownedByThisUser(data)) {
            // Root, say, with a Maildir only it may read: through the server or not at all.
            String folderOwner = Files.getOwner(data).getName(); // the uid's number when it has no name
            String sudo = folderOwner.chars().allMatch(Character::isDigit) ? "'#" + folderOwner + "'" : folderOwner;
            Optional<ControlClient> server = server(data, what);
            // as below, a server that is starting is waited for, seen by its lock (never taken here)
            long deadline = System.nanoTime() + STARTING_SERVER_WAIT.toNanos();
            boolean told = false;
            while (server.isEmpty() && System.nanoTime() - deadline < 0 && DataFolderLock.heldByAnother(data)) {
                told = tellWaiting(data, told);
                LockSupport.parkNanos(POLL.toNanos());
                server = server(data, what);
            }
            return new ThroughServer(server.orElseThrow(() -> new CommandFailure("no mailstack server"
                    + " answers on " + ControlSocket.path(data) + " (one still starting? try again in a moment), and the"
                    + " data folder " + data + " belongs to " + folderOwner + ", so without a running server " + what
                    + " must run as " + folderOwner + " (sudo -u " + sudo + " mailstack " + command + " ...)")));
        }
        // A user who runs a command just after starting the server wants the change made, not a
        // message to try again: so wait a little for a starting server's socket (or for the folder
        // to be free, when the holder was a short import), saying so, then give up with every reason.
        long deadline = System.nanoTime() + STARTING_SERVER_WAIT.toNanos();
        boolean told = false;
        while (true) {
            Optional<DataFolderLock> owner = DataFolderLock.tryTake(data);
            if (owner.isPresent()) {
                return owning(owner.get(), options, config);
            }
            Optional<ControlClient> server = server(data, what);
            if (server.isPresent()) {
                return new ThroughServer(server.get());
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new CommandFailure("another mailstack process owns " + data + " (" + data.resolve("control/owner.lock")
                        + " is locked) and no server answered on " + ControlSocket.path(data) + " for "
                        + STARTING_SERVER_WAIT.toSeconds() + " s: a server that is still starting (try again in a"
                        + " moment), an import with no server running (wait for it to end), or a server whose control"
                        + " socket is off (its log says why)");
            }
            told = tellWaiting(data, told);
            LockSupport.parkNanos(POLL.toNanos());
        }
    }

    /** Says once that the command waits, and why; true from then on. */
    private static boolean tellWaiting(Path data, boolean told) {
        if (!told) {
            System.err.println("mailstack: another mailstack process owns " + data + " and has no control socket yet"
                    + " (a server starting?); waiting up to " + STARTING_SERVER_WAIT.toSeconds() + " s for it");
        }
        return true;
    }

    private static StoreAccess owning(DataFolderLock owner, StoreOptions options, Config config) throws IOException {
        try {
            return new Owner(owner, options.openOwned(config), config.mimeLimits());
        } catch (RuntimeException e) {
            try {
                owner.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /**
     * By uid, not by name: a container's uid often has no passwd entry, and then the JDK names
     * this process's user "?" while the folder's owner shows as the number, so names never match.
     */
    static boolean ownedByThisUser(Path data) throws IOException {
        int folder = (Integer) Files.getAttribute(data, "unix:uid");
        return folder == new UnixSystem().getUid();
    }

    /** The server on its control socket; empty when none answers there. */
    private static Optional<ControlClient> server(Path data, String what) throws IOException {
        Path socket = ControlSocket.path(data);
        if (Files.isDirectory(socket.getParent()) && !Files.isExecutable(socket.getParent())) {
            // The socket's folder is the server user's alone: from here a running server looks like none.
            throw new CommandFailure("cannot reach " + socket + " (permission denied): run " + what + " as the user the"
                    + " server runs as (sudo -u mailstack ...) or as root");
        }
        return ControlClient.connect(data);
    }
}

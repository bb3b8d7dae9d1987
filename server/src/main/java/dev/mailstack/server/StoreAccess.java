package dev.mailstack.server;

import com.sun.security.auth.module.UnixSystem;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

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
     * The running server when one answers, else the store owned by this process. Refuses (a
     * {@link CommandFailure} that says what to do) when another process owns the folder and no
     * server answers, and when the folder belongs to another user and no server runs: what this
     * user wrote into the store could not be read by the server afterwards. {@code what} and
     * {@code command} name the command in those messages ("the import", "import").
     */
    static StoreAccess open(StoreOptions options, Config config, String what, String command) throws IOException {
        Path data = config.dataDir();
        if (Files.exists(data) && !ownedByThisUser(data)) {
            // Root, say, with a Maildir only it may read: through the server or not at all.
            String folderOwner = Files.getOwner(data).getName(); // the uid's number when it has no name
            String sudo = folderOwner.chars().allMatch(Character::isDigit) ? "'#" + folderOwner + "'" : folderOwner;
            return new ThroughServer(server(data, what, "the data folder " + data + " belongs to " + folderOwner
                    + ", so without a running server " + what + " must run as " + folderOwner + " (sudo -u "
                    + sudo + " mailstack " + command + " ...)"));
        }
        Optional<DataFolderLock> owner = DataFolderLock.tryTake(data);
        if (owner.isEmpty()) {
            return new ThroughServer(server(data, what, "another mailstack process owns " + data + " ("
                    + data.resolve("control/owner.lock") + " is locked): if it is an import, wait for it to end; if it"
                    + " is the server, its log says why its control socket is off"));
        }
        try {
            return new Owner(owner.get(), options.openStore(config), config.mimeLimits());
        } catch (RuntimeException e) {
            try {
                owner.get().close();
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
    private static boolean ownedByThisUser(Path data) throws IOException {
        int folder = (Integer) Files.getAttribute(data, "unix:uid");
        return folder == new UnixSystem().getUid();
    }

    private static ControlClient server(Path data, String what, String whyNotWithout) throws IOException {
        Path socket = ControlSocket.path(data);
        if (Files.isDirectory(socket.getParent()) && !Files.isExecutable(socket.getParent())) {
            // The socket's folder is the server user's alone: from here a running server looks like none.
            throw new CommandFailure("cannot reach " + socket + " (permission denied): run " + what + " as the user the"
                    + " server runs as (sudo -u mailstack ...) or as root");
        }
        return ControlClient.connect(data).orElseThrow(() -> new CommandFailure(
                "no mailstack server answers on " + socket + ", and " + whyNotWithout));
    }
}

package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** --config and --data, shared by every command that opens the store. */
final class StoreOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "Configuration file (see docs/configuration.md).")
    Path config;

    @Option(names = "--data", paramLabel = "DIR", description = "Data folder (overrides data_dir).")
    Path data;

    Config config() {
        Config c = Config.load(Optional.ofNullable(config), System.getenv());
        if (data != null) {
            c.set(ConfigKey.DATA_DIR, data.toString(), "--data");
        }
        return c;
    }

    /** The store of a command that only reads or changes what is there: refused when the data folder is missing. */
    MailboxStore openStore() {
        return openStore(config());
    }

    /** Opens the store of a configuration already loaded, for a command that needs more of it. */
    MailboxStore openStore(Config c) {
        DataFolder.mustExist(c);
        return besideOrAlone(c);
    }

    /** The store of a command that may start one (domain add): makes the data folder if needed, and says so. */
    MailboxStore openOrMakeStore() {
        Config c = config();
        DataFolder folder = DataFolder.mayBeMade(c);
        MailboxStore store = besideOrAlone(c);
        folder.reportIfMade();
        return store;
    }

    /** The store of a command that owns the data folder ({@link StoreAccess.Owner}): migrated, as a server does. */
    MailboxStore openOwned(Config c) {
        return MailboxStore.open(c.dataDir(), c.optional(ConfigKey.JDBC_URL).orElse(null));
    }

    /**
     * Beside a running server (it holds the data folder) the database is opened as it is: the
     * schema is the server's to upgrade, as it starts, and one this mailstack does not share is
     * refused with what to do. With none, the command holds the folder while its store is open, as
     * a server would, and migrates it: a server that started meanwhile would otherwise have opened
     * the database through this short-lived process (H2's auto-server) and lost it when the command
     * ended. A folder of another user is opened without taking it (the lock file would be this
     * user's); such commands belong to the server's user.
     */
    private static MailboxStore besideOrAlone(Config c) {
        String url = c.optional(ConfigKey.JDBC_URL).orElse(null);
        Path dir = c.dataDir();
        if (DataFolderLock.heldByAnother(dir)) {
            return MailboxStore.openAsItIs(dir, url);
        }
        Optional<DataFolderLock> held = ownedByThisUser(dir) ? take(dir) : Optional.empty();
        if (held.isEmpty()) {
            return DataFolderLock.heldByAnother(dir) ? MailboxStore.openAsItIs(dir, url) : MailboxStore.open(dir, url);
        }
        try {
            return MailboxStore.open(dir, url).closingAlso(held.get());
        } catch (RuntimeException e) {
            try {
                held.get().close();
            } catch (java.io.IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private static Optional<DataFolderLock> take(Path dir) {
        try {
            return DataFolderLock.tryTake(dir);
        } catch (java.io.IOException e) {
            throw new CommandFailure("cannot lock the data folder " + dir + ": " + e.getMessage());
        }
    }

    /** {@link StoreAccess#ownedByThisUser}; a folder not made yet is this user's to make. */
    private static boolean ownedByThisUser(Path dir) {
        try {
            return !java.nio.file.Files.exists(dir) || StoreAccess.ownedByThisUser(dir);
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}

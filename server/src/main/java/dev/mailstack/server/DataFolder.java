package dev.mailstack.server;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The data folder as a command finds it. The data folder is relative to the working directory by
 * default, so a command run from another folder would otherwise open, and make, a new empty store
 * there and answer as if it were the server's: {@code user list} printing nothing. Only the
 * commands that start a store (serve, restore, domain add, user add, user import) may make it, and
 * they say so; the others refuse.
 */
final class DataFolder {
    private final Path folder;
    private final boolean existed;

    private DataFolder(Path folder, boolean existed) {
        this.folder = folder;
        this.existed = existed;
    }

    /** For a command that only reads or changes what is there: a {@link CommandFailure} when the folder is missing. */
    static DataFolder mustExist(Config config) {
        Path folder = absolute(config);
        if (!Files.isDirectory(folder)) {
            throw new CommandFailure("no data folder at " + folder + ": run from the folder you started the server in,"
                    + " or pass --data");
        }
        return new DataFolder(folder, true);
    }

    /** For a command that may make the folder: notes whether it is there before the command runs. */
    static DataFolder mayBeMade(Config config) {
        Path folder = absolute(config);
        return new DataFolder(folder, Files.isDirectory(folder));
    }

    /** After the command: one line on standard error when the folder was made by it, so a mistake shows at once. */
    void reportIfMade() {
        if (!existed && Files.isDirectory(folder)) {
            System.err.println("mailstack: created a new data folder at " + folder);
        }
    }

    private static Path absolute(Config config) {
        return config.dataDir().toAbsolutePath().normalize();
    }
}

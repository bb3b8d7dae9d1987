package dev.mailstack.server;

import dev.mailstack.store.Backup;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Write the whole data folder to FILE (a zip), consistently, while the server runs.")
final class BackupCommand implements Runnable {
    @Mixin
    StoreOptions options;
    @Parameters(paramLabel = "FILE")
    Path file;

    @Override
    public void run() {
        try (MailboxStore store = options.openStore()) {
            Backup.write(store, options.config().dataDir(), file.toAbsolutePath());
            System.out.println("backed up " + options.config().dataDir() + " to " + file);
        } catch (IOException e) {
            throw new CommandFailure("backup failed: " + e.getMessage());
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Unpack a backup FILE into the (empty) data folder; start the server afterwards.")
    static final class Restore implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "FILE")
        Path file;

        @Override
        public void run() {
            try {
                Backup.restore(file, options.config().dataDir());
                System.out.println("restored " + file + " into " + options.config().dataDir());
            } catch (IOException e) {
                throw new CommandFailure("restore failed: " + e.getMessage());
            }
        }
    }
}

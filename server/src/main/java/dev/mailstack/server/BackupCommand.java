package dev.mailstack.server;

import dev.mailstack.store.Backup;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
        // checked before the store opens: the zip is written beside a temporary name in that folder,
        // whose name was all a missing folder's NoSuchFileException said
        Path folder = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(folder)) {
            throw new CommandFailure("no such folder: " + folder + " (create it first, or give FILE in another folder)");
        }
        try (MailboxStore store = options.openStore()) {
            Backup.write(store, options.config().dataDir(), file.toAbsolutePath());
            System.out.println("backed up " + options.config().dataDir() + " to " + file);
        } catch (IOException e) {
            throw new CommandFailure("backup failed: " + describe(e));
        }
    }

    /** The JDK's file exceptions carry only the path as their message: say what happened to it. */
    static String describe(IOException e) {
        if (e instanceof NoSuchFileException n) {
            return "no such file or folder: " + n.getFile();
        }
        if (e instanceof AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (e instanceof FileAlreadyExistsException x) {
            return "already exists: " + x.getFile();
        }
        return e.getMessage();
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = "Unpack a backup FILE into the (empty) data folder, with the server stopped; start it afterwards.")
    static final class Restore implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "FILE")
        Path file;

        @Override
        public void run() {
            if (!Files.isRegularFile(file)) {
                throw new CommandFailure((Files.exists(file) ? "not a file: " : "no such file: ") + file);
            }
            Path data = options.config().dataDir();
            DataFolder folder = DataFolder.mayBeMade(options.config());
            // The folder's owner for the whole restore: a server started meanwhile (systemd's
            // Restart=on-failure) would otherwise open the database while it is being written.
            try {
                DataFolderLock owner = DataFolderLock.tryTake(data).orElseThrow(() -> new CommandFailure(
                        "another mailstack process owns " + data + " (" + data.resolve("control/owner.lock") + " is"
                                + " locked): a running server (stop it first: systemctl stop mailstack) or an import;"
                                + " nothing restored"));
                try (owner) {
                    Backup.restore(file, data);
                }
                System.out.println("restored " + file + " into " + data);
            } catch (IOException e) {
                throw new CommandFailure("restore failed: " + describe(e));
            } finally {
                folder.reportIfMade();
            }
        }
    }
}

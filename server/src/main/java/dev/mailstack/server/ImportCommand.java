package dev.mailstack.server;

import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "import", mixinStandardHelpOptions = true, description = "Bring mail over from Dovecot or an mbox file.",
        subcommands = {ImportCommand.Maildir.class, ImportCommand.Mbox.class})
final class ImportCommand {
    private static Account user(MailboxStore store, String address) {
        return store.accounts().find(address)
                .orElseThrow(() -> new CommandFailure("no user " + address + ": create it first (mailstack user add)"));
    }

    /** What one import reads. */
    interface Source {
        void into(MailImport importer) throws IOException;
    }

    /**
     * Through the running server when there is one (its control socket), so the messages take
     * turns with its own writers and its IMAP sessions see them; else into the store directly,
     * holding the data folder so that no server starts meanwhile.
     */
    static void run(StoreOptions options, String address, String into, Source source) {
        Config config = options.config();
        Path data = config.dataDir();
        MailImport importer = null;
        try {
            String me = System.getProperty("user.name");
            String folderOwner = Files.exists(data) ? Files.getOwner(data).getName() : me;
            Optional<DataFolderLock> owner = Optional.empty();
            ControlClient server;
            if (!folderOwner.equals(me)) {
                // Root, say, with a Maildir only it may read: through the server or not at all, since
                // files it wrote into the store itself could not be read by the server afterwards.
                server = serverOrElse(data, address, "the data folder " + data + " belongs to " + folderOwner
                        + ", so without a running server the import must run as " + folderOwner + " (sudo -u "
                        + folderOwner + " mailstack import ...)");
            } else {
                owner = DataFolderLock.tryTake(data);
                server = owner.isPresent() ? null : serverOrElse(data, address, "another mailstack process owns " + data
                        + " (" + data.resolve("control/owner.lock") + " is locked): if it is an import, wait for it to"
                        + " end; if it is the server, its log says why its control socket is off");
            }
            if (server != null) {
                try (server) {
                    importer = new MailImport(server);
                    source.into(importer);
                }
                System.out.println("imported " + importer.imported() + " message(s) into " + into + " (through the running server)");
                return;
            }
            try (DataFolderLock lock = owner.get(); MailboxStore store = options.openStore(config)) {
                importer = new MailImport(new StoreImport(store, store.open(user(store, address).id()), config.mimeLimits()));
                source.into(importer);
            }
            System.out.println("imported " + importer.imported() + " message(s) into " + into);
        } catch (IOException | RuntimeException e) {
            // Running it again would import the first ones twice: say how far it got.
            String done = importer == null || importer.imported() == 0 ? ""
                    : " (" + importer.imported() + " message(s) were imported before that)";
            String why = e instanceof CommandFailure || e instanceof ConfigException || e instanceof StoreException
                    ? e.getMessage()
                    : e instanceof NoSuchFileException ? "import failed: no such file or folder " + e.getMessage()
                    : "import failed: " + (e.getMessage() != null ? e.getMessage() : e.toString());
            throw new CommandFailure(why + done);
        }
    }

    private static ControlClient serverOrElse(Path data, String address, String why) throws IOException {
        Path socket = ControlSocket.path(data);
        if (Files.isDirectory(socket.getParent()) && !Files.isExecutable(socket.getParent())) {
            // The socket's folder is the server user's alone: from here a running server looks like none.
            throw new CommandFailure("cannot reach " + socket + " (permission denied): run the import as the user the"
                    + " server runs as (sudo -u mailstack ...) or as root");
        }
        return ControlClient.connect(data, address).orElseThrow(() -> new CommandFailure(
                "no mailstack server answers on " + socket + ", and " + why));
    }

    @Command(name = "maildir", mixinStandardHelpOptions = true,
            description = "Import a Maildir (Dovecot's layout: cur/, new/, .Sub.Folder/) into a user's mailboxes;"
                    + " works while the server runs.")
    static final class Maildir implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "DIR")
        Path dir;
        @Option(names = "--user", required = true, paramLabel = "ADDRESS")
        String address;

        @Override
        public void run() {
            ImportCommand.run(options, address, address, importer -> importer.maildir(dir));
        }
    }

    @Command(name = "mbox", mixinStandardHelpOptions = true,
            description = "Import an mbox file into one mailbox; works while the server runs.")
    static final class Mbox implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "FILE")
        Path file;
        @Option(names = "--user", required = true, paramLabel = "ADDRESS")
        String address;
        @Option(names = "--mailbox", paramLabel = "NAME", description = "Target mailbox (default INBOX; created if missing).")
        String mailbox = "INBOX";

        @Override
        public void run() {
            ImportCommand.run(options, address, address + " " + mailbox,
                    importer -> importer.mbox(file, new MailboxName(mailbox)));
        }
    }
}

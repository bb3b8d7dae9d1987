package dev.mailstack.server;

import dev.mailstack.store.MailboxName;
import dev.mailstack.store.StoreException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "import", mixinStandardHelpOptions = true, description = "Bring mail over from Dovecot or an mbox file.",
        subcommands = {ImportCommand.Maildir.class, ImportCommand.Mbox.class})
final class ImportCommand {
    /** What one import reads. */
    interface Source {
        void into(MailImport importer) throws IOException;
    }

    /**
     * Through the running server when there is one (its control socket), so the messages take
     * turns with its own writers and its IMAP sessions see them; else into the store directly,
     * holding the data folder so that no server starts meanwhile ({@link StoreAccess}).
     */
    static void run(StoreOptions options, String address, String into, Source source) {
        Config config = options.config();
        MailImport importer = null;
        boolean throughServer;
        try (StoreAccess access = StoreAccess.open(options, config, "the import", "import")) {
            throughServer = access instanceof StoreAccess.ThroughServer;
            importer = new MailImport(access.importInto(address));
            source.into(importer);
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
        System.out.println("imported " + importer.imported() + " message(s) into " + into
                + (throughServer ? " (through the running server)" : ""));
        if (importer.skippedLines() > 0) {
            System.out.println("skipped " + importer.skippedLines() + " line(s) of text before the first \"From \" line:"
                    + " no message starts there");
        }
        if (!importer.namesAsWritten().isEmpty()) {
            System.out.println("kept " + importer.namesAsWritten().size() + " folder name(s) as written, not read as modified"
                    + " UTF-7 (RFC 3501 5.1.3): " + String.join(", ", importer.namesAsWritten())
                    + "; rename them in your mail program if they look wrong");
        }
        if (importer.skippedLinks() > 0) {
            System.out.println("skipped " + importer.skippedLinks() + " symbolic link(s): only the Maildir's own files"
                    + " and folders are imported");
        }
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

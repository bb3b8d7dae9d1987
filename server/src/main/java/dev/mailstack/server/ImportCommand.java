package dev.mailstack.server;

import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "import", mixinStandardHelpOptions = true, description = "Bring mail over from Dovecot or an mbox file.",
        subcommands = {ImportCommand.Maildir.class, ImportCommand.Mbox.class})
final class ImportCommand {
    static Account user(MailboxStore store, String address) {
        return store.accounts().find(address)
                .orElseThrow(() -> new CommandFailure("no user " + address + ": create it first (mailstack user add)"));
    }

    @Command(name = "maildir", mixinStandardHelpOptions = true,
            description = "Import a Maildir (Dovecot's layout: cur/, new/, .Sub.Folder/) into a user's mailboxes.")
    static final class Maildir implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "DIR")
        Path dir;
        @Option(names = "--user", required = true, paramLabel = "ADDRESS")
        String address;

        @Override
        public void run() {
            Config config = options.config();
            try (MailboxStore store = options.openStore(config)) {
                MailImport importer = new MailImport(store.open(user(store, address).id()), store::spool, config.mimeLimits());
                importer.maildir(dir);
                System.out.println("imported " + importer.imported() + " message(s) into " + address);
            } catch (IOException e) {
                throw new CommandFailure("import failed: " + e.getMessage());
            }
        }
    }

    @Command(name = "mbox", mixinStandardHelpOptions = true, description = "Import an mbox file into one mailbox.")
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
            Config config = options.config();
            try (MailboxStore store = options.openStore(config)) {
                MailImport importer = new MailImport(store.open(user(store, address).id()), store::spool, config.mimeLimits());
                importer.mbox(file, new MailboxName(mailbox));
                System.out.println("imported " + importer.imported() + " message(s) into " + address + " " + mailbox);
            } catch (IOException e) {
                throw new CommandFailure("import failed: " + e.getMessage());
            }
        }
    }
}

package dev.mailstack.server;

import dev.mailstack.sieve.SieveException;
import dev.mailstack.sieve.SieveScript;
import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.SieveScriptEntry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mailstack user sieve ADDRESS VERB}: an account's Sieve filters, written into the store
 * like {@code user vacation} (the same rows ManageSieve on port 4190 works on).
 */
@Command(name = "sieve", mixinStandardHelpOptions = true, description = {
    "List, upload, show, activate or delete an account's Sieve filters (RFC 5228).",
    "At most one script is active: local delivery runs it for every message to the account.",
    "Users manage the same scripts with ManageSieve clients (port 4190)."},
        subcommands = {SieveCommand.ListScripts.class, SieveCommand.Put.class, SieveCommand.Get.class,
                SieveCommand.Activate.class, SieveCommand.Deactivate.class, SieveCommand.Delete.class})
final class SieveCommand implements Runnable {
    @Parameters(index = "0", paramLabel = "ADDRESS", description = "The account.")
    String address;
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a verb: list, put, get, activate, deactivate or delete");
    }

    /** Opens the store, finds the account and runs {@code work} on it; returns what to print. */
    String withAccount(StoreOptions options, BiFunction<MailboxStore, Account, String> work) {
        return withAccount(options, options.config(), work);
    }

    /** The same with the configuration already loaded (put needs its limits too). */
    String withAccount(StoreOptions options, Config config, BiFunction<MailboxStore, Account, String> work) {
        try (MailboxStore store = options.openStore(config)) {
            Account account = store.accounts().find(address)
                    .orElseThrow(() -> new CommandFailure("no user " + address));
            return work.apply(store, account);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the account's scripts; the active one is marked.")
    static final class ListScripts implements Runnable {
        @ParentCommand
        SieveCommand parent;
        @Mixin
        StoreOptions options;

        @Override
        public void run() {
            System.out.print(parent.withAccount(options, (store, account) -> {
                List<SieveScriptEntry> scripts = store.sieveScripts().list(account.id());
                if (scripts.isEmpty()) {
                    return "no sieve scripts for " + account.address() + "\n";
                }
                StringBuilder sb = new StringBuilder();
                for (SieveScriptEntry e : scripts) {
                    sb.append(e.name()).append(e.active() ? "  (active)" : "").append('\n');
                }
                return sb.toString();
            }));
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true, description = {
        "Upload FILE (UTF-8) as the script NAME, replacing one of that name.",
        "It is checked first: an error prints its line and nothing is stored."})
    static final class Put implements Runnable {
        @ParentCommand
        SieveCommand parent;
        @Mixin
        StoreOptions options;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "FILE")
        Path file;
        @Option(names = "--activate", description = "Make it the active script too.")
        boolean activate;

        @Override
        public void run() {
            String text = read(file);
            try {
                SieveScript.parse(text);
            } catch (SieveException e) {
                throw new CommandFailure(file + ": " + e.getMessage()); // "line N: ...", as ManageSieve says it
            }
            Config config = options.config();
            System.out.println(parent.withAccount(options, config, (store, account) -> {
                if (activate) {
                    store.sieveScripts().putActive(account.id(), name, text, config.sieveLimits());
                } else {
                    store.sieveScripts().put(account.id(), name, text, config.sieveLimits());
                }
                return "stored sieve script " + name + " for " + account.address() + (activate ? ", active" : "");
            }));
        }

        /** The file as text; RFC 5228 §2.1: scripts are UTF-8, so anything else is refused, not guessed. */
        private static String read(Path file) {
            byte[] bytes;
            try (java.io.InputStream in = Files.newInputStream(file)) {
                // no further than the largest script the store takes: a wrong FILE (/dev/zero) ran out of memory
                bytes = in.readNBytes(dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES + 1);
            } catch (IOException e) {
                throw new CommandFailure("cannot read " + file + ": " + e.getMessage());
            }
            if (bytes.length > dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES) {
                throw new CommandFailure(file + " is larger than " + dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES
                        + " bytes, more than any Sieve script may have");
            }
            return dev.mailstack.mime.MailCharset.decodeUtf8(bytes, 0, bytes.length)
                    .orElseThrow(() -> new CommandFailure(file + " is not UTF-8; Sieve scripts are (RFC 5228 §2.1)"));
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Print the script NAME as stored.")
    static final class Get implements Runnable {
        @ParentCommand
        SieveCommand parent;
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            String text = parent.withAccount(options, (store, account) -> store.sieveScripts().get(account.id(), name)
                    .orElseThrow(() -> new CommandFailure("no sieve script " + name + " for " + account.address())));
            // as stored, octet for octet: no line break added, none translated
            PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
            out.print(text);
            out.flush();
        }
    }

    @Command(name = "activate", mixinStandardHelpOptions = true, description = "Make NAME the active script (the one delivery runs).")
    static final class Activate implements Runnable {
        @ParentCommand
        SieveCommand parent;
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            System.out.println(parent.withAccount(options, (store, account) -> {
                store.sieveScripts().activate(account.id(), name);
                return "sieve script " + name + " is active for " + account.address();
            }));
        }
    }

    @Command(name = "deactivate", mixinStandardHelpOptions = true, description = "Leave no script active: delivery files into INBOX.")
    static final class Deactivate implements Runnable {
        @ParentCommand
        SieveCommand parent;
        @Mixin
        StoreOptions options;

        @Override
        public void run() {
            System.out.println(parent.withAccount(options, (store, account) -> {
                store.sieveScripts().deactivate(account.id());
                return "no sieve script active for " + account.address();
            }));
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = {
        "Delete the script NAME.",
        "The active script cannot be deleted: deactivate it, or activate another, first (as ManageSieve,"
                + " RFC 5804 §2.10)."})
    static final class Delete implements Runnable {
        @ParentCommand
        SieveCommand parent;
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public void run() {
            System.out.println(parent.withAccount(options, (store, account) -> {
                store.sieveScripts().delete(account.id(), name);
                return "deleted sieve script " + name + " of " + account.address();
            }));
        }
    }
}

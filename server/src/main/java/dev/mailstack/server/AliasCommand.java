package dev.mailstack.server;

import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.Alias;
import dev.mailstack.store.MailboxStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "alias", mixinStandardHelpOptions = true,
        description = "Forward addresses to accounts or other addresses; '@domain' is the domain's catch-all.",
        subcommands = {AliasCommand.Add.class, AliasCommand.Del.class, AliasCommand.ListAliases.class})
final class AliasCommand {
    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add TARGET to the alias ADDRESS (repeat for several).")
    static final class Add implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(index = "0", paramLabel = "ADDRESS", description = "user@domain, or @domain for a catch-all")
        String address;
        @Parameters(index = "1", paramLabel = "TARGET")
        String target;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                store.accounts().addAlias(address, target);
                System.out.println("added alias " + address + " -> " + target);
                // taken as asked, but an alias that can never act is most likely a typo: say so
                if (!address.startsWith("@") && store.accounts().find(address).isPresent()) {
                    System.err.println("mailstack: note: " + address + " is an account, whose own mailbox gets its mail:"
                            + " this alias is not used while the account exists");
                }
                if (store.accounts().resolve(target) instanceof AddressResolution.NoSuchUser) {
                    System.err.println("mailstack: note: " + target + " is no account or alias here yet: mail to "
                            + address + " is refused (550 5.1.1) until it is");
                }
            }
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = "Remove one target, or the whole alias.")
    static final class Del implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(index = "0", paramLabel = "ADDRESS")
        String address;
        @Parameters(index = "1", paramLabel = "TARGET", arity = "0..1")
        String target;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                store.accounts().removeAlias(address, target);
                System.out.println("deleted alias " + address + (target == null ? "" : " -> " + target));
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List aliases.")
    static final class ListAliases implements Runnable {
        @Mixin
        StoreOptions options;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                for (Alias a : store.accounts().aliases()) {
                    System.out.println(a.address() + " -> " + a.target());
                }
            }
        }
    }
}

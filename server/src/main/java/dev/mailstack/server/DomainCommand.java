package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "domain", mixinStandardHelpOptions = true, description = "Manage the domains this server receives mail for.",
        subcommands = {DomainCommand.Add.class, DomainCommand.Del.class, DomainCommand.ListDomains.class})
final class DomainCommand {
    @Command(name = "add", mixinStandardHelpOptions = true, description = "Host a domain: mail to it is delivered here.")
    static final class Add implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "DOMAIN")
        String domain;

        @Override
        public void run() {
            try (MailboxStore store = options.openOrMakeStore()) {
                store.accounts().addDomain(domain);
                System.out.println("added domain " + domain.toLowerCase(java.util.Locale.ROOT));
            }
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = "Stop hosting a domain (it must have no users).")
    static final class Del implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "DOMAIN")
        String domain;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                store.accounts().removeDomain(domain);
                System.out.println("deleted domain " + domain);
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List hosted domains.")
    static final class ListDomains implements Runnable {
        @Mixin
        StoreOptions options;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                store.accounts().domains().forEach(System.out::println);
            }
        }
    }
}

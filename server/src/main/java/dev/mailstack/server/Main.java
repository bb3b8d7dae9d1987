package dev.mailstack.server;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code mailstack <noun> <verb>}: exit 0 ok, 1 failure, 2 usage (STYLE.md §5). */
@Command(name = "mailstack", mixinStandardHelpOptions = true, version = "mailstack 0.1.0",
        description = "A mail server: SMTP, POP3, IMAP and ManageSieve on one store.",
        subcommands = {ServeCommand.class, DomainCommand.class, UserCommand.class, AliasCommand.class,
                QueueCommand.class, ConfigCommand.class, CertCommand.class, DkimCommand.class, DnsCommand.class,
                BackupCommand.class, BackupCommand.Restore.class, ImportCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    public static void main(String[] args) {
        LogFormat.install();
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigException || e instanceof dev.mailstack.store.StoreException
                    || e instanceof CommandFailure) {
                // one line each when there are several (config check reports every error of a file)
                String.valueOf(e.getMessage()).lines().forEach(line -> cmd.getErr().println("mailstack: " + line));
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }
}

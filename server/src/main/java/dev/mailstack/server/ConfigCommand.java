package dev.mailstack.server;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "config", mixinStandardHelpOptions = true, description = "Check the configuration.",
        subcommands = {ConfigCommand.Check.class})
final class ConfigCommand {
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate the configuration and print every effective value with where it came from.")
    static final class Check implements Runnable {
        @Mixin
        StoreOptions options;

        @Override
        public void run() {
            Config config = options.config();
            FrontEnds.check(config); // keys that only make sense together, and the files they name
            try {
                Server.tls(config);
            } catch (java.nio.file.AccessDeniedException e) {
                // the key is the server user's (install.sh: root:mailstack 0640): an administrator's own
                // check cannot read it, which says nothing against the file
                System.err.println("mailstack: tls: not checked, this user cannot read " + e.getFile()
                        + "; check as the user the server runs as (sudo -u mailstack mailstack config check ...)");
            } catch (java.nio.file.NoSuchFileException e) {
                throw new ConfigException("tls: no such file " + e.getFile());
            } catch (java.io.IOException e) {
                throw new ConfigException("tls: " + e.getMessage());
            }
            Map<ConfigKey, Config.Value> values = config.effective();
            for (ConfigKey k : ConfigKey.values()) {
                Config.Value v = values.get(k);
                System.out.printf("%-32s = %-24s # %s%n", k.key(), v.text(), v.origin());
            }
        }
    }
}

package dev.mailstack.server;

import dev.mailstack.mta.dkim.DkimKey;
import dev.mailstack.mta.dkim.DkimSigner;
import dev.mailstack.net.HostName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.security.GeneralSecurityException;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "dkim", mixinStandardHelpOptions = true, description = {"DKIM signing keys (RFC 6376).",
        "Mail that logged-in clients send From: a domain with a key is signed; receivers",
        "check the signature against the DNS record these commands print."},
        subcommands = {DkimCommand.Keygen.class, DkimCommand.Show.class})
final class DkimCommand {
    /** Where the keys live: one folder per domain, one SELECTOR.pem per key. */
    static Path keys(Path dataDir) {
        return dataDir.resolve("dkim");
    }

    record Target(Path dataDir, String domain, String selector, Path file) {
    }

    /** DOMAIN and --selector, checked the way the configuration file's dkim.selector is. */
    static final class KeyOptions {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "DOMAIN")
        String domain;
        @Option(names = "--selector", paramLabel = "NAME", description = "Selector (default: dkim.selector, mailstack).")
        String selector;

        @Spec(Spec.Target.MIXEE)
        CommandSpec spec;

        String selector(Config config) {
            if (selector != null) {
                try {
                    config.set(ConfigKey.DKIM_SELECTOR, selector, "--selector");
                } catch (ConfigException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
            }
            return config.string(ConfigKey.DKIM_SELECTOR);
        }

        /** The domain, the selector and the key's file the options name, checked. */
        Target resolve() {
            Config config = options.config();
            String s = selector(config);
            String d = domain();
            return new Target(config.dataDir(), d, s, DkimSigner.keyFile(keys(config.dataDir()), d, s));
        }

        /** Lower case, and a host name, so that it is a folder name and nothing else. */
        String domain() {
            String d = domain.toLowerCase(Locale.ROOT);
            if (!HostName.isValid(d)) {
                throw new ParameterException(spec.commandLine(), "not a domain name: " + domain);
            }
            return d;
        }
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true, description = {
        "Make a 2048-bit RSA key for DOMAIN and print the DNS TXT record to publish.",
        "Signing starts at once (no restart): publish the record first, or send",
        "nothing From: the domain until it is visible. An existing key is never replaced."})
    static final class Keygen implements Runnable {
        @Mixin
        KeyOptions target;

        @Override
        public void run() {
            Target t = target.resolve();
            String d = t.domain();
            Path file = t.file();
            if (Files.exists(file)) {
                throw new CommandFailure(file + " exists already (its record may be published): mailstack dkim show "
                        + d + " prints it; for a new key choose another --selector");
            }
            try {
                DkimKey key = DkimKey.generate(d, t.selector());
                key.write(file);
                ownedLikeTheDataFolder(t.dataDir(), file);
                System.out.println("wrote " + file);
                System.out.println("publish this DNS record:");
                System.out.println(key.zoneLine());
            } catch (IOException | GeneralSecurityException e) {
                throw new CommandFailure("cannot make the key: " + e.getMessage());
            }
        }

        /** Run as root for a service's data folder, the key must still be the service's to read. */
        private static void ownedLikeTheDataFolder(Path dataDir, Path file) throws IOException {
            UserPrincipal owner = Files.getOwner(dataDir);
            if (!Files.getOwner(file).equals(owner)) {
                for (Path p = file; p != null && !p.equals(dataDir); p = p.getParent()) {
                    Files.setOwner(p, owner);
                }
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print the DNS TXT record of DOMAIN's key.")
    static final class Show implements Runnable {
        @Mixin
        KeyOptions target;

        @Override
        public void run() {
            Target t = target.resolve();
            String d = t.domain();
            String s = t.selector();
            Path file = t.file();
            if (!Files.exists(file)) {
                throw new CommandFailure("no key for " + d + " under selector " + s + " (" + file
                        + "): mailstack dkim keygen " + d + " makes one");
            }
            try {
                System.out.println(DkimKey.read(file, d, s).zoneLine());
            } catch (IOException e) {
                throw new CommandFailure(e.getMessage());
            }
        }
    }
}

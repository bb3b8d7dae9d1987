package dev.mailstack.server;

import dev.mailstack.mta.dkim.DkimKey;
import dev.mailstack.mta.dkim.DkimSigner;
import dev.mailstack.mta.dkim.DomainKeys;
import dev.mailstack.net.HostName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.security.GeneralSecurityException;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "dkim", mixinStandardHelpOptions = true, description = {"Make and show DKIM signing keys (RFC 6376): RSA, and Ed25519 (RFC 8463).",
        "Mail that logged-in clients send From: a domain with a key is signed, with both kinds when the"
                + " domain has both; receivers check each signature against the DNS record these commands print."},
        subcommands = {DkimCommand.Keygen.class, DkimCommand.Show.class})
final class DkimCommand {
    /** Where the keys live: one folder per domain, one SELECTOR.pem per key (DomainKeys says which sign). */
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
        @Option(names = "--selector", paramLabel = "NAME",
                description = "Selector (default: dkim.selector, mailstack; for Ed25519 dkim.selector-ed25519).")
        String selector;

        @Spec(Spec.Target.MIXEE)
        CommandSpec spec;

        /** --selector as given, else the one a key of {@code kind} has under dkim.selector. */
        String selector(Config config, DkimKey.Kind kind) {
            if (selector != null) {
                try {
                    config.set(ConfigKey.DKIM_SELECTOR, selector, "--selector");
                } catch (ConfigException e) {
                    throw new ParameterException(spec.commandLine(), e.getMessage());
                }
                return selector;
            }
            return kind.selector(config.string(ConfigKey.DKIM_SELECTOR));
        }

        /** The domain, the selector and the key's file the options name for a key of {@code kind}, checked. */
        Target resolve(DkimKey.Kind kind) {
            Config config = options.config();
            DataFolder.mustExist(config); // a key made elsewhere would sign nothing
            String s = selector(config, kind);
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
        "Make a key for DOMAIN and print the DNS TXT record to publish.",
        "A 2048-bit RSA key, or with --type ed25519 an Ed25519 key (RFC 8463) under SELECTOR-ed25519."
                + " A domain with both signs each message with both, as RFC 8463 advises: many receivers still"
                + " know only RSA.",
        "Signing starts at once (no restart): publish the record first, or send nothing From: the domain"
                + " until it is visible. An existing key is never replaced."})
    static final class Keygen implements Runnable {
        @Mixin
        KeyOptions target;
        @Option(names = "--type", paramLabel = "TYPE", description = "rsa (the default) or ed25519.")
        String type = "rsa";

        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            DkimKey.Kind kind = DkimKey.Kind.named(type).orElseThrow(() -> new ParameterException(spec.commandLine(),
                    "--type is rsa or ed25519, not " + type));
            Target t = target.resolve(kind);
            String d = t.domain();
            Path file = t.file();
            if (Files.exists(file)) {
                throw new CommandFailure(file + " exists already (its record may be published): mailstack dkim show "
                        + d + " prints it; for a new key choose another --selector");
            }
            try {
                DkimKey key = DkimKey.generate(d, t.selector(), kind);
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

    @Command(name = "show", mixinStandardHelpOptions = true, description = {
        "Print the DNS TXT records of the keys DOMAIN signs with.",
        "With --selector, the record of that key only."})
    static final class Show implements Runnable {
        @Mixin
        KeyOptions target;

        @Override
        public void run() {
            if (target.selector != null) {
                Target t = target.resolve(DkimKey.Kind.RSA); // a --selector given names the file, whatever its kind
                if (!Files.exists(t.file())) {
                    throw new CommandFailure("no key for " + t.domain() + " under selector " + t.selector() + " (" + t.file()
                            + "): mailstack dkim keygen " + t.domain() + " --selector " + t.selector() + " makes one");
                }
                try {
                    System.out.println(DkimKey.read(t.file(), t.domain(), t.selector()).zoneLine());
                } catch (IOException e) {
                    throw new CommandFailure(e.getMessage());
                }
                return;
            }
            Config config = target.options.config();
            DataFolder.mustExist(config);
            String d = target.domain();
            Path folder = keys(config.dataDir()).resolve(d);
            DomainKeys chosen;
            try {
                chosen = DomainKeys.read(folder, d, config.string(ConfigKey.DKIM_SELECTOR));
            } catch (IOException e) {
                throw new CommandFailure("cannot read " + folder + ": " + e.getMessage());
            }
            String problems = chosen.problems().stream().map(DomainKeys.Problem::text).collect(Collectors.joining("; "));
            if (chosen.signing().isEmpty()) {
                throw new CommandFailure(problems.isEmpty()
                        ? "no key for " + d + " in " + folder + ": mailstack dkim keygen " + d + " makes one"
                        : "mail from " + d + " is sent unsigned: " + problems);
            }
            for (DkimKey key : chosen.signing()) {
                System.out.println(key.zoneLine());
            }
            if (!problems.isEmpty()) {
                System.err.println("mailstack: " + problems);
            }
        }
    }
}

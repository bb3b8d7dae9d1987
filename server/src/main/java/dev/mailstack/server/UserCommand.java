package dev.mailstack.server;

import dev.mailstack.store.Account;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.StoreException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "user", mixinStandardHelpOptions = true, description = {"Manage mail accounts.",
        "While the server runs, add, passwd, quota, del, disable, enable and import hand the change to it"
                + " (data/control/control.sock): the server makes it, and a deleted or disabled account's IMAP,"
                + " POP3, SMTP and ManageSieve sessions end at once."},
        subcommands = {UserCommand.Add.class, UserCommand.Passwd.class, UserCommand.Quota.class, UserCommand.Del.class,
                UserCommand.Disable.class, UserCommand.Enable.class, UserCommand.ListUsers.class,
                UserCommand.Import.class, VacationCommand.class, SieveCommand.class})
final class UserCommand {
    /** Reads the password from stdin (one line) or asks at the terminal, twice. */
    static String readPassword(boolean fromStdin) {
        if (fromStdin) {
            try {
                String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                if (line == null || line.isEmpty()) {
                    throw new CommandFailure("no password on standard input");
                }
                return line;
            } catch (IOException e) {
                throw new CommandFailure("cannot read standard input: " + e.getMessage());
            }
        }
        java.io.Console console = System.console();
        if (console == null) {
            throw new CommandFailure("no terminal to ask for a password: pipe it in with --password-stdin");
        }
        char[] first = console.readPassword("Password: ");
        char[] second = console.readPassword("Again: ");
        if (first == null || first.length == 0 || !java.util.Arrays.equals(first, second)) {
            throw new CommandFailure("passwords were empty or did not match");
        }
        return new String(first);
    }

    /** A change to accounts; returns the line to print once it is made. */
    private interface Change {
        String apply(AccountAdmin accounts) throws IOException;
    }

    /**
     * Through the running server when there is one (its control socket), so the change takes its
     * turn with the server's writers of the account and a deleted account's sessions end; else into
     * the store, owning the data folder meanwhile ({@link StoreAccess}).
     */
    private static void change(StoreOptions options, Change change) {
        change(options, change, false);
    }

    /** With {@code mayMake}, for user add: the first account may start a new data folder (and says so). */
    private static void change(StoreOptions options, Change change, boolean mayMake) {
        String done;
        boolean throughServer;
        Config config = options.config();
        DataFolder folder = mayMake ? DataFolder.mayBeMade(config) : DataFolder.mustExist(config);
        try (StoreAccess access = StoreAccess.openOrMake(options, config, "the command", "user")) {
            throughServer = access instanceof StoreAccess.ThroughServer;
            done = change.apply(access.accounts());
        } catch (IOException e) {
            throw new CommandFailure(e.getMessage());
        } finally {
            folder.reportIfMade();
        }
        System.out.println(done + (throughServer ? " (through the running server)" : ""));
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = {
        "Create an account with INBOX, Drafts, Sent, Trash, Junk and Archive.",
        "While the server runs, the server creates it (through its control socket)."})
    static final class Add implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "ADDRESS")
        String address;
        @Option(names = "--password-stdin", description = "Read the password from standard input instead of asking.")
        boolean stdin;
        @Option(names = "--quota", paramLabel = "LIMIT", description = "Storage limit: bytes, or with K, M, G or T"
                + " (1024-based; e.g. 2G) (default: none; change it later with user quota).")
        String quota;
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            // Here, where both ways start (through the server and into the store), and before the
            // password is asked for.
            OptionalLong bytes = quota == null ? OptionalLong.empty() : limit(spec, "--quota", quota);
            String hash = PasswordScheme.hash(readPassword(stdin));
            change(options, accounts -> "added user " + accounts.addUser(address, hash, bytes), true);
        }
    }

    @Command(name = "passwd", mixinStandardHelpOptions = true, description = {
        "Change an account's password.",
        "Clients already logged in stay logged in; the next login needs the new one.",
        "While the server runs, the server makes the change."})
    static final class Passwd implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "ADDRESS")
        String address;
        @Option(names = "--password-stdin", description = "Read the password from standard input instead of asking.")
        boolean stdin;

        @Override
        public void run() {
            String hash = PasswordScheme.hash(readPassword(stdin));
            change(options, accounts -> {
                accounts.changePassword(address, hash);
                return "password changed for " + address;
            });
        }
    }

    @Command(name = "quota", mixinStandardHelpOptions = true, description = {
        "Set or remove an account's storage limit.",
        "Mail already stored stays when the limit goes below it; new mail is refused (SMTP 552, IMAP"
                + " [OVERQUOTA]) until there is room. IMAP clients see use and limit (RFC 9208 QUOTA;"
                + " Thunderbird's quota meter).",
        "While the server runs, the server makes the change."})
    static final class Quota implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(index = "0", paramLabel = "ADDRESS")
        String address;
        @Parameters(index = "1", paramLabel = "LIMIT", description = "Bytes, or with K, M, G or T (1024-based; e.g. 500M, 2G), or none.")
        String limit;
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            OptionalLong bytes = limit(spec, "LIMIT", limit);
            change(options, accounts -> {
                accounts.setQuota(address, bytes);
                return "quota of " + address + " set to " + new QuotaLimit(bytes);
            });
        }
    }

    private static OptionalLong limit(CommandSpec spec, String what, String text) {
        try {
            return QuotaLimit.parse(text).bytes();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), what + ": " + e.getMessage());
        }
    }

    @Command(name = "del", mixinStandardHelpOptions = true, description = {
        "Delete an account and all its mail.",
        "While the server runs, the server deletes it and ends the account's IMAP, POP3 and SMTP sessions"
                + " at once (POP3 deletions not confirmed by QUIT are dropped)."})
    static final class Del implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "ADDRESS")
        String address;

        @Override
        public void run() {
            change(options, accounts -> {
                accounts.removeUser(address);
                return "deleted user " + address;
            });
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true, description = {
        "Stop an account from logging in (SMTP AUTH, IMAP, POP3, ManageSieve); its mail is kept.",
        "For when its password was stolen: the running server ends its sessions at once. Mail to it is"
                + " still delivered; user enable lets it log in again (after user passwd)."})
    static final class Disable extends Switch {
        Disable() {
            super(true);
        }
    }

    @Command(name = "enable", mixinStandardHelpOptions = true, description = "Let a disabled account log in again.")
    static final class Enable extends Switch {
        Enable() {
            super(false);
        }
    }

    /** user disable and user enable: one flag of the account, either way. */
    abstract static class Switch implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "ADDRESS")
        String address;
        private final boolean disable;

        Switch(boolean disable) {
            this.disable = disable;
        }

        @Override
        public void run() {
            change(options, accounts -> {
                accounts.setDisabled(address, disable);
                return (disable ? "disabled user " : "enabled user ") + address;
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List accounts.")
    static final class ListUsers implements Runnable {
        @Mixin
        StoreOptions options;
        @Option(names = "--json", description = "One JSON object per line.")
        boolean json;

        @Override
        public void run() {
            try (MailboxStore store = options.openStore()) {
                List<Account> users = store.accounts().users();
                if (users.isEmpty()) {
                    // on standard error: a script reading the list still gets no lines
                    System.err.println("mailstack: no users in " + options.config().dataDir().toAbsolutePath().normalize()
                            + " yet: add one with mailstack user add ADDRESS");
                }
                for (Account a : users) {
                    if (json) {
                        System.out.printf("{\"address\":\"%s\",\"disabled\":%s,\"quota\":%s,\"used\":%d}%n", a.address(),
                                a.disabled(), a.quotaBytes().isPresent() ? Long.toString(a.quotaBytes().getAsLong()) : "null",
                                a.usedBytes());
                    } else {
                        // the quota as user quota takes it (2G); the use rounded, 1024-based too
                        String quota = a.quotaBytes().isPresent() ? QuotaLimit.exact(a.quotaBytes().getAsLong()) : "none";
                        System.out.printf("%-40s used=%s quota=%s%s%n", a.address(), QuotaLimit.approximate(a.usedBytes()),
                                quota, a.disabled() ? " disabled" : "");
                    }
                }
            }
        }
    }

    @Command(name = "import", mixinStandardHelpOptions = true, description = {
        "Create many accounts from FILE.",
        "Each line is either 'address password' (a space or a tab between) or a Dovecot passwd-file line"
                + " 'address:{SCHEME}value:...' whose SCHEME is SHA512-CRYPT or CRYPT (a $6$ hash, kept as it is)"
                + " or PLAIN (hashed on import); other schemes are refused. Blank lines and # comments are skipped.",
        "While the server runs, the server creates them (through its control socket)."})
    static final class Import implements Runnable {
        @Mixin
        StoreOptions options;
        @Parameters(paramLabel = "FILE")
        Path file;

        /** Longer than any address and hash: a line past it is not a user (the wrong file, say), and is not kept whole. */
        static final int MAX_LINE_CHARS = 4096; // bytes

        @Override
        public void run() {
            java.io.BufferedInputStream in;
            try {
                // read as it is imported, never whole: the wrong file (a log, an mbox) costs no more memory than a line
                in = new java.io.BufferedInputStream(Files.newInputStream(file));
            } catch (IOException e) {
                throw new CommandFailure("cannot read " + file + ": " + e.getMessage());
            }
            int added = 0;
            int failed = 0;
            int number = 0;
            boolean throughServer;
            Config config = options.config();
            DataFolder folder = DataFolder.mayBeMade(config);
            try (in; StoreAccess access = StoreAccess.openOrMake(options, config, "the command", "user")) {
                throughServer = access instanceof StoreAccess.ThroughServer;
                for (Line read; (read = Line.next(in)) != null; ) {
                    number++;
                    String line = read.text().strip();
                    if (line.isEmpty() || line.startsWith("#")) {
                        continue;
                    }
                    try {
                        if (read.tooLong()) {
                            throw new IllegalArgumentException("a line longer than " + MAX_LINE_CHARS + " bytes is no user");
                        }
                        if (read.notUtf8()) {
                            throw new IllegalArgumentException("not UTF-8 text; convert the file first (iconv -f LATIN1 -t UTF-8)");
                        }
                        String[] entry = parse(line);
                        access.accounts().addUser(entry[0], entry[1], OptionalLong.empty());
                        added++;
                    } catch (StoreException | IllegalArgumentException | CommandFailure e) {
                        failed++; // the server's refusal of one line, like the store's
                        System.err.println(file + ":" + number + ": " + e.getMessage());
                    }
                }
            } catch (IOException e) {
                throw new CommandFailure(e.getMessage() + (added > 0 ? " (" + added + " user(s) were imported before that)" : ""));
            } finally {
                folder.reportIfMade();
            }
            System.out.println("imported " + added + " user(s)" + (failed > 0 ? ", " + failed + " failed" : "")
                    + (throughServer ? " (through the running server)" : ""));
            if (failed > 0) {
                throw new CommandFailure(failed + " line(s) of " + file + " were not imported");
            }
        }

        /** One line of the file, at most {@link #MAX_LINE_CHARS} bytes of it kept, decoded strictly. */
        record Line(String text, boolean tooLong, boolean notUtf8) {
            /** The next line (the last may have no end), or null at the end of the file. */
            static Line next(java.io.BufferedInputStream in) throws IOException {
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                boolean tooLong = false;
                int b = in.read();
                if (b < 0) {
                    return null;
                }
                // LF, CRLF or a bare CR ends a line, as Files.readAllLines had it (a classic Mac file)
                for (; b >= 0 && b != '\n' && b != '\r'; b = in.read()) {
                    if (bytes.size() < MAX_LINE_CHARS) {
                        bytes.write(b);
                    } else {
                        tooLong = true;
                    }
                }
                if (b == '\r') {
                    in.mark(1);
                    if (in.read() != '\n') {
                        in.reset();
                    }
                }
                byte[] line = bytes.toByteArray();
                boolean cut = tooLong;
                return dev.mailstack.mime.MailCharset.decodeUtf8(line, 0, line.length).map(text -> new Line(text, cut, false))
                        .orElseGet(() -> new Line(bytes.toString(StandardCharsets.ISO_8859_1), cut, true)); // a comment still is one
            }
        }

        /** Dovecot's names for a password kept as it is typed (passwd-file {PLAIN}secret). */
        private static final java.util.regex.Pattern PLAIN_SCHEME =
                java.util.regex.Pattern.compile("(?i)\\{(PLAIN|CLEAR|CLEARTEXT)}(.*)");

        /** {address, stored hash} from one line. */
        static String[] parse(String line) {
            int colon = line.indexOf(':');
            // a tab as well as a space: a spreadsheet's export puts tabs between the columns
            int blank = line.replace('\t', ' ').indexOf(' ');
            if (colon > 0 && (blank < 0 || colon < blank)) {
                String[] fields = line.split(":", -1);
                java.util.regex.Matcher plain = PLAIN_SCHEME.matcher(fields[1]);
                if (plain.matches()) {
                    if (plain.group(2).isEmpty()) {
                        throw new IllegalArgumentException("an empty {" + plain.group(1) + "} password");
                    }
                    return new String[]{fields[0], PasswordScheme.hash(plain.group(2))};
                }
                return new String[]{fields[0], PasswordScheme.fromImport(fields[1])};
            }
            if (blank > 0) {
                return new String[]{line.substring(0, blank), PasswordScheme.hash(line.substring(blank + 1).strip())};
            }
            throw new IllegalArgumentException("expected 'address password' (a space or a tab between) or"
                    + " 'address:{SCHEME}value:...' (SHA512-CRYPT, CRYPT or PLAIN)");
        }
    }
}

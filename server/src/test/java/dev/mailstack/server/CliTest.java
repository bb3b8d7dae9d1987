package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.store.MailboxStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir
    Path dir;

    private int run(String... args) {
        return Main.run(args);
    }

    private static CommandRun capture(String... args) {
        return CommandRun.of(args);
    }

    @Test
    void domainsUsersAndAliasesFromTheCommandLine() throws Exception {
        String data = dir.resolve("data").toString();
        assertEquals(0, run("domain", "add", "example.org", "--data", data));
        assertEquals(1, run("domain", "add", "example.org", "--data", data), "a duplicate fails with exit 1");
        Path users = dir.resolve("users.txt");
        Files.writeString(users, String.join("\n",
                "# plain and Dovecot passwd-file lines",
                "alice@example.org s3cret",
                "bob@example.org:{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1:1000:1000::/home/bob::",
                ""));
        assertEquals(0, run("user", "import", users.toString(), "--data", data));
        assertEquals(0, run("alias", "add", "postmaster@example.org", "alice@example.org", "--data", data));
        assertEquals(2, run("user", "add", "--data", data), "a missing argument is a usage error");
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertTrue(store.accounts().authenticate("alice@example.org", "s3cret").isPresent());
            assertTrue(store.accounts().authenticate("bob@example.org", "Hello world!").isPresent());
            assertEquals(1, store.accounts().aliases().size());
        }
    }

    /** An alias that can never act (its address is an account, its target is nobody) is added, with a note saying why. */
    @Test
    void aliasesThatCannotActAreAddedWithANote() throws Exception {
        String data = dir.resolve("data").toString();
        assertEquals(0, run("domain", "add", "example.org", "--data", data));
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "alice@example.org pw\nbob@example.org pw\n");
        assertEquals(0, run("user", "import", users.toString(), "--data", data));
        CommandRun working = capture("alias", "add", "sales@example.org", "bob@example.org", "--data", data);
        assertEquals(0, working.exit());
        assertEquals("", working.err(), "a working alias gets no note");
        CommandRun account = capture("alias", "add", "alice@example.org", "bob@example.org", "--data", data);
        CommandRun nobody = capture("alias", "add", "info@example.org", "nobody@example.org", "--data", data);
        assertEquals(0, account.exit());
        assertEquals(0, nobody.exit());
        String said = account.err() + nobody.err();
        assertTrue(said.contains("mailstack: note: alice@example.org is an account, whose own mailbox gets its mail"), said);
        assertTrue(said.contains("mailstack: note: nobody@example.org is no account or alias here yet: mail to"
                + " info@example.org is refused (550 5.1.1) until it is"), said);
    }

    /** A tab separates address and password as a space does; passwd-file's {PLAIN} is hashed, other schemes are named. */
    @Test
    void importTakesTabsAndPlainPasswdFileLines() throws Exception {
        String data = dir.resolve("data").toString();
        assertEquals(0, run("domain", "add", "example.org", "--data", data));
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "carol@example.org\tpass word\n"
                + "dave@example.org:{PLAIN}d-secret:1000:1000::/home/dave::\n"
                + "erin@example.org:{BLF-CRYPT}$2y$05$abc:1000:1000::/home/erin::\n");
        CommandRun imported = capture("user", "import", users.toString(), "--data", data);
        assertEquals(1, imported.exit(), "one line refused");
        assertTrue(imported.err().contains(users + ":3: password scheme {BLF-CRYPT} is not supported"), imported.err());
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertTrue(store.accounts().authenticate("carol@example.org", "pass word").isPresent());
            assertTrue(store.accounts().authenticate("dave@example.org", "d-secret").isPresent());
            assertTrue(store.accounts().find("erin@example.org").isEmpty());
        }
    }

    /**
     * picocli shows the first line of a description as the command's summary in its parent's list:
     * each must be a whole sentence, and each further line a whole paragraph (picocli wraps them).
     */
    @Test
    void everyCommandsSummaryAndParagraphsAreWholeSentences() {
        java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(List.of(new picocli.CommandLine(new Main())));
        int seen = 0;
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.pop();
            todo.addAll(c.getSubcommands().values());
            seen++;
            String[] lines = c.getCommandSpec().usageMessage().description();
            String name = c.getCommandSpec().qualifiedName();
            assertTrue(lines.length > 0, name + " has no description");
            for (String line : lines) {
                line = line.replace("%n", ""); // picocli's own help command starts a paragraph with one
                assertTrue(line.matches("(?s)[A-Z].*[.)]") && !line.endsWith("e.g.") && !line.endsWith("i.e."),
                        name + ": '" + line + "' is not a whole sentence (a source line wrapped into its own element?)");
            }
        }
        assertTrue(seen > 40, "walked " + seen + " commands");
    }

    /**
     * Run from another folder, a command that only reads or changes what is there refuses instead
     * of making a new empty store; the commands that start one say they made the folder.
     */
    @Test
    void aMissingDataFolderIsRefusedOrAnnounced() throws Exception {
        Path data = dir.resolve("sub/data");
        String d = data.toString();
        Path mbox = Files.writeString(dir.resolve("m.mbox"), "From x Tue Dec  1 10:00:00 2026\nSubject: s\n\nb\n");
        java.io.PrintStream stdout = System.out;
        java.io.PrintStream stderr = System.err;
        java.io.InputStream stdin = System.in;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        String said;
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            System.setIn(new java.io.ByteArrayInputStream("pw\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            for (List<String> command : List.of(List.of("user", "list"), List.of("domain", "list"), List.of("alias", "list"),
                    List.of("queue", "list"), List.of("user", "passwd", "a@example.org", "--password-stdin"),
                    List.of("user", "quota", "a@example.org", "1G"), List.of("user", "vacation", "a@example.org"),
                    List.of("user", "sieve", "a@example.org", "list"), List.of("domain", "del", "example.org"),
                    List.of("backup", dir.resolve("b.zip").toString()), List.of("dkim", "keygen", "example.org"),
                    List.of("import", "mbox", mbox.toString(), "--user", "a@example.org"))) {
                List<String> args = new java.util.ArrayList<>(command);
                args.addAll(List.of("--data", d));
                err.reset();
                assertEquals(1, run(args.toArray(String[]::new)), command.toString());
                assertEquals("mailstack: no data folder at " + data + ": run from the folder you started the server in,"
                        + " or pass --data\n", err.toString(java.nio.charset.StandardCharsets.UTF_8), command.toString());
                assertTrue(Files.notExists(dir.resolve("sub")), command + " made nothing");
            }
            err.reset();
            assertEquals(0, run("domain", "add", "example.org", "--data", d));
            assertEquals(0, run("domain", "add", "example.net", "--data", d));
            said = err.toString(java.nio.charset.StandardCharsets.UTF_8);
            err.reset();
            out.reset();
            assertEquals(0, run("user", "list", "--data", d));
            assertEquals("", out.toString(java.nio.charset.StandardCharsets.UTF_8), "nothing for a script to parse");
            assertEquals("mailstack: no users in " + data + " yet: add one with mailstack user add ADDRESS\n",
                    err.toString(java.nio.charset.StandardCharsets.UTF_8));
            System.setIn(new java.io.ByteArrayInputStream("pw\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(0, run("user", "add", "a@example.org", "--password-stdin", "--quota", "2G", "--data", d));
            out.reset();
            assertEquals(0, run("user", "list", "--data", d));
            assertTrue(out.toString(java.nio.charset.StandardCharsets.UTF_8).matches("a@example.org +used=0 quota=2G\n"), out.toString());

            // user add and user import start a store as well
            err.reset();
            System.setIn(new java.io.ByteArrayInputStream("pw\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(1, run("user", "add", "b@example.org", "--password-stdin", "--data", dir.resolve("other").toString()),
                    "no such domain there");
            assertTrue(err.toString(java.nio.charset.StandardCharsets.UTF_8).contains("mailstack: created a new data folder at "
                    + dir.resolve("other") + "\n"), err.toString());
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
            System.setIn(stdin);
        }
        assertEquals("mailstack: created a new data folder at " + data + "\n", said, "once, by the first domain add");
        assertEquals("2G", QuotaLimit.exact(2L << 30));
        assertEquals("1536", QuotaLimit.exact(1536));
        assertEquals("1.5K", QuotaLimit.approximate(1536));
        assertEquals("23M", QuotaLimit.approximate(23L << 20));
    }

    /** With no server running, user add, passwd and del write to the store themselves, as before the control socket. */
    @Test
    void passwordsAndDeletionsWithNoServerRunning() throws Exception {
        String data = dir.resolve("data").toString();
        assertEquals(0, run("domain", "add", "example.org", "--data", data));
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("first\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(0, run("user", "add", "alice@example.org", "--password-stdin", "--quota", "5000", "--data", data));
            System.setIn(new java.io.ByteArrayInputStream("second\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(0, run("user", "passwd", "alice@example.org", "--password-stdin", "--data", data));
            System.setIn(new java.io.ByteArrayInputStream("x\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(1, run("user", "passwd", "nobody@example.org", "--password-stdin", "--data", data));
        } finally {
            System.setIn(stdin);
        }
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertTrue(store.accounts().authenticate("alice@example.org", "first").isEmpty());
            assertTrue(store.accounts().authenticate("alice@example.org", "second").isPresent());
            assertEquals(5000, store.accounts().find("alice@example.org").orElseThrow().quotaBytes().getAsLong());
        }
        assertEquals(0, run("user", "del", "alice@example.org", "--data", data));
        assertEquals(1, run("user", "del", "alice@example.org", "--data", data), "gone already");
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertTrue(store.accounts().find("alice@example.org").isEmpty());
        }
    }

    /** user vacation sets, shows and clears an account's out-of-office reply; bad dates and combinations are usage errors. */
    @Test
    void vacationRepliesFromTheCommandLine() throws Exception {
        String data = dir.resolve("data").toString();
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            store.accounts().addDomain("example.org");
            store.accounts().addUser("alice@example.org", dev.mailstack.store.PasswordScheme.hash("pw"));
        }
        Path text = dir.resolve("away.txt");
        Files.writeString(text, "我在度假。\n下周一回来。\n", java.nio.charset.StandardCharsets.UTF_8);
        java.time.LocalDate last = java.time.LocalDate.now().plusDays(3);
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(0, run("user", "vacation", "alice@example.org", "--subject", "不在办公室", "--message-file",
                    text.toString(), "--until", last.toString(), "--data", data));
            assertEquals(2, run("user", "vacation", "alice@example.org", "--message", "x", "--until", "2000-01-01",
                    "--data", data), "a day in the past");
            assertEquals(2, run("user", "vacation", "alice@example.org", "--message", "x", "--until", "tomorrow",
                    "--data", data));
            assertEquals(2, run("user", "vacation", "alice@example.org", "--off", "--message", "x", "--data", data));
            assertEquals(2, run("user", "vacation", "alice@example.org", "--subject", "s", "--data", data), "no text");
            assertEquals(2, run("user", "vacation", "alice@example.org", "--message", "x", "--message-file",
                    text.toString(), "--data", data));
            assertEquals(1, run("user", "vacation", "nobody@example.org", "--message", "x", "--data", data), "no such user");
            assertEquals(1, run("user", "vacation", "nobody@example.org", "--data", data));
            Path huge = Files.write(dir.resolve("huge.txt"), new byte[4 * dev.mailstack.store.Vacation.MAX_BODY_CHARS + 1]);
            java.io.PrintStream stderr = System.err;
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            try {
                System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
                assertEquals(1, run("user", "vacation", "alice@example.org", "--message-file", huge.toString(), "--data", data));
                // a Latin-1 file: refused, where U+FFFD went into every reply
                Path latin1 = Files.write(dir.resolve("latin1.txt"), "Abwesend bis M\u00e4rz\n".getBytes(
                        java.nio.charset.StandardCharsets.ISO_8859_1));
                assertEquals(1, run("user", "vacation", "alice@example.org", "--message-file", latin1.toString(), "--data", data));
                assertTrue(err.toString(java.nio.charset.StandardCharsets.UTF_8).contains(latin1 + ": not UTF-8 text"),
                        err.toString(java.nio.charset.StandardCharsets.UTF_8));
            } finally {
                System.setErr(stderr);
            }
            // the wrong file (far longer than a reply may be) is refused after a bounded read, not read whole
            assertTrue(err.toString(java.nio.charset.StandardCharsets.UTF_8).contains(huge + ": longer than a vacation message"
                    + " may be (65536 characters)"), err.toString(java.nio.charset.StandardCharsets.UTF_8));
            out.reset();
            assertEquals(0, run("user", "vacation", "alice@example.org", "--data", data));
        } finally {
            System.setOut(stdout);
        }
        String shown = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(shown.contains("on until the end of " + last) && shown.contains("Subject: 不在办公室")
                && shown.contains("我在度假。\n下周一回来。"), shown);
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            var alice = store.accounts().find("alice@example.org").orElseThrow();
            assertEquals(new dev.mailstack.store.Vacation("不在办公室", "我在度假。\n下周一回来。",
                    java.util.Optional.of(last.plusDays(1).atStartOfDay(java.time.ZoneId.systemDefault()).toInstant())),
                    store.accounts().vacation(alice.id()).orElseThrow(), "as set: the usage errors changed nothing");
        }
        assertEquals(0, run("user", "vacation", "alice@example.org", "--off", "--data", data));
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertTrue(store.accounts().vacationSetting("alice@example.org").isEmpty());
        }
    }

    /** user sieve: put (checked, with the configured limits), list, get octet for octet, activate, delete refused while active. */
    @Test
    void sieveScriptsFromTheCommandLine() throws Exception {
        String data = dir.resolve("data").toString();
        assertEquals(0, run("domain", "add", "example.org", "--data", data));
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            store.accounts().addUser("alice@example.org", dev.mailstack.store.PasswordScheme.hash("pw"));
        }
        String script = "# 把邮件列表放进文件夹\r\nrequire \"fileinto\";\r\nfileinto \"Lists\";\r\n";
        Path file = dir.resolve("lists.sieve");
        Files.writeString(file, script, java.nio.charset.StandardCharsets.UTF_8);
        Path latin1 = dir.resolve("latin1.sieve");
        Files.write(latin1, new byte[]{'#', ' ', (byte) 0xE9, '\n'});
        Path conf = dir.resolve("small.conf");
        Files.writeString(conf, "sieve.max_script_bytes = 16\n");
        java.io.PrintStream stdout = System.out;
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(0, run("user", "sieve", "alice@example.org", "list", "--data", data));
            assertEquals(0, run("user", "sieve", "alice@example.org", "put", "lists", file.toString(), "--activate", "--data", data));
            assertEquals(0, run("user", "sieve", "alice@example.org", "put", "spare", file.toString(), "--data", data));
            assertEquals(1, run("user", "sieve", "alice@example.org", "put", "big", file.toString(), "--config", conf.toString(),
                    "--data", data), "over sieve.max_script_bytes");
            assertEquals(1, run("user", "sieve", "alice@example.org", "put", "x", latin1.toString(), "--data", data));
            assertEquals(1, run("user", "sieve", "alice@example.org", "delete", "lists", "--data", data), "active");
            assertEquals(1, run("user", "sieve", "nobody@example.org", "list", "--data", data));
            assertEquals(2, run("user", "sieve", "alice@example.org", "--data", data), "no verb");
            assertEquals(2, run("user", "sieve", "alice@example.org", "put", "lists", "--data", data), "no file");
            assertEquals(0, run("user", "sieve", "alice@example.org", "list", "--data", data));
            String listed = out.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(listed.contains("no sieve scripts for alice@example.org\n") && listed.endsWith("lists  (active)\nspare\n"),
                    listed);
            out.reset();
            assertEquals(0, run("user", "sieve", "alice@example.org", "get", "lists", "--data", data));
            assertEquals(script, out.toString(java.nio.charset.StandardCharsets.UTF_8), "octet for octet");
            assertEquals(0, run("user", "sieve", "alice@example.org", "activate", "spare", "--data", data));
            assertEquals(0, run("user", "sieve", "alice@example.org", "delete", "lists", "--data", data));
            assertEquals(0, run("user", "sieve", "alice@example.org", "deactivate", "--data", data));
            assertEquals(0, run("user", "sieve", "alice@example.org", "delete", "spare", "--data", data));
            assertEquals(1, run("user", "sieve", "alice@example.org", "get", "spare", "--data", data));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        String errors = err.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(errors.contains("mailstack: a script is at most 16 octets; this one has 74"), errors);
        assertTrue(errors.contains("latin1.sieve is not UTF-8"), errors);
        assertTrue(errors.contains("script lists is active: deactivate it or activate another first"), errors);
        assertTrue(errors.contains("no user nobody@example.org"), errors);
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            var alice = store.accounts().find("alice@example.org").orElseThrow();
            assertEquals(List.of(), store.sieveScripts().list(alice.id()));
        }
    }

    /** dkim keygen writes a key only its owner reads and prints the record; show prints it again; nothing is replaced. */
    @Test
    void dkimKeysAndTheirDnsRecords() throws Exception {
        String data = dir.resolve("data").toString();
        Files.createDirectories(Path.of(data)); // the server's: keys go into a data folder that is there
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(0, run("dkim", "keygen", "Example.ORG", "--data", data));
            assertEquals(1, run("dkim", "keygen", "example.org", "--data", data), "an existing key is never replaced");
            assertEquals(0, run("dkim", "keygen", "example.org", "--selector", "s2027", "--data", data));
            assertEquals(2, run("dkim", "keygen", "example.org", "--selector", "bad_selector", "--data", data), "usage");
            assertEquals(2, run("dkim", "keygen", "../etc", "--data", data));
            assertEquals(2, run("dkim", "show", "../../x", "--selector", "y", "--data", data));
            assertEquals(1, run("dkim", "show", "example.net", "--data", data), "no key");
            out.reset();
            assertEquals(0, run("dkim", "show", "example.org", "--data", data));
        } finally {
            System.setOut(stdout);
        }
        Path key = dir.resolve("data/dkim/example.org/mailstack.pem");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
        assertTrue(Files.exists(dir.resolve("data/dkim/example.org/s2027.pem")));
        dev.mailstack.mta.dkim.DkimKey read = dev.mailstack.mta.dkim.DkimKey.read(key, "example.org", "mailstack");
        assertEquals(read.zoneLine() + "\n", out.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(read.zoneLine().startsWith("mailstack._domainkey.example.org. IN TXT ( \"v=DKIM1; k=rsa; p=MIIBIjAN"),
                read.zoneLine());
        assertEquals(2048, ((java.security.interfaces.RSAPrivateCrtKey) read.privateKey()).getModulus().bitLength());
    }

    /**
     * keygen --type ed25519 writes SELECTOR-ed25519.pem beside the RSA key and prints its record
     * (k=ed25519, the bare 32-byte key); that record read back is the key's, and show then prints
     * both records, RSA first, as the domain signs with both.
     */
    @Test
    void dkimEd25519KeysAndTheirDnsRecords() throws Exception {
        String data = dir.resolve("data").toString();
        Files.createDirectories(Path.of(data)); // the server's: keys go into a data folder that is there
        java.io.PrintStream stdout = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        String keygen;
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(0, run("dkim", "keygen", "example.org", "--type", "ed25519", "--data", data));
            keygen = out.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertEquals(1, run("dkim", "keygen", "example.org", "--type", "ed25519", "--data", data), "never replaced");
            assertEquals(2, run("dkim", "keygen", "example.org", "--type", "dsa", "--data", data), "usage");
            assertEquals(0, run("dkim", "keygen", "example.org", "--data", data));
            out.reset();
            assertEquals(0, run("dkim", "show", "example.org", "--data", data));
        } finally {
            System.setOut(stdout);
        }
        Path file = dir.resolve("data/dkim/example.org/mailstack-ed25519.pem");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertTrue(Files.readString(file).startsWith("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"), "PKCS#8, as openssl writes it");
        var printed = java.util.regex.Pattern.compile("(?m)^mailstack-ed25519\\._domainkey\\.example\\.org\\. IN TXT \\( "
                + "\"v=DKIM1; k=ed25519; p=([A-Za-z0-9+/]{43}=)\" \\)$").matcher(keygen);
        assertTrue(printed.find(), keygen);
        assertTrue(keygen.startsWith("wrote " + file + "\npublish this DNS record:\n"), keygen);
        dev.mailstack.mta.dkim.DkimKey ed = dev.mailstack.mta.dkim.DkimKey.read(file, "example.org", "mailstack-ed25519");
        assertEquals(dev.mailstack.mta.dkim.DkimKey.Kind.ED25519, ed.kind());
        // the printed key verifies what the file's key signs: the record is this key's
        byte[] raw = java.util.Base64.getDecoder().decode(printed.group(1));
        byte[] spki = java.util.HexFormat.of().parseHex("302a300506032b6570032100" + java.util.HexFormat.of().formatHex(raw));
        var verifier = java.security.Signature.getInstance("Ed25519");
        verifier.initVerify(java.security.KeyFactory.getInstance("Ed25519").generatePublic(new java.security.spec.X509EncodedKeySpec(spki)));
        byte[] headerData = "header data".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        verifier.update(java.security.MessageDigest.getInstance("SHA-256").digest(headerData));
        assertTrue(verifier.verify(ed.sign(headerData)));
        dev.mailstack.mta.dkim.DkimKey rsa = dev.mailstack.mta.dkim.DkimKey.read(
                dir.resolve("data/dkim/example.org/mailstack.pem"), "example.org", "mailstack");
        assertEquals(rsa.zoneLine() + "\n" + ed.zoneLine() + "\n", out.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void selfSignedCertificateLoadsAsTheServersTlsIdentity() throws Exception {
        Path out = dir.resolve("tls");
        assertEquals(0, run("cert", "self-signed", "--host", "mail.example.org", "--out", out.toString()));
        var tls = dev.mailstack.net.TlsContext.fromPem(out.resolve("fullchain.pem"), out.resolve("privkey.pem"));
        assertTrue(tls.sslContext() != null);
        assertTrue(Files.readString(out.resolve("privkey.pem")).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(out.resolve("privkey.pem"))), "the key is its owner's alone");
        try (var left = Files.list(out)) {
            assertEquals(List.of("fullchain.pem", "privkey.pem"), left.map(f -> f.getFileName().toString()).sorted().toList());
        }
        // made again over the old files (a renewal of the first-run certificate): the key stays private
        assertEquals(0, run("cert", "self-signed", "--host", "mail.example.org", "--out", out.toString()));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(out.resolve("privkey.pem"))));
    }

    /** RFC 4155: a From_ line's timestamp is when the message came; it becomes its received date (INTERNALDATE). */
    @Test
    void fromLineDatesBecomeReceivedDates() {
        java.util.function.Function<String, java.util.Optional<java.time.Instant>> date =
                l -> MailImport.fromLineDate(l.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertEquals(java.util.Optional.of(java.time.Instant.parse("2026-12-01T10:00:00Z")), date.apply("From someone Tue Dec  1 10:00:00 2026"));
        assertEquals(java.util.Optional.of(java.time.Instant.parse("2024-03-05T22:04:09Z")),
                date.apply("From MAILER-DAEMON Tue Mar  5 23:04:09 2024 +0100"));
        assertEquals(java.util.Optional.of(java.time.Instant.parse("2019-07-14T08:30:00Z")),
                date.apply("From a@b.example  Sun Jul 14 08:30:00 CEST 2019"));
        assertEquals(java.util.Optional.empty(), date.apply("From here on 10:00 we meet"));
        assertEquals(java.util.Optional.empty(), date.apply("From x Tue Foo 31 10:00:00 2026"));
    }

    @Test
    void mboxAndMaildirImportThenBackupAndRestore() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        Path users = dir.resolve("u.txt");
        Files.writeString(users, "alice@example.org pw\n");
        run("user", "import", users.toString(), "--data", data);
        Path mbox = dir.resolve("old.mbox");
        Files.writeString(mbox, "From someone Tue Dec  1 10:00:00 2026\nSubject: one\n\n>From the archive\n\n"
                + "From other Tue Dec  1 11:00:00 2026\nSubject: two\n\nbody\n");
        assertEquals(0, run("import", "mbox", mbox.toString(), "--user", "alice@example.org", "--mailbox", "Old", "--data", data));
        Path maildir = dir.resolve("Maildir");
        Files.createDirectories(maildir.resolve("cur"));
        Files.createDirectories(maildir.resolve(".Work.Projects/new"));
        Files.writeString(maildir.resolve("cur/1.host:2,SF"), "Subject: read and flagged\n\nx\n");
        Files.writeString(maildir.resolve(".Work.Projects/new/2.host"), "Subject: new\n\ny\n");
        assertEquals(0, run("import", "maildir", maildir.toString(), "--user", "alice@example.org", "--data", data));
        // Work, made by the Maildir import as Work/Projects' parent and left empty, so unsubscribed, gets mail now
        Path work = dir.resolve("work.mbox");
        Files.writeString(work, "From someone Tue Dec  1 12:00:00 2026\nSubject: three\n\nfor Work\n");
        assertEquals(0, run("import", "mbox", work.toString(), "--user", "alice@example.org", "--mailbox", "Work", "--data", data));
        Path backup = dir.resolve("backup.zip");
        assertEquals(0, run("backup", backup.toString(), "--data", data));
        Path restored = dir.resolve("restored");
        assertEquals(0, run("restore", backup.toString(), "--data", restored.toString()));
        try (MailboxStore store = MailboxStore.open(restored, null)) {
            var alice = store.open(store.accounts().find("alice@example.org").orElseThrow().id());
            var old = alice.select(new dev.mailstack.store.MailboxName("Old")).messages();
            assertEquals(2, old.size());
            assertEquals(java.time.Instant.parse("2026-12-01T10:00:00Z"), old.get(0).internalDate(), "the From_ line's date");
            assertEquals(java.time.Instant.parse("2026-12-01T11:00:00Z"), old.get(1).internalDate());
            try (var in = alice.openContent(old.get(0))) {
                assertEquals("Subject: one\r\n\r\nFrom the archive\r\n\r\n", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
            var inbox = alice.select(dev.mailstack.store.MailboxName.INBOX).messages();
            assertEquals(1, inbox.size());
            assertTrue(inbox.get(0).flags().has(dev.mailstack.store.Flag.SEEN) && inbox.get(0).flags().has(dev.mailstack.store.Flag.FLAGGED));
            assertEquals(1, alice.status(new dev.mailstack.store.MailboxName("Work/Projects")).messages());
            // the folders that got mail subscribed, or Thunderbird would not show them
            assertEquals(java.util.Set.of("Old", "Work", "Work/Projects"), alice.list().stream()
                    .filter(m -> m.subscribed() && m.specialUse().isEmpty() && !m.name().isInbox())
                    .map(m -> m.name().path()).collect(java.util.stream.Collectors.toSet()));
        }
    }

    /** A missing folder or file is named as such, not as the bare path a NoSuchFileException carries. */
    @Test
    void backupAndRestoreSayWhichFolderOrFileIsMissing() throws Exception {
        String data = dir.resolve("data").toString();
        assertEquals(0, run("domain", "add", "example.org", "--data", data));
        Path missing = dir.resolve("nonexistent");
        CommandRun backup = capture("backup", missing.resolve("x.zip").toString(), "--data", data);
        CommandRun restore = capture("restore", dir.resolve("nonexist.zip").toString(), "--data", dir.resolve("r").toString());
        assertEquals(1, backup.exit());
        assertEquals(1, restore.exit());
        String said = backup.err() + restore.err();
        assertTrue(said.contains("mailstack: no such folder: " + missing + " (create it first"), said);
        assertTrue(said.contains("mailstack: no such file: " + dir.resolve("nonexist.zip") + "\n"), said);
        assertTrue(Files.notExists(dir.resolve("r")), "a failed restore made no data folder");
    }

    /** RFC 4155 From_ lines, text that is no mbox, Dovecot's modified UTF-7 folders, a folder name we cannot take. */
    @Test
    void oddMboxAndMaildirInputIsSplitRightOrRefusedBeforeAnythingIsImported() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        Path users = dir.resolve("u.txt");
        Files.writeString(users, "alice@example.org pw\n");
        run("user", "import", users.toString(), "--data", data);
        Path mbox = dir.resolve("unquoted.mbox");
        // an mboxo writer that did not quote: neither body line is a From_ line (no empty line before, no time)
        Files.writeString(mbox, "Stray text before the first message\n\nFrom someone Tue Dec  1 10:00:00 2026\nSubject: one\n\n"
                + "Regards,\nFrom the archive of 10:00 notes\n\nFrom here on, all is quiet\n\n"
                + "From other Tue Dec  1 11:00:00 2026\nSubject: two\n\nbody\n");
        CommandRun imported = capture("import", "mbox", mbox.toString(), "--user", "alice@example.org", "--mailbox", "Old", "--data", data);
        assertEquals(0, imported.exit());
        assertTrue(imported.out().contains("skipped 1 line(s) of text before the first"), imported.out());
        Path eml = dir.resolve("one.eml");
        Files.writeString(eml, "Subject: not an mbox\n\nhello\n");
        assertEquals(1, run("import", "mbox", eml.toString(), "--user", "alice@example.org", "--mailbox", "Eml", "--data", data));

        Path maildir = dir.resolve("Maildir");
        Files.createDirectories(maildir.resolve("cur"));
        Files.createDirectories(maildir.resolve(".Entw&APw-rfe/cur"));
        Files.writeString(maildir.resolve("cur/1.host:2,S"), "Subject: in the inbox\n\nx\n");
        Files.writeString(maildir.resolve(".Entw&APw-rfe/cur/2.host:2,S"), "Subject: draft\n\ny\n");
        Path odd = Files.createDirectories(dir.resolve("Odd").resolve("cur"));
        Files.writeString(odd.resolve("1.host"), "Subject: x\n\nx\n");
        Files.createDirectories(odd.resolveSibling("..Empty.Level/cur")); // Work//Projects: no mailbox name
        assertEquals(1, run("import", "maildir", odd.getParent().toString(), "--user", "alice@example.org", "--data", data));
        assertEquals(1, run("import", "maildir", dir.resolve("u.txt").toString(), "--user", "alice@example.org", "--data", data));
        assertEquals(1, run("import", "maildir", dir.resolve("data").toString(), "--user", "alice@example.org", "--data", data),
                "no cur/ or new/: not a Maildir");
        Files.createDirectories(maildir.resolve(".&AGE-/cur")); // "a" shifted: not modified UTF-7's one form
        CommandRun maildirImport = capture("import", "maildir", maildir.toString(), "--user", "alice@example.org", "--data", data);
        assertEquals(0, maildirImport.exit(), maildirImport.err());
        assertTrue(maildirImport.out().contains("kept 1 folder name(s) as written, not read as modified UTF-7 (RFC 3501 5.1.3):"
                + " &AGE-; rename them"), maildirImport.out());
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            var alice = store.open(store.accounts().find("alice@example.org").orElseThrow().id());
            assertTrue(alice.find(new dev.mailstack.store.MailboxName("&AGE-")).isPresent(), "kept under its name as written");
            var old = alice.select(new dev.mailstack.store.MailboxName("Old")).messages();
            assertEquals(2, old.size());
            try (var in = alice.openContent(old.get(0))) {
                assertEquals("Subject: one\r\n\r\nRegards,\r\nFrom the archive of 10:00 notes\r\n\r\nFrom here on, all is quiet\r\n\r\n",
                        new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
            assertEquals(0, alice.find(new dev.mailstack.store.MailboxName("Eml")).map(m -> alice.status(m.name()).messages())
                    .orElse(0L).intValue());
            assertEquals(1, alice.status(dev.mailstack.store.MailboxName.INBOX).messages(), "the odd Maildir imported nothing");
            assertEquals(1, alice.status(new dev.mailstack.store.MailboxName("Entw\u00fcrfe")).messages());
        }
    }

    /** A user's own Maildir imported by root must not bring in what its links point at (/etc/shadow, another Maildir). */
    @Test
    void maildirImportSkipsSymbolicLinks() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        Path users = dir.resolve("u.txt");
        Files.writeString(users, "alice@example.org pw\n");
        run("user", "import", users.toString(), "--data", data);
        Path secret = Files.writeString(dir.resolve("secret"), "root:$6$hash:19000:0:99999:7:::\n");
        Path other = dir.resolve("OtherMaildir");
        Files.createDirectories(other.resolve("cur"));
        Files.writeString(other.resolve("cur/1.host:2,S"), "Subject: someone else's\n\nx\n");
        Path maildir = dir.resolve("Maildir");
        Files.createDirectories(maildir.resolve("cur"));
        Files.writeString(maildir.resolve("cur/1.host:2,S"), "Subject: mine\n\nx\n");
        Files.createSymbolicLink(maildir.resolve("cur/2.host:2,S"), secret);
        Files.createSymbolicLink(maildir.resolve(".Linked"), other);
        Files.createDirectories(maildir.resolve(".Own"));
        Files.createSymbolicLink(maildir.resolve(".Own/cur"), other.resolve("cur"));
        CommandRun imported = capture("import", "maildir", maildir.toString(), "--user", "alice@example.org", "--data", data);
        assertEquals(0, imported.exit());
        assertTrue(imported.out().contains("skipped 3 symbolic link(s)"), imported.out());
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            var alice = store.open(store.accounts().find("alice@example.org").orElseThrow().id());
            assertEquals(1, alice.status(dev.mailstack.store.MailboxName.INBOX).messages());
            assertTrue(alice.find(new dev.mailstack.store.MailboxName("Linked")).isEmpty());
            assertEquals(0, alice.status(new dev.mailstack.store.MailboxName("Own")).messages());
        }
    }

    @Test
    void importParsesWithTheConfiguredMimeLimits() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        Path users = dir.resolve("u.txt");
        Files.writeString(users, "alice@example.org pw\n");
        run("user", "import", users.toString(), "--data", data);
        Path conf = dir.resolve("mailstack.conf");
        Files.writeString(conf, "mime.max_parts = 2\n");
        for (String name : List.of("Limited", "Default")) {
            // a subject of its own each: equal content is stored once, with the summary of its first import
            Files.writeString(dir.resolve(name + ".mbox"), "From someone Tue Dec  1 10:00:00 2026\nSubject: " + name
                    + "\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
                    + "--b\n\none\n--b\n\ntwo\n--b\n\nthree\n--b--\n");
        }
        assertEquals(0, run("import", "mbox", dir.resolve("Limited.mbox").toString(), "--user", "alice@example.org",
                "--mailbox", "Limited", "--data", data, "--config", conf.toString()));
        assertEquals(0, run("import", "mbox", dir.resolve("Default.mbox").toString(), "--user", "alice@example.org",
                "--mailbox", "Default", "--data", data));
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            var alice = store.open(store.accounts().find("alice@example.org").orElseThrow().id());
            // past mime.max_parts the rest of the multipart is one text part (R6): the root part and one
            // child are parsed, "two" and "three" stay together
            assertEquals(2, parts(alice, "Limited"));
            assertEquals(3, parts(alice, "Default"));
        }
    }

    private static int parts(dev.mailstack.store.StoreSession user, String mailbox) {
        try (var view = user.select(new dev.mailstack.store.MailboxName(mailbox))) {
            var message = view.messages().get(0);
            return dev.mailstack.mime.MessageSummary.decode(user.facts(message).summary()).root().children().size();
        }
    }

    @Test
    void queueFlushMakesDeferredMailDueNow() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        dev.mailstack.store.QueueId id;
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            var spool = store.spool();
            spool.write("Subject: q\r\n\r\nx\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            var m = spool.finish();
            id = store.queue().enqueue(new dev.mailstack.store.MailEnvelope("a@example.org",
                    java.util.List.of(dev.mailstack.store.MailEnvelope.Recipient.of("b@remote.test")), java.util.Optional.empty(),
                    java.util.Optional.empty(), false, false, java.time.Instant.now()), m,
                    new dev.mailstack.store.MessageFacts(m.size(), 12, 1, new byte[]{1}));
            java.time.Instant now = java.time.Instant.now();
            store.queue().claimDue(now, java.time.Duration.ofMinutes(5)).orElseThrow();
            store.queue().record(id, java.util.List.of(new dev.mailstack.store.RecipientOutcome.Deferred(0, "451 later",
                    now.plus(java.time.Duration.ofHours(1)))));
            assertTrue(store.queue().claimDue(now, java.time.Duration.ofMinutes(5)).isEmpty());
        }
        assertEquals(1, run("queue", "flush", "nonsense", "--data", data));
        assertEquals(0, run("queue", "flush", id.toString(), "--data", data));
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertEquals(id, store.queue().claimDue(java.time.Instant.now(), java.time.Duration.ofMinutes(5)).orElseThrow().id());
        }
    }

    @Test
    void importReportsBadLinesAndFails() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "carol@example.org pw\nnobody@unknown.test pw\nbroken\n");
        assertEquals(1, run("user", "import", users.toString(), "--data", data));
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertEquals(1, store.accounts().users().size(), "the good line was imported");
        }
    }

    /**
     * The file is read a line at a time, each line bounded: the wrong file (a log of one huge line)
     * is refused line by line, not read whole; a line that is not UTF-8 is refused with its number
     * and what to do, and the others are imported.
     */
    @Test
    void importReadsBoundedLinesAndNamesALineThatIsNotUtf8() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "dave@example.org pw\n" + "x".repeat(3 * UserCommand.Import.MAX_LINE_CHARS)
                + " pw\r\nerin@example.org pw\r\n");
        CommandRun longLine = capture("user", "import", users.toString(), "--data", data);
        assertEquals(1, longLine.exit());
        assertTrue(longLine.err().contains(users + ":2: a line longer than 4096 bytes is no user"), longLine.err());
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, "frank@example.org pw\ngr\u00e9ta@example.org pw\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        CommandRun notUtf8 = capture("user", "import", latin1.toString(), "--data", data);
        assertEquals(1, notUtf8.exit());
        assertTrue(notUtf8.err().contains(latin1 + ":2: not UTF-8 text"), notUtf8.err());
        Path mac = Files.writeString(dir.resolve("mac.txt"), "gina@example.org pw1\rhank@example.org pw2\r");
        assertEquals(0, run("user", "import", mac.toString(), "--data", data), "a bare CR ends a line as LF does");
        try (MailboxStore store = MailboxStore.open(Path.of(data), null)) {
            assertEquals(List.of("dave@example.org", "erin@example.org", "frank@example.org", "gina@example.org", "hank@example.org"),
                    store.accounts().users().stream().map(a -> a.address()).sorted().toList());
        }
    }

    /**
     * An upgrade installed while the old server still runs: a command of the new mailstack must not
     * migrate the database under that server; it says to restart it. With no server, it migrates.
     */
    @Test
    void besideARunningServerACommandLeavesTheSchemaToTheServer() throws Exception {
        Path data = dir.resolve("data");
        dev.mailstack.store.Database.open(dev.mailstack.store.Database.defaultUrl(data), "18").close();
        try (DataFolderLock olderServer = DataFolderLock.tryTake(data).orElseThrow()) {
            CommandRun beside = capture("queue", "list", "--data", data.toString());
            assertEquals(1, beside.exit(), beside.out());
            assertTrue(beside.err().contains("mailstack: the database is at schema version 18, older than this mailstack's")
                    && beside.err().contains("Restart it (systemctl restart mailstack)"), beside.err());
            assertEquals(1, capture("domain", "add", "example.org", "--data", data.toString()).exit());
        }
        CommandRun alone = capture("queue", "list", "--data", data.toString());
        assertEquals(0, alone.exit(), alone.err());
        assertEquals(0, run("domain", "add", "example.org", "--data", data.toString()));
    }

    /**
     * config check refuses what serve and a reload would: the files the keys name (a Sieve script
     * run before the users', the certificate) and keys that go together, not only the syntax.
     */
    @Test
    void configCheckRefusesWhatAStartWouldRefuse() throws Exception {
        Path conf = dir.resolve("mailstack.conf");
        Files.writeString(conf, "sieve.before = " + dir.resolve("missing.sieve") + "\n");
        CommandRun sieve = capture("config", "check", "--config", conf.toString());
        assertEquals(1, sieve.exit(), sieve.out());
        assertTrue(sieve.err().startsWith("mailstack: sieve.before") && sieve.err().contains("missing.sieve"), sieve.err());

        Files.writeString(conf, "tls.certificate = " + dir.resolve("fullchain.pem") + "\n");
        CommandRun half = capture("config", "check", "--config", conf.toString());
        assertEquals(1, half.exit(), half.out());
        assertTrue(half.err().contains("tls.certificate and tls.key go together"), half.err());

        Files.writeString(conf, "tls.certificate = " + dir.resolve("fullchain.pem") + "\ntls.key = " + dir.resolve("privkey.pem") + "\n");
        CommandRun missing = capture("config", "check", "--config", conf.toString());
        assertEquals(1, missing.exit(), missing.out());
        assertTrue(missing.err().contains("fullchain.pem"), missing.err());

        Files.writeString(conf, "smtp.max_recipients = 50\n");
        assertEquals(0, capture("config", "check", "--config", conf.toString()).exit());
    }

    /** An import that fails part way names the message it failed on (mbox: its From_ line) and how many went in before. */
    @Test
    void anImportThatFailsNamesTheMessage() throws Exception {
        String data = dir.resolve("data").toString();
        run("domain", "add", "example.org", "--data", data);
        Path users = dir.resolve("u.txt");
        Files.writeString(users, "alice@example.org pw\n");
        run("user", "import", users.toString(), "--data", data);
        assertEquals(0, run("user", "quota", "alice@example.org", "2K", "--data", data));
        Path mbox = dir.resolve("old.mbox");
        Files.writeString(mbox, "From someone Tue Dec  1 10:00:00 2026\nSubject: one\n\nsmall\n\n"
                + "From other Tue Dec  1 11:00:00 2026\nSubject: two\n\n" + "x".repeat(4000) + "\n");
        CommandRun failed = capture("import", "mbox", mbox.toString(), "--user", "alice@example.org", "--data", data);
        assertEquals(1, failed.exit(), failed.out());
        assertTrue(failed.err().startsWith("mailstack: " + mbox + ":6: ")
                && failed.err().contains("(1 message(s) were imported before that)"), failed.err());
    }
}

package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    @TempDir
    Path dir;

    @Test
    void fileValuesOverrideDefaultsAndTheEnvironmentOverridesTheFile() throws Exception {
        Path file = dir.resolve("mailstack.conf");
        Files.writeString(file, "# comment\n\nsmtp.port = 2600\nhostname = mx.example.org\n");
        Config c = Config.load(Optional.of(file), Map.of("MAILSTACK_SMTP_PORT", "2700"));
        assertEquals("mx.example.org", c.hostname());
        assertEquals(Optional.of(2700), c.port(ConfigKey.SMTP_PORT, 25, 2525));
        assertEquals("environment MAILSTACK_SMTP_PORT", c.effective().get(ConfigKey.SMTP_PORT).origin());
        assertEquals(file + ":4", c.effective().get(ConfigKey.HOSTNAME).origin());
        assertEquals(Optional.empty(), Config.load(Optional.empty(), Map.of("MAILSTACK_IMAP_PORT", "off"))
                .port(ConfigKey.IMAP_PORT, 143, 1143));
    }

    /** An unset hostname: the canonical name, else hostname(1)'s, never localhost or an address when a name is there. */
    @Test
    void anUnsetHostnameSkipsLocalhostAndAddresses() {
        assertEquals("mail.example.org", Config.machineName(List.of("mail.example.org", "vm")));
        assertEquals("vm", Config.machineName(List.of("localhost", "vm")), "a VM whose /etc/hosts maps it to localhost");
        assertEquals("vm", Config.machineName(List.of("10.0.2.15", "VM")));
        assertEquals("vm", Config.machineName(List.of("fe80:0:0:0:a00:27ff:fe4e:66a1%enp0s3", "vm")));
        assertEquals("localhost", Config.machineName(List.of("localhost.localdomain", "127.0.0.1")));
        assertEquals("localhost", Config.machineName(List.of()));
        assertTrue(Config.isFullName("mail.example.org"));
        for (String name : List.of("vm", "localhost", "localhost.localdomain", "vm.localdomain", "192.0.2.1", "::1")) {
            assertFalse(Config.isFullName(name), name);
        }
    }

    /** Every mistaken line of a file at once, each with file, line and key; a misspelt key gets the one meant. */
    @Test
    void everyErrorOfAFileIsReportedWithTheKeyProbablyMeant() throws Exception {
        Path file = dir.resolve("several.conf");
        Files.writeString(file, "smtp.prot = 25\nhostname = mx.example.org\nimap.max_line_bytes = 9000\n"
                + "smtp.port = 99999\nno equals sign\nmax_recipients = 10\nfrobnicate = 1\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(List.of(
                file + ":1: unknown key 'smtp.prot': did you mean smtp.port? (see docs/configuration.md)",
                file + ":3: unknown key 'imap.max_line_bytes': did you mean net.max_line_bytes? (see docs/configuration.md)",
                file + ":4: smtp.port = 99999: a port is 0 to 65535, auto or off",
                file + ":5: expected 'key = value', got: no equals sign",
                file + ":6: unknown key 'max_recipients': did you mean smtp.max_recipients? (see docs/configuration.md)",
                file + ":7: unknown key 'frobnicate' (see docs/configuration.md)"), e.getMessage().lines().toList());

        // config check prints each on its own line, and exits 1
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(1, Main.run("config", "check", "--config", file.toString()));
        } finally {
            System.setErr(stderr);
        }
        List<String> said = err.toString(java.nio.charset.StandardCharsets.UTF_8).lines().toList();
        assertEquals(6, said.size(), said.toString());
        assertEquals("mailstack: " + file + ":1: unknown key 'smtp.prot': did you mean smtp.port? (see docs/configuration.md)",
                said.get(0));
    }

    @Test
    void errorsNameTheFileLineAndKey() throws Exception {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "hostname = a\nsmtp.port = 99999\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":2: smtp.port = 99999: a port is 0 to 65535, auto or off", e.getMessage());
        Files.writeString(file, "smtp.prot = 25\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().startsWith(file + ":1: unknown key 'smtp.prot'"), e.getMessage());
        Files.writeString(file, "auth.plaintext = sometimes\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().contains("must be never, loopback or always"), e.getMessage());
        Files.writeString(file, "smtp.trusted_networks = 10.0.0.0/33\n");
        assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        Files.writeString(file, "net.max_line_bytes = 100\n"); // the server could not start with it
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: net.max_line_bytes = 100: must be at least 512", e.getMessage());
        Files.writeString(file, "sieve.max_script_bytes = 2000000\n"); // past the store's column
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: sieve.max_script_bytes = 2000000: must be at most 1000000", e.getMessage());
        assertEquals(Optional.of(4190), Config.load(Optional.empty(), Map.of()).port(ConfigKey.MANAGESIEVE_PORT, 4190, 4190));
        assertEquals(Optional.empty(), Config.load(Optional.empty(), Map.of("MAILSTACK_MANAGESIEVE_PORT", "off"))
                .port(ConfigKey.MANAGESIEVE_PORT, 4190, 4190));
        Files.writeString(file, "mailbox.quota_warning_percent = 80,100\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: mailbox.quota_warning_percent = 80,100: a percentage is 1 to 99: 100", e.getMessage());
        Files.writeString(file, "mailbox.quota_warning_percent = 50,60,70,80,90,95\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().endsWith("at most 5 percentages"), e.getMessage());
        Files.writeString(file, "mailbox.quota_warning_percent =\n"); // empty: off
        assertEquals("", Config.load(Optional.of(file), Map.of()).string(ConfigKey.QUOTA_WARNING_PERCENT));
        Files.writeString(file, "warm_up = yes\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: warm_up = yes: must be true or false", e.getMessage());
    }

    /** Files an editor or a slip of the hand makes: each refused with the file and line named, none with a trace. */
    @Test
    void oddFilesAreRefusedNamingTheLine() throws Exception {
        Path file = dir.resolve("odd.conf");
        Files.write(file, "hostname = a\n# caf\u00e9 in Latin-1: ".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.write(file, new byte[] {(byte) 0xe9, '\n', 's', 'm', 't', 'p', '.', 'p', 'o', 'r', 't', '=', '1', '\n'},
                java.nio.file.StandardOpenOption.APPEND);
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":2: not UTF-8 text: save the file as UTF-8", e.getMessage());

        Files.writeString(file, "\uFEFFhostname = mx.example.org\r\nsmtp.port = 2600\r\n"); // Notepad: BOM and CRLF
        Config c = Config.load(Optional.of(file), Map.of());
        assertEquals("mx.example.org", c.hostname());
        assertEquals(Optional.of(2600), c.port(ConfigKey.SMTP_PORT, 25, 2525));

        // a line appended to override one above wins, as in Postfix's main.cf, with a warning naming both
        Files.writeString(file, "smtp.port = 2600\nhostname = a\nsmtp.port = 2700\n");
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger(Config.class.getName());
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                warnings.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(capture);
        try {
            assertEquals(Optional.of(2700), Config.load(Optional.of(file), Map.of()).port(ConfigKey.SMTP_PORT, 25, 2525));
        } finally {
            jul.removeHandler(capture);
        }
        assertEquals(List.of(file + ":3: smtp.port is set again; this line wins over line 1"), warnings);

        // ManageSieve and POP3 refused it only at start, with an IllegalArgumentException's stack trace
        Files.writeString(file, "hostname = mail example.org\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: hostname = mail example.org: a host name is one word, without blanks or control characters",
                e.getMessage());
        assertThrows(ConfigException.class, () -> Config.load(Optional.empty(), Map.of("MAILSTACK_HOSTNAME", "a\u0000b")));

        Files.write(file, new byte[1024 * 1024 + 1]);
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().startsWith(file + ": larger than 1024 KiB"), e.getMessage());
    }

    @Test
    void theConfigurationReferenceDocumentsEveryKeyWithItsDefault() throws Exception {
        Path doc = Path.of("..", "docs", "configuration.md");
        String text = Files.readString(doc);
        for (ConfigKey k : ConfigKey.values()) {
            String expected = "| `" + k.key() + "` | " + (k.defaultValue().isEmpty() ? "(empty)" : "`" + k.defaultValue() + "`");
            assertTrue(text.contains(expected), "docs/configuration.md lacks " + expected);
        }
        String sighup = text.substring(text.indexOf("A SIGHUP"), text.indexOf("| Key |"));
        for (ConfigKey k : ConfigKey.values()) {
            assertEquals(k.live(), sighup.contains("`" + k.key() + "`"), k.key() + " in the SIGHUP paragraph");
        }
    }

    @Test
    void outboundRoutesAndTlsPoliciesAreCheckedWhenTheFileIsRead() throws Exception {
        Path file = dir.resolve("out.conf");
        Files.writeString(file, "queue.tls_policy = example.net=sometimes\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().startsWith(file + ":1: queue.tls_policy = example.net=sometimes: TLS policy must be none,"),
                e.getMessage());
        Files.writeString(file, "queue.static_routes = example.net\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().contains("expected domain=host:port"), e.getMessage());
        Files.writeString(file, "queue.relay_host = smart.example:x\n");
        assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        // a port out of range is the config check's error, naming the key, not a fault at delivery
        for (String bad : List.of("queue.relay_host = smart.example:70000", "queue.relay_host = smart.example:0",
                "queue.relay_host = smart.example:-1", "queue.static_routes = example.net=127.0.0.1:65536")) {
            Files.writeString(file, bad + "\n");
            e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()), bad);
            assertTrue(e.getMessage().startsWith(file + ":1: " + bad + ": port ") && e.getMessage().endsWith("is not 1 to 65535"),
                    e.getMessage());
        }

        Files.writeString(file, "queue.relay_host = smart.example:587\nqueue.relay_host_user = me@example.org\n");
        Config noPassword = Config.load(Optional.of(file), Map.of());
        e = assertThrows(ConfigException.class, () -> FrontEnds.router(noPassword));
        assertTrue(e.getMessage().contains("needs queue.relay_host_password_file"), e.getMessage());
        Path secret = dir.resolve("relay.secret");
        Files.writeString(secret, "s3cret\n");
        Files.writeString(file, "queue.relay_host = smart.example:465\nqueue.relay_host_user = me@example.org\n"
                + "queue.relay_host_password_file = " + secret + "\nqueue.relay_host_tls = implicit\n");
        var route = FrontEnds.router(Config.load(Optional.of(file), Map.of())).routes("anywhere.example").getFirst();
        assertEquals(dev.mailstack.mta.delivery.TlsPolicy.IMPLICIT, route.tls());
        assertEquals(Optional.of(new dev.mailstack.mta.delivery.RelayLogin("me@example.org", "s3cret")), route.login());
        assertTrue(!route.login().get().toString().contains("s3cret"), "the password stays out of logs");
        assertTrue(route.verifies(), "the relay's certificate is checked before the password goes to it");

        Files.writeString(file, "queue.relay_host = smart.example:465\nqueue.relay_host_user = me@example.org\n"
                + "queue.relay_host_password_file = " + secret + "\nqueue.relay_host_tls_verify = false\n");
        assertTrue(!FrontEnds.router(Config.load(Optional.of(file), Map.of())).routes("anywhere.example").getFirst().verifies());
        Path notPem = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");
        Files.writeString(file, "queue.tls_trust_file = " + notPem + "\nqueue.tls_policy = bank.example=verify\n");
        Config badTrust = Config.load(Optional.of(file), Map.of());
        e = assertThrows(ConfigException.class, () -> FrontEnds.router(badTrust));
        assertTrue(e.getMessage().startsWith("queue.tls_trust_file: ") && e.getMessage().contains(notPem.toString()),
                e.getMessage());
    }

    /** sieve.before/sieve.after: a script that does not compile stops the start (or a reload) naming file and line. */
    @Test
    void administratorSieveScriptsAreCheckedWhenReadNamingFileAndLine() throws Exception {
        Path good = dir.resolve("spam.sieve");
        Files.writeString(good, "require \"fileinto\";\nif header :is \"X-Spam-Flag\" \"YES\" { fileinto \"Junk\"; stop; }\n");
        Path bad = dir.resolve("bad.sieve");
        Files.writeString(bad, "require \"fileinto\";\nfileinto \"Junk\"\n");
        Map<String, String> env = Map.of("MAILSTACK_SIEVE_BEFORE", good.toString(), "MAILSTACK_SIEVE_AFTER", good + ", " + good);
        var settings = FrontEnds.sieveSettings(Config.load(Optional.empty(), env));
        assertEquals(1, settings.adminScripts().before().size());
        assertEquals(2, settings.adminScripts().after().size());
        ConfigException e = assertThrows(ConfigException.class, () -> FrontEnds.sieveSettings(
                Config.load(Optional.empty(), Map.of("MAILSTACK_SIEVE_AFTER", good + "," + bad))));
        assertTrue(e.getMessage().startsWith("sieve.after: " + bad + ": line 2: "), e.getMessage());
        e = assertThrows(ConfigException.class, () -> FrontEnds.sieveSettings(
                Config.load(Optional.empty(), Map.of("MAILSTACK_SIEVE_BEFORE", dir.resolve("missing.sieve").toString()))));
        assertTrue(e.getMessage().startsWith("sieve.before: cannot read " + dir.resolve("missing.sieve")), e.getMessage());
        e = assertThrows(ConfigException.class, () -> FrontEnds.sieveSettings(
                Config.load(Optional.empty(), Map.of("MAILSTACK_SIEVE_GLOBAL_DIR", good.toString()))));
        assertEquals("sieve.global_dir: " + good + " is not a folder", e.getMessage());
        // a wrong path (a log file, /dev/zero) is read no further than any script may go
        Path huge = dir.resolve("huge.sieve");
        Files.writeString(huge, "# " + "x".repeat(dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES) + "\nkeep;\n");
        e = assertThrows(ConfigException.class, () -> FrontEnds.sieveSettings(
                Config.load(Optional.empty(), Map.of("MAILSTACK_SIEVE_BEFORE", huge.toString()))));
        assertEquals("sieve.before: " + huge + " is larger than " + dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES
                + " bytes, more than any Sieve script may have", e.getMessage());
    }

    /** RFC 5235's scanners as Pigeonhole configures them: each key checked when read, the set when the settings are built. */
    @Test
    void spamAndVirusTestSettingsAreCheckedNamingTheKey() throws Exception {
        Path file = dir.resolve("scan.conf");
        Files.writeString(file, """
                sieve.spamtest_status_header = X-Spam-Status: score=(-?[0-9]+\\.?[0-9]*)
                sieve.spamtest_max_header = X-Spam-Status: required=([0-9]+\\.?[0-9]*)
                sieve.virustest_status_header = X-Virus-Scan: Found to be (.+)\\.
                sieve.virustest_status_type = text
                sieve.virustest_text_values = 1=clean, 5=infected
                """);
        var settings = FrontEnds.sieveSettings(Config.load(Optional.of(file), Map.of()));
        assertTrue(settings.spamTest().configured());
        assertEquals(Map.of(1, "clean", 5, "infected"), settings.virusTest().textValues());
        assertTrue(!FrontEnds.sieveSettings(Config.load(Optional.empty(), Map.of())).spamTest().configured());

        Files.writeString(file, "sieve.spamtest_status_header = X-Spam-Status: score=[0-9]+\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().startsWith(file + ":1: sieve.spamtest_status_header = ") && e.getMessage().contains("group"),
                e.getMessage());
        Files.writeString(file, "sieve.virustest_text_values = 7=infected\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertTrue(e.getMessage().startsWith(file + ":1: sieve.virustest_text_values = 7=infected: expected VALUE=TEXT"),
                e.getMessage());
        Files.writeString(file, "sieve.spamtest_status_type = stars\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: sieve.spamtest_status_type = stars: must be score, strlen or text", e.getMessage());
        Files.writeString(file, "sieve.spamtest_max_value = 0\n");
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: sieve.spamtest_max_value = 0: must be a number above 0", e.getMessage());
        Files.writeString(file, "sieve.spamtest_status_header = X-Spam-Score\n");
        Config noMax = Config.load(Optional.of(file), Map.of());
        e = assertThrows(ConfigException.class, () -> FrontEnds.sieveSettings(noMax));
        assertEquals("sieve.spamtest_status_type = score needs sieve.spamtest_max_value or sieve.spamtest_max_header:"
                + " the score at the top of the scale", e.getMessage());
    }

    @Test
    void editheaderListsAreFieldNamesAndSubjectStaysEditable() throws Exception {
        Path file = dir.resolve("edit.conf");
        Files.writeString(file, "sieve.editheader_forbid_add = X-Verified, subject\nsieve.editheader_forbid_delete = X-Seen X-Verified\n");
        var rules = FrontEnds.sieveSettings(Config.load(Optional.of(file), Map.of())).editHeader();
        assertEquals(java.util.Set.of("x-verified"), rules.forbidAdd());
        assertEquals(java.util.Set.of("x-seen", "x-verified"), rules.forbidDelete());
        Files.writeString(file, "sieve.editheader_forbid_delete = X-Seen, X:Bad\n");
        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Optional.of(file), Map.of()));
        assertEquals(file + ":1: sieve.editheader_forbid_delete = X-Seen, X:Bad: \"X:Bad\" is not a header field name", e.getMessage());
    }

    /** postgrey's whitelist files and retry window: checked when the settings are built, at start and on SIGHUP. */
    @Test
    void greylistWhitelistFilesAndTheRetryWindowAreCheckedNamingKeyFileAndLine() throws Exception {
        Path clients = Files.writeString(dir.resolve("whitelist_clients"), "# pools\nbigmail.example\n192.0.2.0/24\n");
        Path recipients = Files.writeString(dir.resolve("whitelist_recipients"), "abuse@\n");
        Map<String, String> env = Map.of("MAILSTACK_SMTP_GREYLIST", "true",
                "MAILSTACK_SMTP_GREYLIST_WHITELIST_CLIENTS", clients.toString(),
                "MAILSTACK_SMTP_GREYLIST_WHITELIST_RECIPIENTS", recipients.toString(),
                "MAILSTACK_SMTP_GREYLIST_RETRY_WINDOW_HOURS", "12");
        var g = FrontEnds.greylisting(Config.load(Optional.empty(), env));
        assertEquals(java.time.Duration.ofHours(12), g.policy().retryWindow());
        assertEquals(Optional.of("bigmail.example"), g.clients().byName("out-1.bigmail.example"));
        assertEquals(Optional.of("abuse@"), g.recipients().find("abuse@example.org"));
        assertEquals(java.time.Duration.ofDays(2), FrontEnds.greylisting(Config.load(Optional.empty(),
                Map.of("MAILSTACK_SMTP_GREYLIST", "true"))).policy().retryWindow(), "postgrey's default");

        Files.writeString(recipients, "abuse@\nnot an address\n");
        ConfigException e = assertThrows(ConfigException.class, () -> FrontEnds.greylisting(Config.load(Optional.empty(), env)));
        assertTrue(e.getMessage().startsWith("smtp.greylist_whitelist_recipients: " + recipients + ":2: not an address"),
                e.getMessage());
        Map<String, String> missing = new java.util.HashMap<>(env);
        missing.put("MAILSTACK_SMTP_GREYLIST_WHITELIST_RECIPIENTS", "");
        missing.put("MAILSTACK_SMTP_GREYLIST_WHITELIST_CLIENTS", dir.resolve("nowhere").toString());
        e = assertThrows(ConfigException.class, () -> FrontEnds.greylisting(Config.load(Optional.empty(), missing)));
        assertEquals("smtp.greylist_whitelist_clients: cannot read " + dir.resolve("nowhere") + " as UTF-8: no such file",
                e.getMessage());

        Map<String, String> shortWindow = Map.of("MAILSTACK_SMTP_GREYLIST", "true",
                "MAILSTACK_SMTP_GREYLIST_RETRY_WINDOW_HOURS", "1", "MAILSTACK_SMTP_GREYLIST_DELAY_SECONDS", "3600");
        e = assertThrows(ConfigException.class, () -> FrontEnds.greylisting(Config.load(Optional.empty(), shortWindow)));
        assertEquals("smtp.greylist_retry_window_hours = 1 must be longer than smtp.greylist_delay_seconds = 3600,"
                + " or no retry could ever pass", e.getMessage());
        e = assertThrows(ConfigException.class, () -> Config.load(Optional.empty(),
                Map.of("MAILSTACK_SMTP_GREYLIST_RETRY_WINDOW_HOURS", "721")));
        assertTrue(e.getMessage().contains("must be at most 720"), e.getMessage());
    }
}

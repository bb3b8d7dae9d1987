package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.net.TestTls;
import dev.mailstack.server.ConfigKey;
import dev.mailstack.server.Server;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.PasswordScheme;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Running it for real: autoconfig and metrics over HTTP, certificate files replaced under a running
 * server, SIGTERM and SIGHUP against a real process, the unit file.
 */
class OperationsTest {
    @TempDir
    Path dir;

    static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void thunderbirdAutoconfigAndPrometheusMetrics() throws Exception {
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of(ConfigKey.HTTP_PORT, "0"))) {
            int http = mx.port("http");
            HttpResponse<String> config = get(http, "/mail/config-v1.1.xml?emailaddress=alice%40example.org");
            assertEquals(200, config.statusCode());
            assertTrue(config.body().contains("<incomingServer type=\"imap\">"), config.body());
            assertTrue(config.body().contains("<port>" + mx.port("imap") + "</port>"), config.body());
            assertTrue(config.body().contains("<outgoingServer type=\"smtp\">"), config.body());
            assertTrue(config.body().contains("<username>%EMAILADDRESS%</username>"), config.body());
            assertEquals(200, get(http, "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40example.org").statusCode());
            assertEquals(404, get(http, "/mail/config-v1.1.xml?emailaddress=x%40elsewhere.test").statusCode());
            mx.addUser("alice", "secret");
            try (LineClient c = new LineClient(mx.port("smtp"))) {
                c.expect("220 .*");
                c.send("EHLO x");
                c.expectEventually("250 HELP");
                c.send("AUTH PLAIN " + java.util.Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes()))
                        .expect("235 .*");
                sendOne(c, "alice@example.org", "counted");
                Await.until("the delivery to be counted", Duration.ofSeconds(20),
                        () -> {
                            try {
                                return get(http, "/metrics").body().contains("mailstack_recipients_delivered_total 1");
                            } catch (Exception e) {
                                return false;
                            }
                        });
                String metrics = get(http, "/metrics").body();
                assertTrue(metrics.contains("mailstack_auth_total{endpoint=\"smtp\",result=\"ok\"} 1"), metrics);
                assertTrue(metrics.contains("mailstack_auth_total{endpoint=\"imap\",result=\"ok\"} 0"), metrics);
                assertTrue(metrics.contains("mailstack_jvm_nonheap_used_bytes "), metrics);
                assertTrue(metrics.contains("mailstack_messages_received_total 1"), metrics);
                assertTrue(metrics.contains("mailstack_connections_active{endpoint=\"smtp\"} 1"), metrics);
                assertTrue(metrics.contains("mailstack_queue_messages 0"), metrics);
                assertTrue(metrics.contains("mailstack_queue_held_messages 0"), metrics);
                assertTrue(metrics.contains("mailstack_smtp_refused_total{reason=\"spf\"} 0\n")
                        && metrics.contains("mailstack_messages_quarantined_total 0\n"), metrics);
                assertTrue(metrics.contains("mailstack_jvm_heap_used_bytes "), metrics);
            }
        }
    }

    @Test
    void anHttpClientThatNeverFinishesItsRequestIsCutOffAndOthersAreServed() throws Exception {
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of(ConfigKey.HTTP_PORT, "0"));
             Socket slow = new Socket(InetAddress.getLoopbackAddress(), mx.port("http"))) {
            slow.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: mail.example.org\r\n".getBytes(StandardCharsets.US_ASCII));
            slow.getOutputStream().flush(); // ...and never the blank line that ends the request
            long start = System.nanoTime();
            assertEquals(200, get(mx.port("http"), "/metrics").statusCode(), "served while the slow client waits");
            slow.setSoTimeout(60_000);
            String said = new String(slow.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(said.startsWith("HTTP/1.1 408 ") && said.contains("\r\nConnection: close\r\n"), said);
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "cut off after about 10 s");
        }
    }

    @Test
    void messageFilesNoMailboxUsesAreRemovedAtTheNextStart() throws Exception {
        Path data = dir.resolve("data");
        try (RunningServer mx = RunningServer.start(data, "example.org", Map.of())) {
            mx.addUser("alice", "secret");
            try (LineClient c = new LineClient(mx.port("smtp"))) {
                c.expect("220 .*");
                c.send("EHLO x");
                c.expectEventually("250 HELP");
                sendOne(c, "alice@example.org", "soon deleted");
                sendOne(c, "alice@example.org", "soon deleted, and large", "x".repeat(100).concat("\r\n").repeat(dev.mailstack.store.MessageSpool.IN_MEMORY_MAX / 100));
            }
            mx.awaitMessages("alice@example.org", MailboxName.INBOX, 2);
            // the queue records the delivery just after the mailbox commit; it sends no event
            Await.until("the queue to be empty", Duration.ofSeconds(20), () -> mx.server.store().queue().list().isEmpty());
            mx.server.store().accounts().removeUser("alice@example.org");
        }
        assertEquals(1, contentFiles(data), "the deleted account's large message is still on disk");
        assertEquals(1, keptInDatabase(data), "and its small one in the database");
        try (RunningServer mx = RunningServer.start(data, "example.org", Map.of())) {
            assertEquals(0, contentFiles(data));
            assertEquals(0, keptInDatabase(data));
        }
    }

    /** Small messages' octets, kept in the database (the store's content_octets table). */
    private static long keptInDatabase(Path data) throws java.sql.SQLException {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(dev.mailstack.store.Database.defaultUrl(data), "mailstack", "");
             java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM content_octets")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** One message through an SMTP session that has said EHLO. */
    private static void sendOne(LineClient c, String rcpt, String subject) throws IOException {
        sendOne(c, rcpt, subject, "x\r\n");
    }

    private static void sendOne(LineClient c, String rcpt, String subject, String body) throws IOException {
        c.send("MAIL FROM:<a@remote.test>").expect("250 .*");
        c.send("RCPT TO:<" + rcpt + ">").expect("250 .*");
        c.send("DATA").expect("354 .*");
        c.send("Subject: " + subject + "\r\n\r\n" + body + ".").expect("250 .*");
    }

    /** Message files: named by their SHA-256 under contents/, the spool folder aside. */
    private static long contentFiles(Path data) throws IOException {
        try (var files = Files.walk(data.resolve("contents"))) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getParent().getFileName().toString().equals("spool"))
                    .count();
        }
    }

    @Test
    void theWarmUpAtStartRunsEveryProtocolAndLeavesNothingBehind() throws Exception {
        warmUpLeavesNothingBehind(Map.of(ConfigKey.HTTP_PORT, "0"));
    }

    @Test
    void theWarmUpIgnoresLimitsMeantForRealClients() throws Exception {
        // Paced at one command a second, the warm-up's hundred-odd commands would hold the start for
        // minutes; refused logins would leave it nothing to warm.
        warmUpLeavesNothingBehind(Map.of(ConfigKey.HTTP_PORT, "0", ConfigKey.PLAINTEXT_AUTH, "never",
                ConfigKey.MAX_COMMANDS_PER_SECOND, "1"));
    }

    private void warmUpLeavesNothingBehind(Map<ConfigKey, String> config) throws Exception {
        Path data = dir.resolve("data");
        try (LogCapture log = LogCapture.withLevels("dev.mailstack.server.WarmUp");
             RunningServer mx = RunningServer.start(data, "example.org", config)) {
            List<String> logged = log.lines();
            assertEquals(1, logged.size(), logged.toString());
            assertTrue(logged.get(0).startsWith("INFO warm-up: done millis="), logged.toString());
            long millis = Long.parseLong(logged.get(0).substring("INFO warm-up: done millis=".length()));
            assertTrue(millis < 30_000, "the warm-up took " + millis + " ms");
            assertTrue(Files.notExists(data.resolve("warm-up")), "the scratch store is removed");
            assertEquals(List.of("example.org"), mx.server.store().accounts().domains());
            assertEquals(List.of(), mx.server.store().queue().list());
            String metrics = get(mx.port("http"), "/metrics").body();
            assertTrue(metrics.contains("mailstack_messages_received_total 0"), metrics);
            assertTrue(metrics.contains("mailstack_auth_total{endpoint=\"imap\",result=\"ok\"} 0"), metrics);
            assertTrue(metrics.lines().filter(l -> l.startsWith("mailstack_auth_total{")).allMatch(l -> l.endsWith(" 0")),
                    "the warm-up's logins are not counted: " + metrics);
        }
    }

    /**
     * A SIGTERM while the server starts (a schema upgrade, the warm-up) is kept and answered once it
     * is up: a clean stop and exit 0, not the JVM ending under a migration with 143.
     */
    @Test
    void aSigtermDuringTheStartStopsCleanlyOnceTheServerIsUp() throws Exception {
        Path data = dataWithAlice();
        Path log = dir.resolve("server.log");
        Process server = ServerProcess.builder(data, RelayTest.freePort()).redirectOutput(log.toFile()).start();
        try {
            // the data folder is taken first thing; opening the store and the warm-up (a second or
            // more) come after it, the listeners and "ready" last
            Await.until("the start to take the data folder", Duration.ofSeconds(60),
                    () -> Files.exists(data.resolve("control/owner.lock")));
            new ProcessBuilder("kill", "-TERM", Long.toString(server.pid())).start().waitFor();
            assertTrue(server.waitFor(60, TimeUnit.SECONDS));
            String said = Files.readString(log);
            assertEquals(0, server.exitValue(), said);
            assertTrue(said.contains("stop: asked during the start, stopping now that it is up")
                    && said.contains("mailstack stopped cleanly"), said);
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void sigtermLetsAMessageInFlightFinishThenExitsZeroAndSighupReloads() throws Exception {
        Path data = dataWithAlice();
        int port = RelayTest.freePort();
        Path log = dir.resolve("server.log");
        Process server = ServerProcess.builder(data, port).redirectOutput(log.toFile()).start();
        try {
            awaitListening(port);
            new ProcessBuilder("kill", "-HUP", Long.toString(server.pid())).start().waitFor();
            Await.until("the reload to be logged", Duration.ofSeconds(10), () -> {
                try {
                    return Files.readString(log).contains("reload:");
                } catch (IOException e) {
                    return false;
                }
            });
            try (LineClient idle = new LineClient(port); LineClient sending = new LineClient(port)) {
                idle.expect("220 .*");
                sending.expect("220 .*");
                sending.send("EHLO client.example").expectEventually("250 .*");
                sending.send("MAIL FROM:<bob@remote.example>").expect("250 .*");
                sending.send("RCPT TO:<alice@example.org>").expect("250 .*");
                sending.send("DATA").expect("354 .*");
                sending.sendRaw("Subject: in flight at SIGTERM\r\n\r\nfirst half\r\n");
                server.destroy(); // SIGTERM
                idle.expect("421 4.3.2 .*");
                // The stop waits for the transaction (shutdown_grace); the database must still be open for it.
                sending.sendRaw("second half\r\n.\r\n");
                sending.expect("250 .*");
                sending.expect("421 4.3.2 .*");
                assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            }
            assertEquals(0, server.exitValue(), "a completed graceful stop exits 0");
            assertTrue(Files.readString(log).contains("mailstack stopped cleanly"), Files.readString(log));
            assertTrue(!Files.readString(log).contains("already closed"), Files.readString(log));
            try (MailboxStore store = MailboxStore.open(data, null)) {
                var alice = store.accounts().authenticate("alice@example.org", "pw").orElseThrow();
                assertEquals(1, store.open(alice.id()).status(MailboxName.INBOX).messages(), "the message accepted during the stop");
            }
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void replacedCertificateFilesAreServedWithoutASighupAndABrokenPairIsLoggedAndSkipped() throws Exception {
        Path[] files = TestTls.pemFiles(Files.createDirectories(dir.resolve("tls")));
        try (LogCapture log = LogCapture.of(Server.class.getName());
             RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of(ConfigKey.IMAPS_PORT, "0",
                ConfigKey.TLS_CERTIFICATE, files[0].toString(), ConfigKey.TLS_KEY, files[1].toString(),
                ConfigKey.TLS_RELOAD_CHECK, "1"))) {
            List<String> logged = log.lines();
            int imaps = mx.port("imaps");
            assertEquals("CN=localhost", TestTls.presentedSubject(imaps, null));

            replace(files[0], "other-fullchain.pem"); // the renewed chain before its key
            String failed = "reload: failed, the previous certificate stays in use trigger=files-changed error=\""
                    + files[1] + " does not match the certificate in " + files[0] + "\"";
            Await.until("the failed reload to be logged", Duration.ofSeconds(20), () -> logged.contains(failed));
            assertEquals("CN=localhost", TestTls.presentedSubject(imaps, null));

            replace(files[1], "other-privkey.pem");
            Await.until("the new certificate to be presented", Duration.ofSeconds(20), () -> {
                try {
                    return TestTls.presentedSubject(imaps, null).equals("CN=mail.other.example");
                } catch (IOException e) {
                    return false;
                }
            });
            assertTrue(logged.contains("reload: certificate reloaded trigger=files-changed"), logged.toString());
        }
    }

    @Test
    void aCertificatesFolderAloneTurnsTlsOnAndTheLogNamesTheCertificateForClientsWithoutSni() throws Exception {
        Path live = dir.resolve("live");
        TestTls.hostFolder(live, "mail.example.org", ""); // CN=localhost, first by name
        TestTls.hostFolder(live, "mail.other.example", "other-");
        try (LogCapture log = LogCapture.of(Server.class.getName());
             RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of(ConfigKey.IMAPS_PORT, "0",
                     ConfigKey.TLS_CERTIFICATES_DIR, live.toString()))) {
            int imaps = mx.port("imaps");
            assertEquals("CN=localhost", TestTls.presentedSubject(imaps, null));
            assertEquals("CN=mail.other.example", TestTls.presentedSubject(imaps, "mail.other.example"));
            try (LineClient c = new LineClient(mx.port("imap"))) {
                c.expect("\\* OK \\[CAPABILITY .*STARTTLS.*\\] .*");
            }
            assertTrue(log.lines().contains("tls: no tls.certificate set, clients without a matching SNI name get the"
                    + " certificate of mail.example.org (the first folder by name) chain="
                    + live.resolve("mail.example.org/fullchain.pem")), log.lines().toString());
        }
    }

    /** Puts a test resource in place with a rename, as an installer or certbot would. */
    private static void replace(Path file, String resource) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (InputStream in = TestTls.class.getResourceAsStream("/tls/" + resource)) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The README's service steps must leave a user to log in as, in the folder install.sh made for the service. */
    @Test
    void theReadmesServiceStepsAddADomainThenAUserToInstallShsDataFolder() throws Exception {
        String install = Files.readString(Path.of("..", "packaging", "install.sh"));
        assertTrue(install.contains("cp -a \"$src/mailstack\"") && install.contains("\"$root/opt/mailstack.new\" \"$root/opt/mailstack\"")
                && install.contains("data_dir = /var/lib/mailstack"), "install.sh's layout changed: update README and this test");
        String readme = Files.readString(Path.of("..", "README.md"));
        String section = readme.substring(readme.indexOf("## Run as a systemd service"));
        section = section.substring(0, section.indexOf("\n## "));
        List<String> steps = section.lines().filter(l -> l.startsWith("    sudo ")).map(String::strip).toList();
        String cli = "sudo -u mailstack /opt/mailstack/mailstack ";
        int domain = -1;
        int user = -1;
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).startsWith(cli + "domain add ") && steps.get(i).contains(" --data /var/lib/mailstack")) {
                domain = i;
            } else if (steps.get(i).startsWith(cli + "user add ") && steps.get(i).contains(" --data /var/lib/mailstack")) {
                user = i;
            }
        }
        assertTrue(domain >= 0 && user > domain, steps.toString());
    }

    @Test
    void theSystemdUnitIsHardenedAndLetsTheJvmRun() throws Exception {
        String text = Files.readString(Path.of("..", "packaging", "systemd", "mailstack.service"));
        assertTrue(text.contains("Type=notify") && text.contains("AmbientCapabilities=CAP_NET_BIND_SERVICE")
                && text.contains("ProtectSystem=strict") && text.contains("Restart=on-failure"));
        List<String> lines = text.lines().toList();
        for (String hardening : List.of("ProtectKernelLogs=true", "ProtectClock=true", "ProtectHostname=true",
                "RestrictSUIDSGID=true", "UMask=0027", "SystemCallArchitectures=native",
                "SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM")) {
            assertTrue(lines.contains(hardening), "missing " + hardening);
        }
        // The JIT writes code into executable memory: with this the JVM cannot run
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("MemoryDenyWriteExecute=")), text);
    }

    @Test
    void theSystemdUnitVerifies() throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not on this machine");
        String text = Files.readString(Path.of("..", "packaging", "systemd", "mailstack.service"));
        // verify a copy whose ExecStart exists here: the real one points into /opt/mailstack
        Path copy = dir.resolve("mailstack.service");
        Files.writeString(copy, text.replace("/opt/mailstack/mailstack serve --config /etc/mailstack/mailstack.conf", "/bin/true"));
        Process p = new ProcessBuilder(analyze.toString(), "verify", copy.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(!out.contains("Unknown key") && !out.contains("Invalid"), out);
    }

    @Test
    void readinessReachesSystemdAfterTheListenersAndSighupAppliesLiveKeysAndCertificatesButNoBrokenFile() throws Exception {
        Path data = dataWithAlice();
        int port = RelayTest.freePort();
        int imaps = RelayTest.freePort();
        Path[] pem = TestTls.pemFiles(Files.createDirectories(dir.resolve("tls")));
        String tls = "imaps.port = " + imaps + "\ntls.certificate = " + pem[0] + "\ntls.key = " + pem[1]
                + "\ntls.reload_check_seconds = 0\n";
        Path conf = dir.resolve("mailstack.conf");
        Files.writeString(conf, "warm_up = false\n" + tls);
        // systemd's helper, faked: it notes what it was told and whether SMTP took connections by then
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path notified = dir.resolve("notified.txt");
        Path notify = bin.resolve("systemd-notify");
        Files.writeString(notify, "#!/bin/bash\nif exec 3<>/dev/tcp/127.0.0.1/" + port + "; then s=open; else s=closed; fi\n"
                + "echo \"$* smtp=$s\" >> " + notified + "\n");
        notify.toFile().setExecutable(true);
        Path log = dir.resolve("server.log");
        ProcessBuilder pb = ServerProcess.builder(data, port, List.of("--config", conf.toString()));
        pb.environment().put("NOTIFY_SOCKET", dir.resolve("notify.sock").toString());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process server = pb.redirectOutput(log.toFile()).start();
        try {
            awaitListening(port);
            Await.until("systemd to hear of readiness", Duration.ofSeconds(10), () -> Files.exists(notified));
            assertTrue(Files.readString(notified).startsWith("--ready --pid=" + server.pid() + " smtp=open"),
                    "READY=1 only once the listeners are open: " + Files.readString(notified));
            assertEquals("CN=localhost", TestTls.presentedSubject(imaps, null));

            replace(pem[0], "other-fullchain.pem"); // certbot renewed: SIGHUP (no file watch here) serves it
            replace(pem[1], "other-privkey.pem");
            Files.writeString(conf, "warm_up = false\nsmtp.max_recipients = 1\nnet.max_connections = 999\n" + tls);
            new ProcessBuilder("kill", "-HUP", Long.toString(server.pid())).start().waitFor();
            awaitLogged(log, "reload: configuration applied changed=smtp.max_recipients");
            awaitLogged(log, "reload: certificate reloaded trigger=sighup");
            assertEquals("CN=mail.other.example", TestTls.presentedSubject(imaps, null));
            assertTrue(Files.readString(log).contains("take effect at the next restart keys=net.max_connections"),
                    Files.readString(log));
            secondRecipientIsTooMany(port);

            Files.writeString(conf, "smtp.max_recipients = lots\n");
            new ProcessBuilder("kill", "-HUP", Long.toString(server.pid())).start().waitFor();
            awaitLogged(log, "reload: configuration not applied");
            assertTrue(Files.readString(log).contains("smtp.max_recipients = lots: not a number"), Files.readString(log));
            secondRecipientIsTooMany(port);
        } finally {
            server.destroyForcibly();
        }
    }

    /**
     * packaging/fail2ban's filter matches the line a real failed login writes, and names the client:
     * checked with Java's regex engine always, and with fail2ban-regex itself where it is installed.
     */
    @Test
    void theFail2banFilterFindsAFailedLoginInTheServersLog() throws Exception {
        Path data = dataWithAlice();
        int port = RelayTest.freePort();
        Path log = dir.resolve("server.log");
        Process server = ServerProcess.builder(data, port, List.of()).redirectOutput(log.toFile()).start();
        try {
            awaitListening(port);
            try (LineClient c = new LineClient(port)) {
                c.expect("220 .*");
                c.send("EHLO guesser").expectEventually("250 HELP");
                String wrong = java.util.Base64.getEncoder().encodeToString("\0alice@example.org\0guess".getBytes(StandardCharsets.UTF_8));
                c.send("AUTH PLAIN " + wrong).expect("535 5\\.7\\.8 .*");
            }
            awaitLogged(log, "auth failed");
        } finally {
            server.destroyForcibly();
        }
        Path filter = Path.of("..", "packaging", "fail2ban", "filter.d", "mailstack.conf");
        String failregex = Files.readString(filter).lines().filter(l -> l.startsWith("failregex = ")).findFirst().orElseThrow()
                .substring("failregex = ".length());
        java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(failregex.replace("<HOST>", "(?<host>[0-9A-Fa-f.:]+)"));
        String line = Files.readString(log).lines().filter(l -> l.contains("auth failed")).findFirst().orElseThrow();
        // fail2ban takes the leading date off a log file's line before it matches
        java.util.regex.Matcher m = pattern.matcher(line.substring(line.indexOf(' ')));
        assertTrue(m.find(), line);
        assertEquals("127.0.0.1", m.group("host"));
        // a user name cannot move the match: the log writes its spaces as '?', and the regex is anchored
        m = pattern.matcher(" INFO dev.mailstack.net.AuthThrottle: auth failed conn=a client=203.0.113.9 protocol=pop3"
                + " user=\"x?INFO?dev.mailstack.net.AuthThrottle:?auth?failed?conn=b?client=10.9.9.9?protocol=\" delay_ms=1");
        assertTrue(m.find());
        assertEquals("203.0.113.9", m.group("host"));
        Path regexTool = Path.of("/usr/bin/fail2ban-regex");
        // the checks above have run; the rest is reported as skipped where fail2ban is not installed
        assumeTrue(Files.isExecutable(regexTool), "fail2ban-regex is not on this machine");
        Process p = new ProcessBuilder(regexTool.toString(), log.toString(), filter.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertTrue(out.contains("1 matched"), out);
    }

    /** A data folder with domain example.org and alice@example.org (password "pw"). */
    private Path dataWithAlice() {
        Path data = dir.resolve("data");
        try (MailboxStore store = MailboxStore.open(data, null)) {
            store.accounts().addDomain("example.org");
            store.accounts().addUser("alice@example.org", PasswordScheme.hash("pw"));
        }
        return data;
    }

    private static void awaitListening(int port) throws InterruptedException {
        Await.until("listening", Duration.ofSeconds(60), () -> {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static void awaitLogged(Path log, String text) throws InterruptedException {
        Await.until("'" + text + "' in the log", Duration.ofSeconds(10), () -> {
            try {
                return Files.readString(log).contains(text);
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static void secondRecipientIsTooMany(int port) throws IOException {
        try (LineClient c = new LineClient(port)) {
            c.expect("220 .*");
            c.send("EHLO client.example").expectEventually("250 .*");
            c.send("MAIL FROM:<bob@remote.example>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("452 4.5.3 .*");
        }
    }

    /**
     * install.sh staged under DESTDIR, twice, from a copy of the tree whose ./mailstack is a stub
     * (the real launcher would build): the second run keeps an edited configuration and replaces
     * the program; no private key is made into the staged tree.
     */
    @Test
    void installShStagesTheServiceAndARunAgainKeepsTheConfiguration() throws Exception {
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("packaging/systemd"));
        Files.createDirectories(src.resolve("server/target/classes/dev"));
        Files.createDirectories(src.resolve("server/target/lib"));
        Files.copy(Path.of("..", "packaging", "install.sh"), src.resolve("packaging/install.sh"));
        Files.copy(Path.of("..", "packaging", "systemd", "mailstack.service"), src.resolve("packaging/systemd/mailstack.service"));
        Files.copy(Path.of("..", "packaging", "whitelist_clients"), src.resolve("packaging/whitelist_clients"));
        Files.createDirectories(src.resolve("docs"));
        Files.copy(Path.of("..", "docs", "configuration.md"), src.resolve("docs/configuration.md"));
        Files.writeString(src.resolve("README.md"), "readme\n");
        Files.writeString(src.resolve("server/target/lib/app.jar"), "version 1");
        Path stub = src.resolve("mailstack");
        Files.writeString(stub, """
                #!/bin/sh
                # a stand-in for the launcher: --version, --which-java, and cert self-signed --host H --out DIR
                [ "$1" = --version ] && exit 0
                [ "$1" = --which-java ] && { echo "$STUB_JAVA"; exit 0; }
                echo "cert for $4" > "$6/fullchain.pem"; echo key > "$6/privkey.pem"
                """);
        stub.toFile().setExecutable(true);
        Path root = dir.resolve("staged");
        // a fixed path: the test JVM's own may be under a home folder (SDKMAN), which install.sh refuses
        Path jdk = Path.of("/usr/lib/jvm/temurin-25-stand-in/bin/java");
        // usage errors, before anything is made
        for (List<String> wrong : List.of(List.of("--bogus"), List.of("--hostname"), List.of("--hostname="),
                List.of("--hostname=mail.example.test", "extra"))) {
            Staging s = stage(src, root, jdk.toString(), wrong);
            assertEquals(2, s.exit(), wrong + ": " + s.output());
            assertTrue(s.output().contains("usage: sudo packaging/install.sh [--hostname NAME]"), s.output());
            assertTrue(Files.notExists(root), wrong + " staged nothing");
        }
        // a JDK in a home folder: the service (ProtectHome=true) could not run it
        Staging home = stage(src, root, "/home/admin/.sdkman/candidates/java/21.0.5-tem/bin/java", List.of());
        assertEquals(1, home.exit(), home.output());
        assertTrue(home.output().contains("install.sh: the JDK found, /home/admin/.sdkman/candidates/java/21.0.5-tem, is"
                + " under a home folder, which the service cannot read"), home.output());
        assertTrue(Files.notExists(root), "refused before anything was made");
        for (int run = 1; run <= 2; run++) {
            // both forms of --hostname
            Staging s = stage(src, root, jdk.toString(), run == 1 ? List.of("--hostname=mail.example.test")
                    : List.of("--hostname", "mail.example.test"));
            String out = s.output();
            assertEquals(0, s.exit(), "run " + run + ": " + out);
            assertTrue(out.contains("staged under " + root), out);
            if (run == 1) {
                Path conf = root.resolve("etc/mailstack/mailstack.conf");
                assertTrue(Files.readString(conf).contains("hostname = mail.example.test"), Files.readString(conf));
                Files.writeString(conf, "hostname = edited.example.test\n", java.nio.file.StandardOpenOption.APPEND);
                Files.writeString(root.resolve("etc/mailstack/whitelist_clients"), "mx.partner.example\n",
                        java.nio.file.StandardOpenOption.APPEND);
                Files.writeString(src.resolve("server/target/lib/app.jar"), "version 2");
            }
        }
        assertTrue(Files.readString(root.resolve("etc/mailstack/mailstack.conf")).contains("edited.example.test"),
                "a second run never overwrites the configuration");
        String clients = Files.readString(root.resolve("etc/mailstack/whitelist_clients"));
        assertTrue(clients.startsWith(Files.readString(Path.of("..", "packaging", "whitelist_clients")))
                && clients.endsWith("mx.partner.example\n"), "the starter whitelist is installed once, then left as edited");
        assertTrue(Files.notExists(root.resolve("etc/mailstack/privkey.pem")),
                "no private key in a staged tree: every host that installs it would share it");
        assertEquals("version 2", Files.readString(root.resolve("opt/mailstack/server/target/lib/app.jar")));
        assertTrue(Files.exists(root.resolve("opt/mailstack/server/target/lib/.built")));
        assertEquals(Files.readString(Path.of("..", "packaging", "systemd", "mailstack.service")),
                Files.readString(root.resolve("etc/systemd/system/mailstack.service")));
        assertTrue(Files.isDirectory(root.resolve("var/lib/mailstack")) && !Files.exists(root.resolve("opt/mailstack.new")));
        assertEquals(Files.readString(Path.of("..", "docs", "configuration.md")),
                Files.readString(root.resolve("opt/mailstack/docs/configuration.md")), "the file the configuration points at");
        assertTrue(Files.readString(root.resolve("etc/mailstack/mailstack.conf")).contains("/opt/mailstack/docs/configuration.md"));
        assertTrue(Files.notExists(root.resolve("var/log/mailstack")), "logs go to the journal");
        assertTrue(Files.readString(root.resolve("etc/mailstack/java.env")).contains("\nJAVA_HOME="
                + jdk.getParent().getParent() + "\n"), "the JDK recorded for the service");
        String unit = Files.readString(root.resolve("etc/systemd/system/mailstack.service"));
        assertTrue(unit.contains("EnvironmentFile=-/etc/mailstack/java.env") && !unit.contains("/var/log/mailstack"), unit);
    }

    private record Staging(int exit, String output) {
    }

    /** packaging/install.sh under DESTDIR={@code root}, its stand-in launcher reporting {@code jdk} as the java found. */
    private static Staging stage(Path src, Path root, String jdk, List<String> args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("sh", src.resolve("packaging/install.sh").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("DESTDIR", root.toString());
        pb.environment().put("STUB_JAVA", jdk);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Staging(p.exitValue(), out);
    }

    @Test
    void configCheckPrintsEveryValueWithItsOriginAndRefusesWhatCouldNotRun() throws Exception {
        Path conf = dir.resolve("mailstack.conf");
        Files.writeString(conf, "# a comment\nsmtp.max_recipients = 7\n");
        Cli ok = Cli.run(dir, "config", "check", "--config", conf.toString());
        assertEquals(0, ok.exit(), ok.output());
        assertTrue(ok.output().lines().anyMatch(l -> l.matches("smtp\\.max_recipients += 7 +# " + java.util.regex.Pattern.quote(conf + ":2"))),
                ok.output());
        assertTrue(ok.output().lines().anyMatch(l -> l.matches("queue\\.destination_concurrency += 20 +# default")), ok.output());
        assertEquals(ConfigKey.values().length, ok.output().lines().count(), "one line per key");

        Files.writeString(conf, "queue.relay_host = smart.example:587\nqueue.relay_host_user = me\n");
        Cli missing = Cli.run(dir, "config", "check", "--config", conf.toString());
        assertEquals(1, missing.exit(), missing.output());
        assertTrue(missing.output().contains("queue.relay_host_user needs queue.relay_host_password_file"), missing.output());
        Files.writeString(conf, "smtp.port = 99999\n");
        Cli bad = Cli.run(dir, "config", "check", "--config", conf.toString());
        assertEquals(1, bad.exit(), bad.output());
        assertTrue(bad.output().contains(conf + ":1: smtp.port = 99999: a port is 0 to 65535, auto or off"), bad.output());
    }
}

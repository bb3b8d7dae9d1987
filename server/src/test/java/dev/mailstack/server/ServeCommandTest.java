package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mailstack serve's start: what it says when a port is taken, and what it says once it listens. */
class ServeCommandTest {
    @TempDir
    Path dir;

    /** Runs serve in this JVM; it returns only when it could not start (else the timeout fails the test). */
    private String serveFails(String config, String... flags) throws Exception {
        Path conf = Files.writeString(dir.resolve("mailstack.conf"), "warm_up = false\n" + config);
        List<String> args = new ArrayList<>(List.of("serve", "--config", conf.toString(), "--data",
                dir.resolve("data").toString(), "--bind", "127.0.0.1", "--submission-port", "off", "--pop3-port", "off",
                "--imap-port", "off", "--managesieve-port", "off"));
        args.addAll(List.of(flags));
        PrintStream stderr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Main.run(args.toArray(String[]::new)));
            assertEquals(1, exit, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(stderr);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aTakenPortNamesTheEndpointAddressAndTheWaysToPickAnother() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            String said = serveFails("http.port = off\n", "--smtp-port", Integer.toString(port));
            assertTrue(said.contains("mailstack: cannot start: smtp cannot listen on 127.0.0.1:" + port + ": port " + port
                    + " is already in use"), said);
            assertTrue(said.contains("or pick another port with --smtp-port N, smtp.port = N in the configuration file or the"
                    + " environment variable MAILSTACK_SMTP_PORT"), said);

            // HTTP has no flag: only its key and variable are offered
            said = serveFails("http.port = " + port + "\n", "--smtp-port", "off");
            assertTrue(said.contains("http cannot listen on 127.0.0.1:" + port + ": port " + port + " is already in use"), said);
            assertTrue(said.contains("or pick another port with http.port = N in the configuration file or the environment"
                    + " variable MAILSTACK_HTTP_PORT"), said);
        }
        assertTrue(Files.exists(dir.resolve("data")), "the store was opened and closed again");
    }

    @Test
    void helpSaysEveryPortHasAKeyAndAVariable() {
        String help = String.join(" ", new picocli.CommandLine(new Main()).getSubcommands().get("serve").getCommandSpec()
                .usageMessage().description());
        for (String key : List.of("NAME.port", "MAILSTACK_NAME_PORT", "submissions (465)", "imaps (993)", "pop3s (995)",
                "http (80, or 8080 unprivileged)", "https (443, or 8443")) {
            assertTrue(help.contains(key), key + " in " + help);
        }
    }

    /** Without a certificate the warning names the implicit-TLS ports this start would have used; ready names every port. */
    @Test
    void theTlsWarningAndTheReadyLineNameThePortsInUse() throws Exception {
        List<String> logged = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (logged) {
                    logged.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(Server.class.getName());
        logger.addHandler(capture);
        Config c = Config.load(Optional.empty(), Map.of());
        c.set(ConfigKey.DATA_DIR, dir.resolve("data").toString(), "test");
        c.set(ConfigKey.WARM_UP, "false", "test");
        for (ConfigKey k : List.of(ConfigKey.SMTP_PORT, ConfigKey.HTTP_PORT)) {
            c.set(k, "0", "test");
        }
        for (ConfigKey k : List.of(ConfigKey.SUBMISSION_PORT, ConfigKey.POP3_PORT, ConfigKey.IMAP_PORT,
                ConfigKey.MANAGESIEVE_PORT, ConfigKey.POP3S_PORT)) {
            c.set(k, "off", "test");
        }
        c.set(ConfigKey.SUBMISSIONS_PORT, "2465", "test");
        c.set(ConfigKey.IMAPS_PORT, "1993", "test");
        c.set(ConfigKey.HOSTNAME, "localhost", "test");
        try (Server server = Server.start(c)) {
            String all;
            synchronized (logged) {
                all = String.join("\n", logged);
            }
            assertTrue(all.contains("STARTTLS is off and the implicit-TLS ports stay closed (submissions 2465, imaps 1993)"), all);
            assertFalse(all.contains("465, 993, 995"), all);
            assertTrue(all.contains("the server calls itself localhost, not a full domain name") && all.contains(
                    "set hostname in the configuration (e.g. hostname = mail.example.org, or --hostname) source=\"test\""), all);
            assertTrue(all.contains("listening=smtp:" + server.port("smtp") + ",http:" + server.port("http") + " "), all);
        } finally {
            logger.removeHandler(capture);
        }
    }
}

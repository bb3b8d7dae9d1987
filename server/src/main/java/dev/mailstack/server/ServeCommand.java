package dev.mailstack.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the server: every enabled front-end on one shared store, until SIGTERM or Ctrl-C.",
            "Every port also has a configuration key, NAME.port, and an environment variable,"
                    + " MAILSTACK_NAME_PORT, where NAME is smtp, submission, submissions (465), imap, imaps (993),"
                    + " pop3, pop3s (995), managesieve, lmtp, http (80, or 8080 unprivileged) or https (443, or 8443;"
                    + " off by default): the implicit-TLS ports and HTTP(S) have only those, no flag.",
            "Each is a number, auto (the standard port when allowed to bind it, else the unprivileged one) or"
                    + " off. Flags win over the environment, which wins over the file (docs/configuration.md)."})
final class ServeCommand implements Runnable {
    private static final System.Logger LOG = System.getLogger(ServeCommand.class.getName());

    @Mixin
    StoreOptions options;
    @Option(names = "--hostname", paramLabel = "NAME", description = "Name in greetings and Received: headers.")
    String hostname;
    @Option(names = "--bind", paramLabel = "ADDR", description = "Address to listen on (default 127.0.0.1).")
    String bind;
    @Option(names = "--smtp-port", paramLabel = "N", description = "SMTP port (default: 25, or 2525 without privilege).")
    String smtpPort;
    @Option(names = "--submission-port", paramLabel = "N", description = "Submission port (default: 587, or 2587).")
    String submissionPort;
    @Option(names = "--pop3-port", paramLabel = "N", description = "POP3 port (default: 110, or 1110).")
    String pop3Port;
    @Option(names = "--imap-port", paramLabel = "N", description = "IMAP port (default: 143, or 1143).")
    String imapPort;
    @Option(names = "--managesieve-port", paramLabel = "N", description = "ManageSieve port (default: 4190; off disables).")
    String manageSievePort;
    @Option(names = "--lmtp-port", paramLabel = "N", description = "LMTP port for an MTA in front, e.g. Postfix (default: off; auto: 24, or 2424).")
    String lmtpPort;
    @Option(names = "--lmtp-socket", paramLabel = "PATH", description = "LMTP on a Unix domain socket, for Postfix's lmtp:unix:PATH (default: none).")
    String lmtpSocket;

    /** The flag that sets each port key; the TLS ports and HTTP have only their key and variable. */
    private static final Map<ConfigKey, String> PORT_FLAGS = Map.of(ConfigKey.SMTP_PORT, "--smtp-port",
            ConfigKey.SUBMISSION_PORT, "--submission-port", ConfigKey.POP3_PORT, "--pop3-port",
            ConfigKey.IMAP_PORT, "--imap-port", ConfigKey.MANAGESIEVE_PORT, "--managesieve-port",
            ConfigKey.LMTP_PORT, "--lmtp-port");

    /** The configuration as the file, the environment and this command line make it; again on each SIGHUP. */
    private Config config() {
        Config config = options.config();
        set(config, ConfigKey.HOSTNAME, hostname, "--hostname");
        set(config, ConfigKey.BIND, bind, "--bind");
        set(config, ConfigKey.SMTP_PORT, smtpPort, PORT_FLAGS.get(ConfigKey.SMTP_PORT));
        set(config, ConfigKey.SUBMISSION_PORT, submissionPort, PORT_FLAGS.get(ConfigKey.SUBMISSION_PORT));
        set(config, ConfigKey.POP3_PORT, pop3Port, PORT_FLAGS.get(ConfigKey.POP3_PORT));
        set(config, ConfigKey.IMAP_PORT, imapPort, PORT_FLAGS.get(ConfigKey.IMAP_PORT));
        set(config, ConfigKey.MANAGESIEVE_PORT, manageSievePort, PORT_FLAGS.get(ConfigKey.MANAGESIEVE_PORT));
        set(config, ConfigKey.LMTP_PORT, lmtpPort, PORT_FLAGS.get(ConfigKey.LMTP_PORT));
        set(config, ConfigKey.LMTP_SOCKET, lmtpSocket, "--lmtp-socket");
        return config;
    }

    @Override
    public void run() {
        Config config = config();
        // The SIGHUP handler goes in before any port opens: an unhandled SIGHUP ends the JVM, and
        // a reload can be sent the moment systemd or a script sees the port.
        HangupRequests hangups = new HangupRequests();
        Signals.onHangup(hangups::requested);
        // SIGTERM's handler too: one during the start (a long schema upgrade, the warm-up) would
        // otherwise end the JVM under the migration, exit 143. It is kept, and the stop runs once
        // the server is up.
        java.util.concurrent.atomic.AtomicReference<Runnable> stopWhenUp = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stopAsked = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable onTerminate = () -> {
            stopAsked.set(true);
            Runnable up = stopWhenUp.get();
            if (up != null) {
                up.run();
            }
        };
        boolean handled = Signals.onTerminate(onTerminate);
        Server server;
        DataFolder folder = DataFolder.mayBeMade(config);
        try {
            server = Server.start(config, this::config);
        } catch (ListenFailure e) {
            throw new CommandFailure("cannot start: " + e.advice(PORT_FLAGS.get(e.key())));
        } catch (java.io.IOException e) {
            throw new CommandFailure("cannot start: " + e.getMessage());
        } finally {
            folder.reportIfMade();
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Duration grace = Duration.ofSeconds(config.integer(ConfigKey.SHUTDOWN_GRACE));
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable stop = () -> {
            if (!once.compareAndSet(false, true)) {
                return; // the signal and the check after the start both saw it: one stop
            }
            server.stop(grace);
            stopped.countDown();
            // java.util.logging resets itself in its own shutdown hook, so this last line goes direct.
            System.err.println("mailstack stopped cleanly");
            // A requested stop (SIGTERM, Ctrl-C) that completed is success: exit 0, not 143.
            Runtime.getRuntime().halt(0);
        };
        if (!handled) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop, "shutdown"));
        }
        stopWhenUp.set(stop);
        if (stopAsked.get()) {
            LOG.log(System.Logger.Level.INFO, "stop: asked during the start, stopping now that it is up");
            stop.run();
        }
        SystemdNotify.ready();
        hangups.started(server::reload); // last: a failing replayed reload must not keep the stop handler or READY away
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void set(Config config, ConfigKey key, String value, String origin) {
        if (value != null) {
            config.set(key, value, origin);
        }
    }

}

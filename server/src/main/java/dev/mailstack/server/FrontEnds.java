package dev.mailstack.server;

import dev.mailstack.imapd.ImapProtocol;
import dev.mailstack.imapd.ImapSettings;
import dev.mailstack.managesieve.ManageSieveProtocol;
import dev.mailstack.managesieve.ManageSieveSettings;
import dev.mailstack.mime.MailCharset;
import dev.mailstack.mta.delivery.LocalDelivery;
import dev.mailstack.mta.delivery.RelayLogin;
import dev.mailstack.mta.delivery.RemoteDelivery;
import dev.mailstack.mta.delivery.Route;
import dev.mailstack.mta.delivery.NextHopTrust;
import dev.mailstack.mta.delivery.QuotaWarnings;
import dev.mailstack.mta.delivery.Router;
import dev.mailstack.mta.delivery.SieveSettings;
import dev.mailstack.mta.delivery.SmtpTimeouts;
import dev.mailstack.mta.delivery.StsPolicies;
import dev.mailstack.mta.delivery.TlsPolicy;
import dev.mailstack.mta.dkim.DkimSigner;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.mta.inbound.InboundChecks;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.mta.queue.QueueIntake;
import dev.mailstack.mta.queue.QueueRunner;
import dev.mailstack.mta.queue.QueueSettings;
import dev.mailstack.mta.queue.SenderRewriting;
import dev.mailstack.net.PlaintextAuth;
import dev.mailstack.mta.smtp.DnsBlocklists;
import dev.mailstack.mta.smtp.ClientNames;
import dev.mailstack.mta.smtp.ClientWhitelist;
import dev.mailstack.mta.smtp.Greylisting;
import dev.mailstack.mta.smtp.RecipientWhitelist;
import dev.mailstack.mta.smtp.SendingRates;
import dev.mailstack.mta.smtp.SmtpProtocol;
import dev.mailstack.mta.milter.MilterSettings;
import dev.mailstack.mta.smtp.SmtpSettings;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Cidr;
import dev.mailstack.net.Protocol;
import dev.mailstack.net.TlsMode;
import dev.mailstack.pop3d.Pop3Protocol;
import dev.mailstack.pop3d.Pop3Settings;
import dev.mailstack.sieve.AdminScripts;
import dev.mailstack.sieve.EditHeaderRules;
import dev.mailstack.sieve.ScannerVerdict;
import dev.mailstack.sieve.SieveException;
import dev.mailstack.sieve.SieveScript;
import dev.mailstack.store.Greylist;
import dev.mailstack.store.MailboxStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/** Which protocol runs on which endpoint; the one place a new front-end is added. */
final class FrontEnds {
    record Planned(String name, ConfigKey portKey, int standardPort, int unprivilegedPort, TlsMode tls, Protocol protocol) {
    }

    private final List<Planned> planned = new ArrayList<>();
    private final List<AutoCloseable> services = new ArrayList<>();
    private final MailCounters counters = new MailCounters();
    private final String hostname;
    private final RemoteDelivery remote;
    private final QueueRunner runner;
    private final LocalDelivery local;
    private final SmtpProtocol mxSmtp;
    private final SendingRates sendingRates;
    private final SmtpProtocol lmtp;
    private final SmtpProtocol submissionSmtp;
    /** Made once: its key must not change under forwards already sent (queue.srs needs a restart). */
    private final SenderRewriting srs;

    FrontEnds(Config config, MailboxStore store, String hostname, AuthThrottle throttle) {
        this.hostname = hostname;
        try {
            srs = config.flag(ConfigKey.SRS) ? SenderRewriting.load(config.dataDir().resolve("srs")) : SenderRewriting.OFF;
        } catch (IOException e) {
            throw new ConfigException("queue.srs: cannot read or make the key in " + config.dataDir().resolve("srs") + ": "
                    + e.getMessage());
        }
        PlaintextAuth plaintext = plaintext(config);
        // MTA-STS policies on disk too: a restart must not forget an enforce policy (RFC 8461 §10.2)
        remote = new RemoteDelivery(store, router(config), hostname, SmtpTimeouts.rfc5321(),
                config.integer(ConfigKey.DESTINATION_CONCURRENCY),
                new StsPolicies(Clock.systemUTC(), store.domainPolicies()));
        local = new LocalDelivery(store, hostname, config.mimeLimits());
        local.use(sieveSettings(config));
        local.use(QuotaWarnings.parse(config.string(ConfigKey.QUOTA_WARNING_PERCENT)));
        runner = new QueueRunner(store, queueSettings(config, hostname), local, remote, counters);
        List<java.nio.charset.Charset> fallback = new ArrayList<>();
        for (String name : config.string(ConfigKey.FALLBACK_CHARSETS).split("[,\\s]+")) {
            if (!name.isBlank()) {
                fallback.add(MailCharset.lookup(name).orElseThrow(() ->
                        new ConfigException("mime.fallback_charsets: unknown charset " + name)));
            }
        }
        QueueIntake intake = new QueueIntake(store, config.mimeLimits(), fallback, runner::wake, counters,
                new DkimSigner(DkimCommand.keys(config.dataDir()), config.string(ConfigKey.DKIM_SELECTOR)));
        runner.useIntake(intake);
        runner.useSenderRewriting(srs);
        runner.start();
        services.add(runner);

        SmtpSettings mx = smtpSettings(config, hostname).withSenderRewriting(srs);
        sendingRates = new SendingRates(config.integer(ConfigKey.MAX_RECIPIENTS_PER_HOUR), Clock.systemUTC());
        mxSmtp = new SmtpProtocol(mx, store, intake, throttle, sendingRates);
        planned.add(new Planned("smtp", ConfigKey.SMTP_PORT, 25, 2525, TlsMode.STARTTLS, mxSmtp));
        submissionSmtp = new SmtpProtocol(mx.asSubmission(), store, intake, throttle, sendingRates);
        planned.add(new Planned("submission", ConfigKey.SUBMISSION_PORT, 587, 2587, TlsMode.STARTTLS, submissionSmtp));
        planned.add(new Planned("submissions", ConfigKey.SUBMISSIONS_PORT, 465, 2465, TlsMode.IMPLICIT, submissionSmtp));
        lmtp = SmtpProtocol.lmtp(mx, store, intake, throttle);
        planned.add(new Planned("lmtp", ConfigKey.LMTP_PORT, 24, 2424, TlsMode.NONE, lmtp));

        Pop3Protocol pop3 = new Pop3Protocol(store, new Pop3Settings(hostname, plaintext), throttle);
        planned.add(new Planned("pop3", ConfigKey.POP3_PORT, 110, 1110, TlsMode.STARTTLS, pop3));
        planned.add(new Planned("pop3s", ConfigKey.POP3S_PORT, 995, 1995, TlsMode.IMPLICIT, pop3));

        ImapSettings imapDefaults = ImapSettings.defaults(hostname);
        ImapProtocol imap = new ImapProtocol(new ImapSettings(hostname, plaintext, imapDefaults.appendLimit(),
                imapDefaults.preAuthLiteralLimit(), imapDefaults.authenticatedIdle(), config.mimeLimits(),
                imapDefaults.recent()), store, throttle);
        planned.add(new Planned("imap", ConfigKey.IMAP_PORT, 143, 1143, TlsMode.STARTTLS, imap));
        planned.add(new Planned("imaps", ConfigKey.IMAPS_PORT, 993, 1993, TlsMode.IMPLICIT, imap));

        // RFC 5804 §1.8: 4190, above 1024, so auto is 4190 with or without privilege
        ManageSieveProtocol sieve = new ManageSieveProtocol(store,
                new ManageSieveSettings(hostname, plaintext, config.sieveLimits()), throttle);
        planned.add(new Planned("managesieve", ConfigKey.MANAGESIEVE_PORT, 4190, 4190, TlsMode.STARTTLS, sieve));
    }

    private static PlaintextAuth plaintext(Config config) {
        return PlaintextAuth.valueOf(config.string(ConfigKey.PLAINTEXT_AUTH).toUpperCase(Locale.ROOT));
    }

    private static QueueSettings queueSettings(Config config, String hostname) {
        return new QueueSettings(hostname, Duration.ofSeconds(config.integer(ConfigKey.RETRY_INITIAL)),
                Duration.ofSeconds(config.integer(ConfigKey.RETRY_MAX)),
                Duration.ofHours(config.integer(ConfigKey.MAX_QUEUE_LIFETIME)),
                Duration.ofHours(config.integer(ConfigKey.DELAY_WARNING)), 4, Duration.ofMinutes(15));
    }

    private static SmtpSettings smtpSettings(Config config, String hostname) {
        return new SmtpSettings(hostname, false, config.number(ConfigKey.MAX_MESSAGE_BYTES),
                config.integer(ConfigKey.MAX_RECIPIENTS), config.integer(ConfigKey.MAX_ERRORS), plaintext(config),
                Cidr.parseList(config.string(ConfigKey.TRUSTED_NETWORKS)),
                config.string(ConfigKey.BARE_LF).equals("reject"),
                new DnsBlocklists(DnsBlocklists.parseZones(config.string(ConfigKey.DNSBL)), null),
                config.flag(ConfigKey.SENDER_LOGIN_MATCH),
                !config.flag(ConfigKey.SENDER_CHECKS) ? InboundChecks.OFF
                        : new InboundChecks(new DnsLookup(null), config.flag(ConfigKey.SPF_REJECT),
                        config.flag(ConfigKey.DMARC_ENFORCE), Cidr.parseList(config.string(ConfigKey.SENDER_CHECKS_SKIP)),
                        hostname), SenderRewriting.OFF,
                MilterSettings.of(config.string(ConfigKey.MILTERS), config.string(ConfigKey.MILTER_DEFAULT_ACTION),
                        config.integer(ConfigKey.MILTER_CONNECT_TIMEOUT), config.integer(ConfigKey.MILTER_COMMAND_TIMEOUT),
                        config.integer(ConfigKey.MILTER_CONTENT_TIMEOUT), config.flag(ConfigKey.MILTER_SUBMISSION)),
                greylisting(config));
    }

    /**
     * smtp.greylist, its numbers and postgrey's whitelist files, read again on each SIGHUP (a bad
     * line is a configuration error naming the key, file and line, so a reload keeps the lists it had).
     */
    static Greylisting greylisting(Config config) {
        if (!config.flag(ConfigKey.GREYLIST)) {
            return Greylisting.OFF;
        }
        Duration delay = Duration.ofSeconds(config.integer(ConfigKey.GREYLIST_DELAY));
        Duration window = Duration.ofHours(config.integer(ConfigKey.GREYLIST_RETRY_WINDOW));
        if (window.compareTo(delay) <= 0) {
            throw new ConfigException(ConfigKey.GREYLIST_RETRY_WINDOW.key() + " = " + window.toHours() + " must be longer than "
                    + ConfigKey.GREYLIST_DELAY.key() + " = " + delay.toSeconds() + ", or no retry could ever pass");
        }
        ClientWhitelist clients = whitelist(config, ConfigKey.GREYLIST_WHITELIST_CLIENTS, ClientWhitelist::read,
                ClientWhitelist.NONE);
        RecipientWhitelist recipients = whitelist(config, ConfigKey.GREYLIST_WHITELIST_RECIPIENTS, RecipientWhitelist::read,
                RecipientWhitelist.NONE);
        // the names are Postfix's client_name: PTR confirmed by A/AAAA, through the system's resolver
        ClientNames names = clients.hasNames() ? ClientNames.dns(new DnsLookup(null)) : ClientNames.NONE;
        return new Greylisting(true, Greylist.Policy.POSTGREY
                .withDelay(delay)
                .withRetryWindow(window)
                .withMaxAge(Duration.ofDays(config.integer(ConfigKey.GREYLIST_MAX_AGE)))
                .withAutoWhitelistAfter(config.integer(ConfigKey.GREYLIST_AUTO_WHITELIST)), Clock.systemUTC(),
                Cidr.parseList(config.string(ConfigKey.SENDER_CHECKS_SKIP))).withWhitelists(clients, recipients, names);
    }

    private interface WhitelistReader<T> {
        T read(Path file) throws IOException;
    }

    private static <T> T whitelist(Config config, ConfigKey key, WhitelistReader<T> reader, T none) {
        Optional<Path> file = config.optional(key).map(Path::of);
        if (file.isEmpty()) {
            return none;
        }
        try {
            return reader.read(file.get());
        } catch (IOException e) {
            throw new ConfigException(key.key() + ": cannot read " + file.get() + " as UTF-8: "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key.key() + ": " + e.getMessage()); // "file:line: entry: why"
        }
    }

    /**
     * SIGHUP: the keys {@link ConfigKey#live()} names take effect for new SMTP sessions and the
     * queue's next deliveries; the relay password file is read again. Everything is built before
     * anything is switched, so a bad value leaves the running configuration whole.
     */
    void apply(Config fresh) {
        Router router = router(fresh);
        QueueSettings queue = queueSettings(fresh, hostname);
        SmtpSettings mx = smtpSettings(fresh, hostname).withSenderRewriting(srs);
        SieveSettings sieve = sieveSettings(fresh); // the files again, changed or not
        QuotaWarnings warnings = QuotaWarnings.parse(fresh.string(ConfigKey.QUOTA_WARNING_PERCENT));
        remote.use(router);
        local.use(sieve);
        local.use(warnings);
        runner.use(queue);
        mxSmtp.use(mx);
        submissionSmtp.use(mx.asSubmission());
        lmtp.use(mx);
        sendingRates.limit(fresh.integer(ConfigKey.MAX_RECIPIENTS_PER_HOUR));
    }

    /**
     * The site's Sieve settings: the administrator's scripts of sieve.before and sieve.after, read
     * and checked now (a file that cannot be read or a script that does not compile is a
     * configuration error naming the key, the file and the line), sieve.global_dir and the cap of
     * the duplicate test's period.
     */
    static SieveSettings sieveSettings(Config config) {
        Optional<Path> global = config.optional(ConfigKey.SIEVE_GLOBAL_DIR).map(Path::of);
        if (global.isPresent() && !Files.isDirectory(global.get())) {
            throw new ConfigException("sieve.global_dir: " + global.get() + " is not a folder");
        }
        return new SieveSettings(new AdminScripts(sieveFiles(config, ConfigKey.SIEVE_BEFORE),
                sieveFiles(config, ConfigKey.SIEVE_AFTER)), global,
                Duration.ofSeconds(config.integer(ConfigKey.SIEVE_DUPLICATE_MAX_PERIOD)),
                scanner(config, ConfigKey.SIEVE_SPAMTEST_STATUS_HEADER, ConfigKey.SIEVE_SPAMTEST_STATUS_TYPE,
                        ConfigKey.SIEVE_SPAMTEST_MAX_VALUE, ConfigKey.SIEVE_SPAMTEST_MAX_HEADER, ConfigKey.SIEVE_SPAMTEST_TEXT_VALUES, 10),
                scanner(config, ConfigKey.SIEVE_VIRUSTEST_STATUS_HEADER, ConfigKey.SIEVE_VIRUSTEST_STATUS_TYPE,
                        ConfigKey.SIEVE_VIRUSTEST_MAX_VALUE, ConfigKey.SIEVE_VIRUSTEST_MAX_HEADER, ConfigKey.SIEVE_VIRUSTEST_TEXT_VALUES, 5),
                new EditHeaderRules(EditHeaderRules.names(config.string(ConfigKey.SIEVE_EDITHEADER_FORBID_ADD)),
                        EditHeaderRules.names(config.string(ConfigKey.SIEVE_EDITHEADER_FORBID_DELETE))));
    }

    /**
     * Where spamtest or virustest (RFC 5235) reads its scanner's verdict, as Pigeonhole's
     * sieve_spamtest_* settings; each key was checked when read, and here they are checked together:
     * a score needs its top value, a text its words. No status header: not configured.
     */
    private static ScannerVerdict scanner(Config config, ConfigKey status, ConfigKey type, ConfigKey maxValue,
                                          ConfigKey maxHeader, ConfigKey texts, int top) {
        Optional<String> field = config.optional(status);
        if (field.isEmpty()) {
            return ScannerVerdict.NONE;
        }
        ScannerVerdict.Type kind = ScannerVerdict.Type.named(config.string(type));
        OptionalDouble max = config.optional(maxValue).map(v -> OptionalDouble.of(Double.parseDouble(v)))
                .orElse(OptionalDouble.empty());
        Optional<ScannerVerdict.FieldPattern> maxField = config.optional(maxHeader).map(ScannerVerdict.FieldPattern::parse);
        Map<Integer, String> words = ScannerVerdict.textValues(config.string(texts), top);
        if (kind != ScannerVerdict.Type.TEXT && max.isEmpty() && maxField.isEmpty()) {
            throw new ConfigException(type.key() + " = " + config.string(type) + " needs " + maxValue.key() + " or "
                    + maxHeader.key() + ": the score at the top of the scale");
        }
        if (kind == ScannerVerdict.Type.TEXT && words.isEmpty()) {
            throw new ConfigException(type.key() + " = text needs " + texts.key() + ", e.g. 1=No, " + top + "=Yes");
        }
        return new ScannerVerdict(kind, Optional.of(ScannerVerdict.FieldPattern.parse(field.get())), max, maxField, words);
    }

    private static List<SieveScript> sieveFiles(Config config, ConfigKey key) {
        List<SieveScript> scripts = new ArrayList<>();
        for (String name : config.string(key).split(",")) {
            if (name.isBlank()) {
                continue;
            }
            Path file = Path.of(name.strip());
            String text;
            try (java.io.InputStream in = Files.newInputStream(file)) {
                // read no further than the largest script a user may store: a wrong path (a log file,
                // /dev/zero) ran the server out of memory, at start or at a SIGHUP's reload
                byte[] bytes = in.readNBytes(dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES + 1);
                if (bytes.length > dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES) {
                    throw new ConfigException(key.key() + ": " + file + " is larger than "
                            + dev.mailstack.store.SieveLimits.MAX_SCRIPT_BYTES + " bytes, more than any Sieve script may have");
                }
                // RFC 5228 §2.1: scripts are UTF-8; a malformed file is refused, not guessed at
                text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (IOException e) {
                throw new ConfigException(key.key() + ": cannot read " + file + " as UTF-8: " + e.getMessage());
            }
            try {
                scripts.add(SieveScript.parse(text, Optional.of(file.toString())));
            } catch (SieveException e) {
                throw new ConfigException(key.key() + ": " + file + ": " + e.getMessage()); // "line N: ..."
            }
        }
        return scripts;
    }

    MailCounters counters() {
        return counters;
    }

    /** LMTP's protocol, for lmtp.socket as well as lmtp.port: one session code, one reload. */
    SmtpProtocol lmtp() {
        return lmtp;
    }

    List<Planned> planned() {
        return planned;
    }

    /** A stop has begun: no delivery to another server starts, those under way get {@link QueueRunner#STOP_BUDGET}. */
    void beginStop() {
        runner.beginStop(QueueRunner.STOP_BUDGET);
    }

    /** Background services (the queue runner) to stop after the listeners. */
    List<AutoCloseable> services() {
        return services;
    }

    /** Where outbound mail goes and how: static routes, the relay host with its TLS and login, TLS per domain, MTA-STS, DANE. */
    static Router router(Config config) {
        Optional<Route> relay = config.optional(ConfigKey.RELAY_HOST).map(Route::parse)
                .map(r -> r.with(TlsPolicy.parse(config.string(ConfigKey.RELAY_HOST_TLS))));
        Optional<String> user = config.optional(ConfigKey.RELAY_HOST_USER);
        if (user.isPresent()) {
            if (relay.isEmpty()) {
                throw new ConfigException("queue.relay_host_user is set but queue.relay_host is not: set the relay host too");
            }
            relay = Optional.of(relay.get().with(new RelayLogin(user.get(), relayPassword(config),
                    config.flag(ConfigKey.RELAY_HOST_TLS_VERIFY))));
        }
        return new Router(Router.parseStaticRoutes(config.string(ConfigKey.STATIC_ROUTES)), relay, null, 25,
                Router.parseTlsPolicies(config.string(ConfigKey.TLS_POLICY)), trust(config), config.flag(ConfigKey.MTA_STS),
                Router.HTTPS_PORT, config.flag(ConfigKey.DANE));
    }

    /** The authorities verified next hops' certificates must chain to: queue.tls_trust_file, else the JDK's. */
    private static NextHopTrust trust(Config config) {
        Optional<Path> file = config.optional(ConfigKey.TLS_TRUST_FILE).map(Path::of);
        if (file.isEmpty()) {
            return NextHopTrust.system();
        }
        try {
            return NextHopTrust.fromPem(file.get());
        } catch (IOException e) {
            throw new ConfigException("queue.tls_trust_file: " + e.getMessage());
        }
    }

    private static String relayPassword(Config config) {
        Path file = config.optional(ConfigKey.RELAY_HOST_PASSWORD_FILE).map(Path::of).orElseThrow(() ->
                new ConfigException("queue.relay_host_user needs queue.relay_host_password_file: a file with the password"));
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.findFirst().filter(p -> !p.isEmpty()).orElseThrow(() -> new ConfigException(
                    "queue.relay_host_password_file " + file + " is empty: put the password on its first line"));
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new ConfigException("cannot read queue.relay_host_password_file " + file + ": " + e.getMessage());
        }
    }
}

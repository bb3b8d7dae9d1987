package dev.mailstack.mta.smtp;

import dev.mailstack.mime.TraceField;
import dev.mailstack.mta.inbound.AuthenticationResults;
import dev.mailstack.mta.inbound.InboundChecks;
import dev.mailstack.mta.inbound.SpfResult;
import dev.mailstack.mta.milter.EditedHeader;
import dev.mailstack.mta.milter.EnvelopeRules;
import dev.mailstack.mta.milter.MilterReply;
import dev.mailstack.mta.milter.MilterSession;
import dev.mailstack.mta.milter.MilterVerdict;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.mta.queue.Origin;
import dev.mailstack.mta.queue.QueueIntake;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Cidr;
import dev.mailstack.net.Connection;
import dev.mailstack.net.LineTooLongException;
import dev.mailstack.net.SaslCredentials;
import dev.mailstack.net.SaslExchange;
import dev.mailstack.store.Account;
import dev.mailstack.store.AccountWatch;
import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.Greylist;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** One SMTP conversation (RFC 5321), as a sealed state and one switch per command (STYLE.md R3). */
final class SmtpSession {
    private static final Logger LOG = System.getLogger(SmtpSession.class.getName());
    static final DateTimeFormatter RFC5322_DATE = DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss Z", Locale.ROOT);

    sealed interface State {
    }

    record Connected() implements State {
    }

    record Greeted(String helo, boolean esmtp) implements State {
    }

    /**
     * A mail transaction: MAIL given, recipients so far, a BDAT message in progress if any, and the
     * longest any recipient's triplet was greylisted before it passed now (zero: none was).
     */
    record InTransaction(Greeted greeted, String from, MailParams params, List<MailEnvelope.Recipient> recipients,
                         Optional<Chunks> chunks, Duration greylisted) implements State {
        InTransaction {
            recipients = List.copyOf(recipients);
        }

        InTransaction with(MailEnvelope.Recipient r, Duration delayed) {
            List<MailEnvelope.Recipient> next = new ArrayList<>(recipients);
            next.add(r);
            return new InTransaction(greeted, from, params, next, chunks,
                    delayed.compareTo(greylisted) > 0 ? delayed : greylisted);
        }

        InTransaction with(Optional<Chunks> changed) {
            return new InTransaction(greeted, from, params, recipients, changed, greylisted);
        }
    }

    private record SpfOf(String from, String helo, SpfResult result) {
    }

    /** MAIL FROM parameters we act on (RFC 1870, 6152, 6531, 3461, 3030); {@code size}: SIZE's value, 0 without it. */
    record MailParams(boolean eightBitMime, boolean smtpUtf8, Optional<String> ret, Optional<String> envId, long size) {
    }

    /** A message arriving in BDAT chunks (RFC 3030). */
    static final class Chunks {
        final MessageSpool spool;
        final IncomingMessage message;
        boolean linesOk = true;

        Chunks(MessageSpool spool, IncomingMessage message) {
            this.spool = spool;
            this.message = message;
        }
    }

    private final Connection connection;
    private final SmtpSettings settings;
    private final MailboxStore store;
    private final QueueIntake intake;
    private final AuthThrottle throttle;
    private final SendingRates rates;
    /** RFC 2033 LMTP from the MTA in front (Postfix's lmtp transport) rather than SMTP. */
    private final boolean lmtp;
    /**
     * How many times the next reply is sent: LMTP answers the end of a message once per accepted
     * recipient (RFC 2033 §4.2); here they all share one outcome, as the message is queued once.
     */
    private int replyCopies = 1;
    private State state = new Connected();
    private Optional<Account> user = Optional.empty();
    /** Null until the first RCPT asks ({@link #blocklisted}). */
    private Optional<DnsBlocklists.Listing> blocklisting;
    /** The last SPF check, for the transaction of the same sender and HELO ({@link #spf}). */
    private SpfOf lastSpf;
    /** The HELO identity's SPF result, for transactions with a sender ({@link #heloSpf}). */
    private SpfOf lastHeloSpf;
    /** From AUTH to the session's end: the account's deletion ends the session (Accounts.watch). */
    private AccountWatch accountWatch = AccountWatch.NONE;
    private int errors;
    /** The last command was a BDAT chunk that was refused, and not the last one (see {@link #bdat}). */
    private boolean chunkRefused;
    /**
     * The client's forward-confirmed name, looked up when a greylisting whitelist of names first
     * needs it; null until then (empty: it has none).
     */
    private Optional<String> clientName;
    /** Recipients greylisting deferred in this session ({@link #rcpt}). */
    private int greylistDeferrals;
    private int transactions;
    /** Every command so far ended in bare LF: a netcat user, see {@link DataReader}. */
    private boolean lfOnly = true;
    /** The milters of this session, connected at its start (Postfix's smtpd_milters). */
    private MilterSession milters;

    SmtpSession(Connection connection, SmtpSettings settings, MailboxStore store, QueueIntake intake, AuthThrottle throttle,
                SendingRates rates, boolean lmtp) {
        this.connection = connection;
        this.settings = settings;
        this.store = store;
        this.intake = intake;
        this.throttle = throttle;
        this.rates = rates;
        this.lmtp = lmtp;
    }

    void run() throws IOException {
        // CONNECT before the greeting, as Postfix: a refusal there is the answer to every MAIL
        milters = MilterSession.open(settings.milters(), new MilterSession.Client(connection.id(), settings.hostname(),
                connection.endpoint().name(), connection.clientAddress(), connection.clientPort()));
        try {
            if (lmtp && !mayUseLmtp(connection.clientAddress(), settings.trustedNetworks())) {
                // LMTP skips every check port 25 makes: only the MTA in front may use it
                LOG.log(Level.WARNING, "lmtp refused conn={0} client={1}", connection.id(),
                        connection.clientAddress().getHostAddress());
                send(SmtpReplies.LMTP_NOT_FOR_YOU);
                return;
            }
            send(lmtp ? SmtpReplies.lmtpGreeting(settings.hostname()) : SmtpReplies.greeting(settings.hostname()));
            while (true) {
                String line;
                try {
                    line = connection.readCommand();
                } catch (LineTooLongException e) {
                    if (!error(SmtpReplies.LINE_TOO_LONG)) {
                        return;
                    }
                    continue;
                }
                if (line == null) {
                    return;
                }
                lfOnly &= connection.reader().lastEnding() == dev.mailstack.net.LineReader.Ending.LF;
                if (!connection.reader().lastLineUtf8()) {
                    // RFC 6531 §3.3: 8-bit addresses are UTF-8. Taken, the line's U+FFFD would have
                    // made "b\xFF@..." the sender "b\uFFFD@...", where no bounce could ever arrive.
                    if (!error(SmtpReplies.NOT_UTF8)) {
                        return;
                    }
                    continue;
                }
                SmtpCommand command;
                try {
                    command = SmtpParser.parse(line);
                } catch (SmtpSyntaxException e) {
                    if (!error(e.reply())) {
                        return;
                    }
                    continue;
                }
                if (!execute(command)) {
                    return;
                }
            }
        } finally {
            try {
                abandonChunks();
            } finally {
                try {
                    unwatchAccount();
                } finally {
                    milters.close();
                }
            }
        }
    }

    /** Returns false when the session is over. */
    private boolean execute(SmtpCommand command) throws IOException {
        boolean afterRefusedChunk = chunkRefused;
        chunkRefused = false;
        return switch (command) {
            case SmtpCommand.Helo h -> lmtp ? error(SmtpReplies.LMTP_ONLY) : greet(h.domain(), false);
            case SmtpCommand.Ehlo e -> lmtp ? error(SmtpReplies.LMTP_ONLY) : greet(e.domain(), true);
            case SmtpCommand.Lhlo l -> lmtp ? greet(l.domain(), true) : error(SmtpReplies.NOT_LMTP);
            case SmtpCommand.Mail m -> mail(m);
            case SmtpCommand.Rcpt r -> rcpt(r);
            case SmtpCommand.Data d -> data();
            case SmtpCommand.Bdat b -> bdat(b, afterRefusedChunk);
            case SmtpCommand.Rset r -> {
                abandonChunks();
                milters.abort();
                if (state instanceof InTransaction t) {
                    state = t.greeted();
                }
                yield send(SmtpReplies.RESET);
            }
            case SmtpCommand.Noop n -> send(SmtpReplies.OK);
            case SmtpCommand.Quit q -> {
                send(SmtpReplies.bye(settings.hostname()));
                yield false;
            }
            case SmtpCommand.Help h -> send(lmtp ? SmtpReplies.LMTP_HELP : SmtpReplies.help(settings.submission()));
            case SmtpCommand.Vrfy v -> send(SmtpReplies.VRFY); // RFC 5321 §3.5.3: 252, no user enumeration
            case SmtpCommand.Expn e -> send(SmtpReplies.EXPN);
            case SmtpCommand.StartTls s -> startTls();
            case SmtpCommand.Auth a -> lmtp ? error(SmtpReplies.NO_AUTH_IN_LMTP) : auth(a);
        };
    }

    private boolean greet(String helo, boolean esmtp) throws IOException {
        abandonChunks();
        milters.abort();
        if (milters.helo(helo) instanceof MilterVerdict.Refuse refuse) {
            state = new Connected();
            return milterRefused(refuse);
        }
        state = new Greeted(helo, esmtp);
        if (!esmtp) {
            return send(SmtpReplies.helo(settings.hostname(), helo));
        }
        List<String> lines = new ArrayList<>();
        lines.add(settings.hostname() + " Hello " + helo + " [" + connection.clientAddress().getHostAddress() + "]");
        lines.add("PIPELINING");
        lines.add("SIZE " + settings.maxMessageBytes());
        lines.add("8BITMIME");
        lines.add("ENHANCEDSTATUSCODES");
        lines.add("SMTPUTF8");
        lines.add("DSN");
        if (lmtp) { // the MTA in front: no BDAT, TLS or AUTH on this machine's own hop
            lines.add("HELP");
            return send(new SmtpReply(250, null, String.join("\n", lines)));
        }
        // RFC 3030 CHUNKING without BINARYMIME: a binary body would need to pass unnormalised and
        // be re-encoded for next hops without BINARYMIME; BDAT carries 7-bit and 8BITMIME mail.
        lines.add("CHUNKING");
        if (connection.canStartTls()) {
            lines.add("STARTTLS");
        }
        if (user.isEmpty() && authAllowedHere()) {
            lines.add("AUTH PLAIN LOGIN");
        }
        lines.add("HELP");
        return send(new SmtpReply(250, null, String.join("\n", lines)));
    }

    /** RFC 3461 §4: printable ASCII but "+" and "=", with "+XX" (uppercase hex) for any other octet. */
    static boolean isXtext(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '+') {
                if (i + 2 >= v.length() || !isUpperHex(v.charAt(i + 1)) || !isUpperHex(v.charAt(i + 2))) {
                    return false;
                }
                i += 2;
            } else if (c < 33 || c > 126 || c == '=') {
                return false;
            }
        }
        return true;
    }

    private static boolean isUpperHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }

    private boolean authAllowedHere() {
        return settings.plaintextAuth().allows(connection.isSecure(), connection.isLoopback());
    }

    private boolean mail(SmtpCommand.Mail m) throws IOException {
        if (!(state instanceof Greeted g)) {
            return error(state instanceof Connected ? needHelo() : SmtpReplies.NESTED_MAIL);
        }
        if (settings.submission() && user.isEmpty()) {
            return error(SmtpReplies.AUTH_REQUIRED);
        }
        boolean eightBit = false;
        boolean utf8 = false;
        long declaredSize = 0;
        Optional<String> ret = Optional.empty();
        Optional<String> envId = Optional.empty();
        for (Map.Entry<String, String> p : m.params().entrySet()) {
            String v = p.getValue();
            switch (p.getKey()) {
                case "SIZE" -> {
                    // RFC 1870 §4: size-value = 1*20DIGIT, so no sign ("-1" and "+5" are not sizes), and
                    // 20 digits may be more than a long holds: that is over any limit, not a syntax error
                    if (v.isEmpty() || v.length() > 20 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                        return error(SmtpReplies.syntax("SIZE=<number>"));
                    }
                    // RFC 1870 §6: refuse at once when the declared size is over the limit.
                    String digits = v.replaceFirst("^0+(?=.)", "");
                    declaredSize = digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
                    if (declaredSize > settings.maxMessageBytes()) {
                        return error(SmtpReplies.tooBig(settings.maxMessageBytes()));
                    }
                }
                case "BODY" -> {
                    switch (v.toUpperCase(Locale.ROOT)) {
                        case "7BIT" -> { }
                        case "8BITMIME" -> eightBit = true;
                        case "BINARYMIME" -> {
                            return error(SmtpReplies.BINARY_UNSUPPORTED);
                        }
                        default -> {
                            return error(SmtpReplies.syntax("BODY=7BIT or BODY=8BITMIME"));
                        }
                    }
                }
                case "SMTPUTF8" -> {
                    if (!v.isEmpty()) {
                        return error(SmtpReplies.syntax("SMTPUTF8 takes no value"));
                    }
                    utf8 = true;
                }
                case "RET" -> {
                    if (!v.equalsIgnoreCase("FULL") && !v.equalsIgnoreCase("HDRS")) {
                        return error(SmtpReplies.syntax("RET=FULL or RET=HDRS"));
                    }
                    ret = Optional.of(v.toUpperCase(Locale.ROOT));
                }
                case "ENVID" -> {
                    if (v.length() > 100 || !isXtext(v)) { // RFC 3461 §4.4
                        return error(SmtpReplies.syntax("ENVID=<xtext of at most 100 characters>"));
                    }
                    envId = Optional.of(v);
                }
                case "AUTH" -> { } // RFC 4954 §5: accepted; we do not pass it on
                default -> {
                    return error(SmtpReplies.unknownParameter(p.getKey()));
                }
            }
        }
        if (!utf8 && !MailAddress.isAscii(m.from())) {
            return error(SmtpReplies.NON_ASCII_WITHOUT_SMTPUTF8);
        }
        if (!store.diskSpace().hasRoomFor(declaredSize)) {
            // RFC 1870 §6.1: 452 for a size the server cannot take now but may later; not the client's error
            return send(SmtpReplies.INSUFFICIENT_STORAGE);
        }
        boolean owned;
        try {
            owned = user.isEmpty() || !settings.senderLoginMatch() || m.from().isEmpty() || ownsAddress(user.get(), m.from());
        } catch (StoreException e) {
            return send(SmtpReplies.STORE_BUSY);
        }
        if (!owned) {
            LOG.log(Level.INFO, "sender not owned by login conn={0} user={1} from=<{2}>", connection.id(),
                    user.get().address(), m.from());
            return error(SmtpReplies.senderNotOwned(m.from(), user.get().address()));
        }
        List<String> params = m.params().entrySet().stream()
                .map(p -> p.getValue().isEmpty() ? p.getKey() : p.getKey() + "=" + p.getValue()).toList();
        // the "i" macro: our queue id comes only once the message is in, so the id of our Received field
        if (milters.mail(m.from(), params, user.map(Account::address), connection.id() + "." + (transactions + 1))
                instanceof MilterVerdict.Refuse refuse) {
            return milterRefused(refuse);
        }
        state = new InTransaction(g, m.from(), new MailParams(eightBit, utf8, ret, envId, declaredSize), List.of(), Optional.empty(),
                Duration.ZERO);
        return send(SmtpReplies.SENDER_OK);
    }

    private boolean rcpt(SmtpCommand.Rcpt r) throws IOException {
        if (!(state instanceof InTransaction t)) {
            return error(state instanceof Connected ? needHelo() : SmtpReplies.NEED_MAIL);
        }
        if (t.chunks().isPresent()) {
            // RFC 3030 §2: BDAT sends the message data, as DATA does, so the envelope is complete
            // by then (Postfix: "RCPT after BDAT"). Taken, a late recipient would get a copy whose
            // trace header names the first one "for" ("for" is written for one recipient only).
            return error(SmtpReplies.RCPT_AFTER_BDAT);
        }
        Optional<String> notify = Optional.empty();
        Optional<String> orcpt = Optional.empty();
        for (Map.Entry<String, String> p : r.params().entrySet()) {
            switch (p.getKey()) {
                case "NOTIFY" -> {
                    String v = p.getValue().toUpperCase(Locale.ROOT);
                    List<String> kinds = List.of("SUCCESS", "FAILURE", "DELAY");
                    List<String> items = List.of(v.split(",", -1)); // -1: "SUCCESS,," has empty items, not none
                    boolean valid = v.equals("NEVER") || (!items.isEmpty() && kinds.containsAll(items));
                    if (!valid) {
                        return error(SmtpReplies.syntax("NOTIFY=NEVER or NOTIFY=SUCCESS,FAILURE,DELAY"));
                    }
                    // RFC 3461 §4.1: each at most once; kept in one order, so "SUCCESS,SUCCESS,..." stays short
                    notify = Optional.of(v.equals("NEVER") ? v
                            : String.join(",", kinds.stream().filter(items::contains).toList()));
                }
                case "ORCPT" -> {
                    String v = p.getValue();
                    int semicolon = v.indexOf(';');
                    // RFC 3461 §4.2: addr-type ";" xtext, at most 500 characters
                    if (semicolon <= 0 || v.length() > 500 || !isXtext(v.substring(semicolon + 1))) {
                        return error(SmtpReplies.syntax("ORCPT=addr-type;address (xtext, at most 500 characters)"));
                    }
                    orcpt = Optional.of(p.getValue());
                }
                default -> {
                    return error(SmtpReplies.unknownParameter(p.getKey()));
                }
            }
        }
        if (!t.params().smtpUtf8() && !MailAddress.isAscii(r.to())) {
            return error(SmtpReplies.NON_ASCII_WITHOUT_SMTPUTF8);
        }
        if (t.recipients().size() >= settings.maxRecipients()) {
            return send(SmtpReplies.TOO_MANY_RECIPIENTS); // RFC 5321 §4.5.3.1.10: not an error of the client
        }
        if (user.isPresent() && !rates.allows(user.get().id(), t.recipients().size() + 1)) {
            LOG.log(Level.WARNING, "rate limited conn={0} user={1} rcpt={2} limit={3} reason=\"recipients in the last hour;"
                    + " a stolen password?\"", connection.id(), user.get().address(), r.to(), rates.limit());
            intake.counters().refused(MailCounters.Refusal.RATE_LIMIT);
            return send(SmtpReplies.rateLimited(rates.limit())); // temporary, as RFC 5321 §4.5.3.1.10's limit
        }
        // RFC 5321 §4.5.1: postmaster stays reachable, so a listed sender can ask why
        Optional<DnsBlocklists.Listing> listed = lmtp || isPostmaster(r.to()) ? Optional.empty() : blocklisted();
        if (listed.isPresent()) {
            LOG.log(Level.INFO, "blocklisted conn={0} client={1} zone={2} rcpt={3}", connection.id(),
                    connection.clientAddress().getHostAddress(), listed.get().zone(), r.to());
            intake.counters().refused(MailCounters.Refusal.DNSBL);
            return error(SmtpReplies.blocklisted(connection.clientAddress().getHostAddress(), listed.get()));
        }
        String to = r.to();
        // RFC 5321 §4.5.1: postmaster without a domain is always accepted.
        if (to.equalsIgnoreCase("postmaster")) {
            to = "postmaster@" + settings.hostname();
        }
        Optional<String> bounceBack;
        try {
            // only bounces and auto-replies (null sender) go back through an SRS address: whoever
            // saw a forward's return path could otherwise send its original sender anything through us
            bounceBack = t.from().isEmpty() && !lmtp ? srsOrigin(to) : Optional.empty();
        } catch (StoreException e) {
            return send(SmtpReplies.STORE_BUSY);
        }
        if (bounceBack.isPresent()) {
            LOG.log(Level.INFO, "srs bounce conn={0} rcpt={1} to=<{2}>", connection.id(), to, bounceBack.get());
            to = bounceBack.get();
        }
        AddressResolution route;
        Duration greylisted = Duration.ZERO;
        try {
            route = store.accounts().resolve(to);
        } catch (StoreException e) {
            return send(SmtpReplies.STORE_BUSY);
        }
        switch (route) {
            case AddressResolution.NoSuchUser n -> {
                // LMTP: a front MTA's unknown recipients are its users' typing, not a client misbehaving
                return lmtp ? send(SmtpReplies.noSuchUser(to)) : error(SmtpReplies.noSuchUser(to));
            }
            case AddressResolution.NotLocal n -> {
                if (lmtp) {
                    return send(SmtpReplies.NOT_LOCAL_LMTP);
                }
                if (!mayRelay() && bounceBack.isEmpty()) {
                    LOG.log(Level.INFO, "relay denied conn={0} client={1} rcpt={2}", connection.id(),
                            connection.clientAddress().getHostAddress(), to);
                    return error(SmtpReplies.RELAY_DENIED);
                }
            }
            case AddressResolution.Deliver d -> {
                if (full(d, t.params().size())) {
                    // refused now, not bounced later to a sender who may be forged (backscatter); as
                    // Dovecot's quota-status policy service does for Postfix
                    LOG.log(Level.INFO, "mailbox full conn={0} rcpt={1} size={2}", connection.id(), to, t.params().size());
                    return send(SmtpReplies.overQuota(r.to()));
                }
                Optional<SpfResult> spf = lmtp || isPostmaster(to) ? Optional.empty()
                        : spf(t).filter(settings.senderChecks()::refuses).or(() -> heloSpf(t));
                if (spf.isPresent() && settings.senderChecks().refuses(spf.get())) {
                    LOG.log(Level.INFO, "spf fail conn={0} client={1} from=<{2}> rcpt={3}", connection.id(),
                            connection.clientAddress().getHostAddress(), t.from(), to);
                    intake.counters().refused(MailCounters.Refusal.SPF);
                    return error(SmtpReplies.spfFailed(spf.get()));
                }
                Greylist.Verdict grey;
                try {
                    grey = greylist(t, r.to());
                } catch (StoreException e) {
                    return send(SmtpReplies.STORE_BUSY);
                }
                switch (grey) {
                    case Greylist.Defer defer -> {
                        long seconds = defer.retryIn().plusMillis(999).toSeconds();
                        LOG.log(Level.INFO, "greylisted conn={0} client={1} from=<{2}> rcpt={3} retry_in={4} reason={5}",
                                connection.id(), connection.clientAddress().getHostAddress(), t.from(), r.to(), seconds,
                                defer.retry() ? "early-retry" : "new");
                        intake.counters().refused(MailCounters.Refusal.GREYLIST);
                        // send, not error: a deferral is no mistake of the client's; but past max_recipients of
                        // them in one session it is a client writing triplets without end, and they count
                        return ++greylistDeferrals > settings.maxRecipients()
                                ? error(SmtpReplies.greylisted(r.to(), seconds)) : send(SmtpReplies.greylisted(r.to(), seconds));
                    }
                    case Greylist.Pass pass -> {
                        if (pass.delayed().isPositive()) {
                            LOG.log(Level.INFO, "greylist passed conn={0} client={1} from=<{2}> rcpt={3} delay={4}",
                                    connection.id(), connection.clientAddress().getHostAddress(), t.from(), r.to(),
                                    pass.delayed().toSeconds());
                        }
                        greylisted = pass.delayed();
                    }
                }
            }
        }
        List<String> params = r.params().entrySet().stream()
                .map(p -> p.getValue().isEmpty() ? p.getKey() : p.getKey() + "=" + p.getValue()).toList();
        if (milters.rcpt(to, params) instanceof MilterVerdict.Refuse refuse) {
            return milterRefused(refuse);
        }
        state = t.with(new MailEnvelope.Recipient(to, notify, orcpt), greylisted);
        return send(SmtpReplies.RECIPIENT_OK);
    }

    /**
     * For an SRS address of one of our domains whose hash verifies (mail our aliases forwarded,
     * coming back): the sender it goes back to, which may be on another server.
     */
    private Optional<String> srsOrigin(String to) {
        int at = to.lastIndexOf('@');
        if (at < 0 || !settings.srs().isOn() || !store.accounts().isLocalDomain(to.substring(at + 1))) {
            return Optional.empty();
        }
        return settings.srs().reverse(to);
    }

    /**
     * Greylisting's verdict on this recipient (smtp.greylist, postgrey behind Postfix's
     * check_policy_service): for the MX clients the blocklists ask about, asked after every other
     * check of the RCPT so that a refused client leaves no triplet behind. Postmaster is never
     * greylisted (RFC 5321 §4.5.1), nor is the MTA in front on LMTP, nor a client greylisting skips,
     * nor what postgrey's whitelists name: the recipient first (no DNS), then the client's address,
     * then its verified name.
     */
    private Greylist.Verdict greylist(InTransaction t, String to) {
        Greylisting g = settings.greylisting();
        if (!g.on() || lmtp || settings.submission() || mayRelay() || g.skips(connection.clientAddress()) || isPostmaster(to)) {
            return new Greylist.Pass(Duration.ZERO, false);
        }
        Optional<String> recipientEntry = g.recipients().find(to);
        if (recipientEntry.isPresent()) {
            return whitelisted(MailCounters.Whitelist.RECIPIENTS, recipientEntry.get(), to);
        }
        Optional<String> clientEntry = g.clients().byAddress(connection.clientAddress());
        if (clientEntry.isEmpty() && g.clients().hasNames()) {
            if (clientName == null) {
                clientName = g.names().verified(connection.clientAddress()); // DNS, so once a session
            }
            clientEntry = clientName.flatMap(g.clients()::byName);
        }
        if (clientEntry.isPresent()) {
            return whitelisted(MailCounters.Whitelist.CLIENTS, clientEntry.get(), to);
        }
        return store.greylist().check(Greylist.Triplet.of(connection.clientAddress(), t.from(), to), g.policy(),
                g.clock().instant());
    }

    /**
     * A recipient one of postgrey's whitelists lets through: counted by list for the metrics, and
     * logged at debug only, as a whitelisted provider sends much of a server's mail.
     */
    private Greylist.Verdict whitelisted(MailCounters.Whitelist list, String entry, String to) {
        intake.counters().whitelisted(list);
        LOG.log(Level.DEBUG, "greylist skipped conn={0} client={1} name={2} rcpt={3} greylist=whitelisted list={4} entry=\"{5}\"",
                connection.id(), connection.clientAddress().getHostAddress(),
                clientName == null ? "-" : clientName.orElse("unknown"), to, list.label(), entry);
        return new Greylist.Pass(Duration.ZERO, false);
    }

    private boolean isPostmaster(String to) {
        int at = to.indexOf('@');
        return (at < 0 ? to : to.substring(0, at)).equalsIgnoreCase("postmaster")
                && (at < 0 || store.accounts().isLocalDomain(to.substring(at + 1)));
    }

    /** Whether {@code address} delivers to {@code account}: its own, an alias of it, its +tag form. */
    private boolean ownsAddress(Account account, String address) {
        return store.accounts().resolve(address) instanceof AddressResolution.Deliver d
                && d.accounts().stream().anyMatch(a -> a.id().equals(account.id()));
    }

    /**
     * Whether a blocklist names this MX client, asked once per session, at its first RCPT (so the
     * log has sender and recipient, as Postfix's reject_rbl_client in smtpd_recipient_restrictions).
     */
    private Optional<DnsBlocklists.Listing> blocklisted() {
        if (settings.submission() || mayRelay()) {
            return Optional.empty(); // a login (even one after a refused RCPT) or a trusted network
        }
        if (blocklisting == null) {
            blocklisting = settings.blocklists().listing(connection.clientAddress());
        }
        return blocklisting;
    }

    /**
     * The SPF result for this transaction's sender, when the sender checks apply to this client
     * (the MX port, no login, not a trusted network, not skipped): asked at the first RCPT, once
     * for a sender and HELO however many transactions repeat them.
     */
    private Optional<SpfResult> spf(InTransaction t) {
        if (settings.submission() || mayRelay() || !settings.senderChecks().appliesTo(connection.clientAddress())) {
            return Optional.empty();
        }
        String helo = t.greeted().helo();
        if (lastSpf == null || !lastSpf.from().equals(t.from()) || !lastSpf.helo().equals(helo)) {
            lastSpf = new SpfOf(t.from(), helo, settings.senderChecks().spf(connection.clientAddress(), helo, t.from()));
        }
        return Optional.of(lastSpf.result());
    }

    /**
     * RFC 7208 §2.3 recommends checking the HELO identity as well as MAIL FROM's: a HELO name whose
     * own policy excludes the client is refused too (policyd-spf's HELO_reject = Fail). Only this
     * refusal uses it; Authentication-Results and DMARC go by MAIL FROM's result. Empty for the
     * null sender, whose {@link #spf} result is the HELO identity's already.
     */
    private Optional<SpfResult> heloSpf(InTransaction t) {
        if (t.from().isEmpty() || !settings.senderChecks().refusesFails()) {
            return Optional.empty();
        }
        return spf(t).map(ofSender -> {
            String helo = t.greeted().helo();
            if (lastHeloSpf == null || !lastHeloSpf.helo().equals(helo)) {
                SpfResult r = settings.senderChecks().spf(connection.clientAddress(), helo, "");
                lastHeloSpf = new SpfOf("", helo, new SpfResult(r.kind(), r.domain(), "HELO " + r.explanation()));
            }
            return lastHeloSpf.result();
        });
    }

    /** LMTP makes none of port 25's checks: only this machine and the trusted networks may hand mail over. */
    static boolean mayUseLmtp(InetAddress client, List<Cidr> trusted) {
        return client.isLoopbackAddress() || inAny(client, trusted);
    }

    private static boolean inAny(InetAddress client, List<Cidr> networks) {
        return networks.stream().anyMatch(c -> c.contains(client));
    }

    /** RFC 2033 §4.2: LMTP answers DATA without an accepted recipient with 503. */
    private SmtpReply noValidRecipients() {
        return lmtp ? SmtpReplies.NO_VALID_RECIPIENTS_LMTP : SmtpReplies.NO_VALID_RECIPIENTS;
    }

    private SmtpReply needHelo() {
        return lmtp ? SmtpReplies.NEED_LHLO : SmtpReplies.NEED_HELO;
    }

    private boolean mayRelay() {
        return user.isPresent() || fromTrustedNetwork();
    }

    private boolean fromTrustedNetwork() {
        return inAny(connection.clientAddress(), settings.trustedNetworks());
    }

    private Origin origin() {
        if (lmtp) {
            // mail from anywhere that the front MTA hands on: never ours to DKIM-sign, whatever its client address
            return new Origin.Outside();
        }
        if (user.isPresent()) {
            return new Origin.LoggedIn(user.get().id());
        }
        return fromTrustedNetwork() ? new Origin.TrustedNetwork() : new Origin.Outside();
    }

    private boolean data() throws IOException {
        if (!(state instanceof InTransaction t)) {
            return error(state instanceof Connected ? needHelo() : SmtpReplies.NEED_MAIL);
        }
        if (t.chunks().isPresent()) {
            return error(SmtpReplies.BDAT_MIXED);
        }
        if (t.recipients().isEmpty()) {
            // LMTP: the front MTA's transaction whose recipients were all refused is no client error either
            return lmtp ? send(noValidRecipients()) : error(noValidRecipients());
        }
        if (milters.data() instanceof MilterVerdict.Refuse refuse) {
            milters.abort();
            state = t.greeted();
            return milterRefused(refuse);
        }
        try (MessageSpool spool = store.spool()) {
            send(SmtpReplies.START_DATA);
            IncomingMessage message = begin(spool, t);
            boolean linesOk;
            // from the 354 to the final dot at net.min_data_rate (Postfix's smtpd_min_data_rate), not
            // only an idle timeout per read: a trickling client would hold the session for days
            try (Connection.Payload payload = connection.payload()) {
                linesOk = DataReader.read(payload.reader(), message, lfOnly);
            }
            message.finish();
            return finishMessage(t, spool, message, linesOk);
        }
    }

    /**
     * RFC 3030 §2: once a chunk is refused, the server "MUST be prepared to accept and discard"
     * the chunks the client pipelined after it. They are read and refused, and do not count
     * towards smtp.max_errors: a message of many chunks would otherwise end the session with 421.
     */
    private boolean bdat(SmtpCommand.Bdat b, boolean afterRefusedChunk) throws IOException {
        boolean going = chunk(b, afterRefusedChunk);
        chunkRefused = !b.last() && !(state instanceof InTransaction t && t.chunks().isPresent());
        return going;
    }

    private boolean chunk(SmtpCommand.Bdat b, boolean afterRefusedChunk) throws IOException {
        if (!(state instanceof InTransaction t) || t.recipients().isEmpty()) {
            // RFC 3030 §2: the chunk must still be read so the session stays in step.
            skipChunk(b);
            SmtpReply refused = state instanceof InTransaction ? noValidRecipients()
                    : state instanceof Connected ? needHelo() : SmtpReplies.NEED_MAIL;
            return afterRefusedChunk ? send(refused) : error(refused);
        }
        Chunks chunks = t.chunks().orElse(null);
        if (chunks == null) {
            if (milters.data() instanceof MilterVerdict.Refuse refuse) {
                skipChunk(b); // RFC 3030 §2: read, so the session stays in step
                milters.abort();
                state = t.greeted();
                return milterRefused(refuse);
            }
            MessageSpool spool = store.spool();
            chunks = new Chunks(spool, begin(spool, t));
            state = t.with(Optional.of(chunks));
        }
        // each chunk at net.min_data_rate, as Postfix times each BDAT request (smtpd_min_data_rate)
        try (Connection.Payload payload = connection.payload()) {
            payload.reader().readExactly(b.size(), chunks.message);
        }
        if (!b.last()) {
            if (chunks.message.overflow()) {
                abandonChunks();
                state = t.greeted();
                return error(SmtpReplies.tooBig(settings.maxMessageBytes()));
            }
            return send(SmtpReplies.chunkReceived(b.size()));
        }
        chunks.message.finish();
        try (MessageSpool spool = chunks.spool) {
            InTransaction current = (InTransaction) state;
            return finishMessage(current, spool, chunks.message, chunks.linesOk);
        }
    }

    /** Reads and drops a chunk that is refused, at the same rate as one that is taken. */
    private void skipChunk(SmtpCommand.Bdat b) throws IOException {
        try (Connection.Payload payload = connection.payload()) {
            payload.reader().skip(b.size());
        }
    }

    /** Writes our trace headers and returns the stream the client's octets go through. */
    private IncomingMessage begin(MessageSpool spool, InTransaction t) throws IOException {
        transactions++;
        StringBuilder trace = new StringBuilder();
        // RFC 5321 §4.4: Return-Path for final delivery; outbound relaying leaves this first line out.
        trace.append("Return-Path: <").append(t.from()).append(">\r\n");
        String protocol = lmtp ? (t.params().smtpUtf8() ? "UTF8LMTP" : "LMTP") // RFC 3848, RFC 6531 §3.7.4
                : (t.params().smtpUtf8() ? "UTF8SMTP" : t.greeted().esmtp() ? "ESMTP" : "SMTP")
                + (connection.isSecure() ? "S" : "") + (user.isPresent() ? "A" : "");
        if (protocol.equals("SMTPS") || protocol.equals("SMTPA") || protocol.equals("SMTPSA")) {
            protocol = "E" + protocol; // RFC 3848 defines these only for ESMTP
        }
        trace.append("Received: from ").append(sanitize(t.greeted().helo())).append(" ([")
                .append(connection.clientAddress().getHostAddress()).append("])\r\n\tby ").append(settings.hostname())
                .append(" (mailstack) with ").append(protocol).append(" id ").append(connection.id()).append('.')
                .append(transactions);
        if (t.recipients().size() == 1) {
            trace.append("\r\n\tfor <").append(t.recipients().get(0).address()).append('>');
        }
        String date = ZonedDateTime.now(ZoneId.systemDefault()).format(RFC5322_DATE);
        trace.append("; ").append(date).append("\r\n");
        if (t.greylisted().isPositive()) {
            // postgrey's X-Greylist, so that whoever wonders why this mail came late can see it
            trace.append("X-Greylist: delayed ").append(t.greylisted().toSeconds()).append(" seconds by mailstack at ")
                    .append(settings.hostname()).append("; ").append(date).append("\r\n");
        }
        spool.write(trace.toString().getBytes(StandardCharsets.UTF_8));
        Map<String, String> addIfMissing = new LinkedHashMap<>();
        if (settings.submission()) {
            addIfMissing.put("date", "Date: " + ZonedDateTime.now(ZoneId.systemDefault()).format(RFC5322_DATE));
            addIfMissing.put("message-id", "Message-ID: <" + UUID.randomUUID() + "@" + settings.hostname() + ">");
        }
        String ours = settings.hostname();
        return new IncomingMessage(spool, settings.maxMessageBytes(), addIfMissing,
                // the MTA in front wrote its own checks' results, in our name if it shares it: kept
                field -> !lmtp && AuthenticationResults.claimsToBe(field, ours));
    }

    private static String sanitize(String helo) {
        return helo.replaceAll("[^\\x21-\\x7e]", "?");
    }

    private boolean finishMessage(InTransaction t, MessageSpool spool, IncomingMessage message, boolean linesOk)
            throws IOException {
        replyCopies = lmtp ? t.recipients().size() : 1;
        try {
            return finishChecked(t, spool, message, linesOk);
        } finally {
            replyCopies = 1;
            milters.abort(); // the message is over, whatever became of it
        }
    }

    private boolean finishChecked(InTransaction t, MessageSpool spool, IncomingMessage message, boolean linesOk)
            throws IOException {
        state = t.greeted();
        if (message.overflow()) {
            return error(SmtpReplies.tooBig(settings.maxMessageBytes()));
        }
        if (!linesOk) {
            return error(SmtpReplies.LINE_TOO_LONG);
        }
        if (message.sawBareNewline() && settings.rejectBareNewlines()) {
            LOG.log(Level.INFO, "bare newline rejected conn={0}", connection.id());
            return error(SmtpReplies.BARE_NEWLINE);
        }
        if (message.receivedFields() >= TraceField.MAX_HOPS) { // ours makes one more
            LOG.log(Level.INFO, "mail loop refused conn={0} from=<{1}> received={2}", connection.id(), t.from(),
                    message.receivedFields());
            return error(SmtpReplies.tooManyHops(message.receivedFields() + 1));
        }
        MessageSpool.Spooled spooled;
        try {
            spooled = spool.finish();
        } catch (MessageSpool.WriteFailed e) {
            return storageFailed(e);
        }
        MessageSpool.Spooled marked = null;
        MessageSpool.Spooled edited = null;
        try {
            MailEnvelope envelope = new MailEnvelope(t.from(), t.recipients(), t.params().envId(), t.params().ret(),
                    t.params().smtpUtf8(), t.params().eightBitMime() || message.eightBit(),
                    Instant.now());
            Optional<SpfResult> spf = spf(t);
            if (spf.isPresent()) {
                InboundChecks.Verdict verdict;
                try (InputStream in = spooled.open()) {
                    verdict = settings.senderChecks().verdict(in, spf.get(), t.from().isEmpty(), t.greeted().helo());
                    LOG.log(Level.INFO, "checked conn={0} from=<{1}> {2}", connection.id(), t.from(),
                            verdict.field().substring(verdict.field().indexOf(';') + 1).replaceAll("\\s+", " ").strip());
                    if (verdict instanceof InboundChecks.Verdict.Refuse refuse) {
                        intake.counters().refused(refuse.byPolicy() ? MailCounters.Refusal.DMARC
                                : MailCounters.Refusal.UNCHECKABLE);
                        return error(SmtpReplies.refused(refuse));
                    }
                    marked = marked(spooled, verdict.field());
                } catch (IOException | RuntimeException e) {
                    // our own failure, not the client's: it may send again, and nothing is lost
                    LOG.log(Level.WARNING, "sender checks failed conn=" + connection.id() + ": " + e);
                    return send(SmtpReplies.CHECKS_FAILED);
                }
                if (verdict instanceof InboundChecks.Verdict.Junk) {
                    envelope = envelope.asJunk();
                    intake.counters().quarantined();
                }
            }
            MessageSpool.Spooled accepted = marked == null ? spooled : marked;
            // a milter's addresses are held to what MAIL and RCPT take in this transaction
            EnvelopeRules rules = new EnvelopeRules(a -> MailAddress.isValid(a)
                    && (t.params().smtpUtf8() || MailAddress.isAscii(a)), settings.maxRecipients());
            MilterVerdict.OfMessage filtered = milters.endOfMessage(accepted, rules);
            switch (filtered.verdict()) {
                case MilterVerdict.Refuse refuse -> {
                    return milterRefused(refuse);
                }
                case MilterVerdict.Discard discard -> {
                    LOG.log(Level.INFO, "discarded conn={0} from=<{1}> rcpts={2} milter={3}", connection.id(), t.from(),
                            t.recipients().size(), discard.milter());
                    return send(SmtpReplies.DISCARDED);
                }
                case MilterVerdict.Pass pass -> { }
            }
            Optional<String> newSender = Optional.empty();
            if (!filtered.envelope().isEmpty()) {
                EditedEnvelope e = EditedEnvelope.of(envelope.returnPath(), envelope.recipients(), envelope.envId(),
                        envelope.ret(), filtered.envelope(), store.accounts(), connection.id());
                if (e.recipients().isEmpty()) {
                    // every recipient removed: taken and dropped, as a discard (Postfix does the same)
                    LOG.log(Level.INFO, "discarded conn={0} from=<{1}> rcpts=0 reason=\"milters removed every recipient\"",
                            connection.id(), e.from());
                    return send(SmtpReplies.DISCARDED);
                }
                envelope = new MailEnvelope(e.from(), e.recipients(), e.envId(), e.ret(), envelope.smtpUtf8(),
                        envelope.body8bit(), envelope.receivedAt(), envelope.junk());
                newSender = e.senderChanged() ? Optional.of(e.from()) : Optional.empty();
            }
            if (!filtered.changes().isEmpty() || newSender.isPresent()) {
                try {
                    edited = edited(accepted, filtered.changes(), newSender);
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "milter header changes failed conn=" + connection.id() + ": " + e);
                    return send(SmtpReplies.CHECKS_FAILED);
                }
                accepted = edited;
            }
            if (filtered.quarantine().isPresent() && !envelope.junk()) {
                envelope = envelope.asJunk();
                intake.counters().quarantined();
            }
            // RCPT only looked; this takes the recipients from the hour, so sessions side by side cannot all pass
            Optional<SendingRates.Taken> taken = user.isPresent()
                    ? rates.tryRecord(user.get().id(), envelope.recipients().size()) : Optional.of(SendingRates.Taken.NOTHING);
            if (taken.isEmpty()) {
                LOG.log(Level.WARNING, "rate limited conn={0} user={1} rcpts={2} limit={3} reason=\"recipients in the last"
                        + " hour; a stolen password?\"", connection.id(), user.get().address(), envelope.recipients().size(),
                        rates.limit());
                intake.counters().refused(MailCounters.Refusal.RATE_LIMIT);
                return send(SmtpReplies.rateLimited(rates.limit()));
            }
            QueueId id;
            try {
                id = intake.accept(envelope, accepted, origin());
            } catch (StoreException e) {
                // the queue's commit failed: not sent, so the hour keeps only what went
                user.ifPresent(u -> rates.giveBack(u.id(), taken.get()));
                throw e;
            } catch (IOException e) {
                user.ifPresent(u -> rates.giveBack(u.id(), taken.get()));
                return storageFailed(e);
            }
            LOG.log(Level.INFO, "queued conn={0} queue={1} from=<{2}> rcpts={3} size={4,number,#}", connection.id(), id,
                    envelope.returnPath(), envelope.recipients().size(), accepted.size());
            return send(SmtpReplies.queued(id.toString()));
        } catch (StoreException e) {
            LOG.log(Level.WARNING, "enqueue failed conn=" + connection.id() + ": " + e.getMessage());
            return send(SmtpReplies.STORE_BUSY);
        } finally {
            spooled.discard(); // never throws: the 250 may be written already, waiting for a flush
            if (marked != null) {
                marked.discard();
            }
            if (edited != null) {
                edited.discard();
            }
        }
    }

    /**
     * Whether mail to this recipient would only be refused at delivery for its one account's quota
     * (RFC 5321 §4.2.2 552): already full, or too full for the size MAIL declared. An alias with
     * several targets is taken, and only a full one's copy refused; so is mail to an account with
     * a Sieve script of its own, which may redirect or discard it rather than file it (an
     * administrator's sieve.before script that does so for a full account is not seen here).
     */
    private boolean full(AddressResolution.Deliver d, long size) {
        if (d.accounts().size() != 1 || !d.forwards().isEmpty()) {
            return false;
        }
        Account account = d.accounts().getFirst();
        if (account.quotaBytes().isEmpty() || account.usedBytes() + Math.max(size, 1) <= account.quotaBytes().getAsLong()) {
            return false;
        }
        try {
            return store.sieveScripts().activeSieveScript(account.id()).isEmpty();
        } catch (StoreException e) {
            return false; // taken: delivery decides
        }
    }

    /**
     * The message could not be written or made durable: a temporary failure, so the client sends
     * it again later and nothing is lost; 452 when the disk is what ran out (it has no room for
     * a message of the largest size taken, beside store.min_free_bytes).
     */
    private boolean storageFailed(IOException e) throws IOException {
        state = state instanceof InTransaction t ? t.greeted() : state;
        LOG.log(Level.WARNING, "cannot store the message conn={0}: {1}", connection.id(), e.getMessage());
        return send(store.diskSpace().hasRoomFor(settings.maxMessageBytes()) ? SmtpReplies.STORE_BUSY
                : SmtpReplies.INSUFFICIENT_STORAGE);
    }

    /** A copy of the message with the milters' header changes, and the Return-Path of the sender they set. */
    private MessageSpool.Spooled edited(MessageSpool.Spooled message, List<MilterReply.HeaderChange> changes,
                                        Optional<String> newSender) throws IOException {
        try (MessageSpool copy = store.spool(); InputStream in = message.open()) {
            EditedHeader.write(in, changes, newSender, copy, MilterSession.MAX_HEADER_BYTES);
            return copy.finish();
        }
    }

    /** A milter's refusal (or its default action) as the reply to the command under way. */
    private boolean milterRefused(MilterVerdict.Refuse refuse) throws IOException {
        intake.counters().refused(MailCounters.Refusal.MILTER);
        SmtpReply reply = SmtpReplies.milter(refuse.code(), refuse.enhanced(), refuse.text());
        if (reply.code() == 421) {
            // RFC 5321 §3.8: 421 closes the channel; a client told so and kept talking to would be out of step
            send(reply);
            connection.flush(); // pipelined commands may be waiting: send() left the replies buffered
            return false;
        }
        return error(reply);
    }

    /** A copy of the message with our Authentication-Results at its top (forged ones were left out on arrival). */
    private MessageSpool.Spooled marked(MessageSpool.Spooled message, String field) throws IOException {
        try (MessageSpool copy = store.spool(); InputStream in = message.open()) {
            TraceField.write(in, field, copy);
            return copy.finish();
        }
    }

    private boolean startTls() throws IOException {
        if (connection.isSecure()) {
            return error(SmtpReplies.ALREADY_TLS);
        }
        if (!connection.canStartTls()) {
            return error(SmtpReplies.TLS_UNAVAILABLE);
        }
        send(SmtpReplies.READY_FOR_TLS);
        int dropped = connection.startTls();
        if (dropped > 0) {
            LOG.log(Level.WARNING, "dropped {0} bytes sent before the TLS handshake conn={1}", dropped, connection.id());
        }
        // RFC 3207 §4.2: forget everything learnt before TLS, the login included, and with it the
        // watch on its account (else a second AUTH would leave it listening, ending the wrong login)
        abandonChunks();
        milters.abort();
        state = new Connected();
        user = Optional.empty();
        unwatchAccount();
        return true;
    }

    private void unwatchAccount() {
        accountWatch.close();
        accountWatch = AccountWatch.NONE;
    }

    private boolean auth(SmtpCommand.Auth a) throws IOException {
        if (user.isPresent()) {
            return error(SmtpReplies.ALREADY_AUTHENTICATED);
        }
        if (state instanceof InTransaction) {
            return error(SmtpReplies.AUTH_IN_TRANSACTION);
        }
        if (state instanceof Connected) {
            return error(needHelo());
        }
        if (!authAllowedHere()) {
            return error(SmtpReplies.TLS_REQUIRED_FOR_AUTH);
        }
        SaslExchange.Outcome outcome;
        try {
            outcome = SaslExchange.run(a.mechanism(), a.initialResponse(), this::challenge);
        } catch (LineTooLongException e) {
            // the response was read to its end: the session is in step, the client gets a reply (it
            // was closed without one, the exception taken for a broken connection)
            return error(SmtpReplies.AUTH_RESPONSE_TOO_LONG);
        }
        Optional<SaslCredentials> credentials;
        switch (outcome) {
            case SaslExchange.Outcome.Credentials c -> credentials = Optional.of(c.credentials());
            case SaslExchange.Outcome.Malformed m -> credentials = Optional.empty(); // a failed login, counted as one
            case SaslExchange.Outcome.Cancelled c -> {
                return error(SmtpReplies.AUTH_CANCELLED);
            }
            case SaslExchange.Outcome.UnknownMechanism u -> {
                return error(SmtpReplies.AUTH_MECHANISM);
            }
        }
        throttle.awaitTurn(connection); // waits out its network's penalty, on whichever connection
        Optional<Account> account = credentials.flatMap(c -> store.accounts().authenticate(c.user(), c.password()));
        String name = credentials.map(SaslCredentials::user).orElse("");
        if (account.isEmpty()) {
            throttle.failedLogin(connection, name, credentials.map(SaslCredentials::password).orElse(null),
                    "protocol=smtp mechanism=" + a.mechanism());
            return error(credentials.isEmpty() ? SmtpReplies.AUTH_MALFORMED : SmtpReplies.AUTH_FAILED);
        }
        throttle.succeededLogin(connection, name);
        Account authenticated = account.get();
        unwatchAccount();
        accountWatch = store.accounts().watch(authenticated.id(), () -> accountDeleted(authenticated));
        user = account; // after the watch: if it fails, no one is logged in
        LOG.log(Level.INFO, "auth ok conn={0} user={1}", connection.id(), authenticated.address());
        return send(SmtpReplies.AUTH_OK);
    }

    /**
     * On the thread that deleted the account, so it must not block (Connection.end does not): a
     * deleted account sends no more mail. 421 at once if the session waits for a command (RFC 5321
     * §3.8 allows it at any time), else after the command under way (a DATA transfer is finished and
     * answered first: what was acknowledged with 250 is queued and goes out).
     */
    private void accountDeleted(Account a) {
        LOG.log(Level.INFO, "account deleted, ending the session conn={0} user={1}", connection.id(), a.address());
        connection.end(SmtpReplies.ACCOUNT_DELETED.wire(true).strip());
    }

    /** Sends a 334 challenge; empty when the client cancels with "*" (RFC 4954 §4). */
    private Optional<String> challenge(String text) throws IOException {
        connection.reply("334 " + text);
        // part of the AUTH command, not the next one: a stop lets the exchange finish (RFC 4954 §4)
        String line = connection.readContinuation();
        if (line == null) {
            throw new java.io.EOFException("connection closed during AUTH");
        }
        return line.equals("*") ? Optional.empty() : Optional.of(line.strip());
    }

    private void abandonChunks() {
        if (state instanceof InTransaction t && t.chunks().isPresent()) {
            try {
                t.chunks().get().spool.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "cannot delete spool conn={0}", connection.id());
            }
            state = t.with(Optional.empty());
        }
    }

    /** Sends a reply; holds it back while pipelined commands are waiting (RFC 2920 §3.1). */
    private boolean send(SmtpReply reply) throws IOException {
        for (int i = 0; i < replyCopies; i++) {
            connection.write(reply.wire(true));
        }
        replyCopies = 1;
        if (!connection.reader().hasBufferedLine()) {
            connection.flush();
        }
        return true;
    }

    /** Sends an error reply and counts it; false (end the session) past the error limit. */
    private boolean error(SmtpReply reply) throws IOException {
        send(reply);
        if (++errors >= settings.maxErrors()) {
            connection.write(SmtpReplies.TOO_MANY_ERRORS.wire(true));
            connection.flush();
            return false;
        }
        return true;
    }
}

package dev.mailstack.pop3d;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.LineTooLongException;
import dev.mailstack.net.SaslCredentials;
import dev.mailstack.net.SaslExchange;
import dev.mailstack.store.Account;
import dev.mailstack.store.AccountWatch;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreFailure;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One POP3 session: RFC 1939 with CAPA (RFC 2449), STLS (RFC 2595) and AUTH (RFC 5034). The
 * state is a sealed type and each command is dispatched by one exhaustive switch per state
 * (STYLE.md R3). Marks stay in the {@link Maildrop} until QUIT; a dropped connection changes
 * nothing in the store.
 */
final class Pop3Session {
    private static final Logger LOG = System.getLogger(Pop3Session.class.getName());
    private static final int COPY_BUFFER = 16 * 1024;
    /** Flush a long LIST/UIDL listing in pieces of about this size. */
    private static final int LISTING_CHUNK = 32 * 1024;

    /** RFC 1939 §3: AUTHORIZATION, TRANSACTION, UPDATE. */
    sealed interface State {
    }

    /** Before login; {@code user} is what USER said, if it came just before. */
    record Authorization(Optional<String> user) implements State {
        static final Authorization START = new Authorization(Optional.empty());
    }

    record Transaction(Maildrop maildrop) implements State {
    }

    /** After QUIT (whether or not the update succeeded): the session ends. */
    record Update() implements State {
    }

    private final Connection connection;
    private final MailboxStore store;
    private final Pop3Settings settings;
    private final AuthThrottle throttle;
    private final MaildropLocks locks;
    private final DotStuffer stuffer = new DotStuffer(COPY_BUFFER);
    private State state = Authorization.START;
    /** From login to the session's end: the account's deletion ends the session (Accounts.watch). */
    private AccountWatch accountWatch = AccountWatch.NONE;
    private int badCommands;
    /** Why the last SASL exchange ended without credentials: the -ERR to answer it with. */
    private Pop3Reply saslEnded = Pop3Replies.AUTH_CANCELLED;

    Pop3Session(Connection connection, MailboxStore store, Pop3Settings settings, AuthThrottle throttle,
                MaildropLocks locks) {
        this.connection = connection;
        this.store = store;
        this.settings = settings;
        this.throttle = throttle;
        this.locks = locks;
    }

    /** The one try/finally of the session: the maildrop (and its lock) is released on every path. */
    void run() throws IOException {
        try {
            reply(Pop3Replies.greeting(settings.hostname()));
            while (!(state instanceof Update)) {
                String line;
                try {
                    line = connection.readCommand();
                } catch (LineTooLongException e) {
                    LOG.log(Level.INFO, "line too long conn={0}", connection.id());
                    forgetUser();
                    if (!badCommand(Pop3Replies.LINE_TOO_LONG)) {
                        return;
                    }
                    continue;
                }
                if (line == null) {
                    // RFC 1939 §6: without QUIT there is no UPDATE state, so nothing is deleted
                    if (state instanceof Transaction t) {
                        LOG.log(Level.INFO, "dropped without QUIT conn={0} user={1} marks=discarded", connection.id(),
                                t.maildrop().account().address());
                    }
                    return;
                }
                if (!execute(line)) {
                    return;
                }
            }
        } finally {
            try {
                if (state instanceof Transaction t) {
                    t.maildrop().close(); // without QUIT: the marks are dropped, nothing is deleted
                }
            } finally {
                accountWatch.close();
            }
        }
    }

    /** Runs one command line; false when the session must end. */
    private boolean execute(String line) throws IOException {
        Pop3Command command;
        try {
            command = Pop3Parser.parse(line);
        } catch (Pop3SyntaxException e) {
            forgetUser();
            return badCommand(e.reply());
        }
        if (!(command instanceof Pop3Command.Pass)) {
            forgetUser();
        }
        try {
            return switch (state) {
                case Authorization a -> authorization(a, command);
                case Transaction t -> transaction(t.maildrop(), command);
                case Update u -> throw new IllegalStateException("command after QUIT");
            };
        } catch (StoreException e) {
            LOG.log(Level.WARNING, "store failure conn={0} failure={1} detail={2}", connection.id(), e.failure(),
                    e.getMessage());
            reply(Pop3Replies.forFailure(e.failure()));
            return true;
        }
    }

    /**
     * RFC 1939 §7: PASS is valid only immediately after a successful USER, so any other line in
     * between (CAPA, a command refused before login, a bad line) forgets the name. Clients send CAPA
     * before USER, not between (Thunderbird: CAPA, USER, PASS).
     */
    private void forgetUser() {
        if (state instanceof Authorization) {
            state = Authorization.START;
        }
    }

    /** Replies to bad input; false when the client has sent too much of it (STYLE.md R6). */
    private boolean badCommand(Pop3Reply reply) throws IOException {
        if (++badCommands >= settings.maxBadCommands()) {
            LOG.log(Level.INFO, "too many bad commands conn={0} count={1,number,#}", connection.id(), badCommands);
            reply(Pop3Replies.TOO_MANY_ERRORS);
            return false;
        }
        reply(reply);
        return true;
    }

    // --- AUTHORIZATION state (RFC 1939 §4, §7)

    private boolean authorization(Authorization a, Pop3Command command) throws IOException {
        switch (command) {
            case Pop3Command.Capa c -> capabilities();
            case Pop3Command.User u -> {
                if (!plaintextAllowed()) {
                    return badCommand(Pop3Replies.PLAINTEXT_DISABLED);
                }
                state = new Authorization(Optional.of(u.name()));
                reply(Pop3Replies.SEND_PASSWORD);
            }
            case Pop3Command.Pass p -> {
                if (a.user().isEmpty()) {
                    return badCommand(Pop3Replies.USER_FIRST);
                }
                state = Authorization.START;
                login(a.user().get(), p.password(), "USER");
            }
            case Pop3Command.Auth auth -> {
                return authenticate(auth);
            }
            case Pop3Command.Stls s -> {
                if (!connection.canStartTls()) {
                    return badCommand(connection.isSecure() ? Pop3Replies.TLS_ACTIVE : Pop3Replies.TLS_UNAVAILABLE);
                }
                reply(Pop3Replies.BEGIN_TLS);
                // RFC 2595 §4 and CVE-2011-0411: whatever was pipelined after STLS is dropped unread
                int dropped = connection.startTls();
                state = Authorization.START;
                LOG.log(Level.INFO, "tls started conn={0} discarded_bytes={1,number,#}", connection.id(), dropped);
            }
            case Pop3Command.Quit q -> {
                state = new Update();
                reply(Pop3Replies.signingOff());
            }
            case Pop3Command.Apop ap -> {
                return badCommand(Pop3Replies.NO_APOP);
            }
            case Pop3Command.Stat s -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
            case Pop3Command.List l -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
            case Pop3Command.Uidl u -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
            case Pop3Command.Retr r -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
            case Pop3Command.Top t -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
            case Pop3Command.Dele d -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
            case Pop3Command.Noop n -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
            case Pop3Command.Rset r -> {
                return badCommand(Pop3Replies.NEEDS_LOGIN);
            }
        }
        return true;
    }

    /** RFC 2595 §4: no password in the clear unless the policy allows this connection. */
    private boolean plaintextAllowed() {
        return settings.plaintextAuth().allows(connection.isSecure(), connection.isLoopback());
    }

    /** RFC 2449 §5; USER and SASL only where they may be used (RFC 2595 §4), STLS only before it. */
    private void capabilities() throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("TOP");
        lines.add("UIDL");
        lines.add("RESP-CODES");
        lines.add("AUTH-RESP-CODE");
        lines.add("PIPELINING");
        if (state instanceof Authorization) {
            if (plaintextAllowed()) {
                lines.add("USER");
                lines.add("SASL PLAIN LOGIN");
            }
            if (connection.canStartTls()) {
                lines.add("STLS");
            }
        }
        lines.add("IMPLEMENTATION mailstack");
        multiline(Pop3Replies.CAPABILITIES, lines);
    }

    /** RFC 5034 AUTH, PLAIN (RFC 4616) and LOGIN, each with an optional initial response. */
    private boolean authenticate(Pop3Command.Auth auth) throws IOException {
        if (auth.mechanism().isEmpty()) {
            // Not in RFC 5034: the older bare "AUTH" probe (Thunderbird sends it) lists mechanisms
            multiline(Pop3Replies.MECHANISMS, plaintextAllowed() ? List.of("PLAIN", "LOGIN") : List.of());
            return true;
        }
        if (!plaintextAllowed()) {
            return badCommand(Pop3Replies.PLAINTEXT_DISABLED);
        }
        SaslCredentials credentials;
        switch (SaslExchange.run(auth.mechanism().get(), auth.initialResponse(), this::challenge)) {
            case SaslExchange.Outcome.Credentials c -> credentials = c.credentials();
            case SaslExchange.Outcome.Cancelled c -> {
                // an overlong or cancelled answer counts like any bad line (RFC 5034 §4's -ERR),
                // or AUTH with an 8 KB line could be repeated for ever
                return badCommand(saslEnded);
            }
            case SaslExchange.Outcome.Malformed m -> {
                return badCommand(Pop3Replies.AUTH_MALFORMED);
            }
            case SaslExchange.Outcome.UnknownMechanism u -> {
                return badCommand(Pop3Replies.MECHANISM);
            }
        }
        login(credentials.user(), credentials.password(), auth.mechanism().get());
        return true;
    }

    /**
     * Sends a SASL challenge ("+ " base64, RFC 5034 §4) and reads the answer; empty when the
     * client cancelled with "*" or the answer was too long ({@link #saslEnded} says which, for the
     * -ERR the caller sends).
     */
    private Optional<String> challenge(String base64) throws IOException {
        connection.reply(Pop3Replies.challenge(base64));
        String line;
        try {
            line = connection.readContinuation(); // part of the AUTH command, not the next one
        } catch (LineTooLongException e) {
            saslEnded = Pop3Replies.AUTH_RESPONSE_TOO_LONG;
            return Optional.empty();
        }
        if (line == null) {
            throw new EOFException("connection closed during AUTH");
        }
        if (line.strip().equals("*")) {
            saslEnded = Pop3Replies.AUTH_CANCELLED; // RFC 5034 §4: the server MUST reject with -ERR
            return Optional.empty();
        }
        return Optional.of(line.strip());
    }

    /** Checks the password, takes the maildrop lock and the INBOX snapshot (RFC 1939 §4). */
    private void login(String user, String password, String method) throws IOException {
        throttle.awaitTurn(connection); // waits out its network's penalty, on whichever connection
        Optional<Account> account = store.accounts().authenticate(user, password);
        if (account.isEmpty()) {
            throttle.failedLogin(connection, user, password, "protocol=pop3 method=" + method + " user=" + loggable(user));
            reply(Pop3Replies.AUTH_FAILED);
            return;
        }
        throttle.succeededLogin(connection, user);
        Account a = account.get();
        // the lock is let go on every path but this method's return, an Error included
        Optional<Maildrop> opened = locks.open(a.id(), lease -> enterTransaction(a, lease));
        if (opened.isEmpty()) {
            LOG.log(Level.INFO, "maildrop in use conn={0} user={1}", connection.id(), a.address());
            reply(Pop3Replies.IN_USE);
            return;
        }
        Maildrop drop = opened.get();
        state = new Transaction(drop);
        connection.setIdleTimeout(settings.idleTimeout());
        LOG.log(Level.INFO, "login conn={0} user={1} method={2} tls={3} messages={4,number,#} octets={5,number,#}", connection.id(),
                a.address(), method, connection.isSecure(), drop.size(), drop.liveOctets());
        reply(Pop3Replies.loggedIn(a.address(), drop.liveCount(), drop.liveOctets()));
    }

    /**
     * The INBOX snapshot and the watch on the account. When the watch fails (a StoreException,
     * answered -ERR, or an Error) the snapshot is closed again: no one is logged in.
     */
    private Maildrop enterTransaction(Account a, MaildropLocks.Lease lease) {
        Maildrop drop = Maildrop.open(store, a, lease);
        boolean watched = false;
        try {
            accountWatch = store.accounts().watch(a.id(), () -> accountDeleted(a));
            watched = true;
            return drop;
        } finally {
            if (!watched) {
                drop.close();
            }
        }
    }

    /**
     * On the thread that deleted the account, so it must not block (Connection.end does not): the
     * session gets -ERR and ends at once if it waits for a command, else after its command. Its
     * marks are never applied: RFC 1939 §6 applies DELE only at QUIT, which this session will not see.
     */
    private void accountDeleted(Account a) {
        LOG.log(Level.INFO, "account deleted, ending the session conn={0} user={1} marks=discarded", connection.id(),
                a.address());
        connection.end(Pop3Replies.ACCOUNT_DELETED.line());
    }

    /** A client-chosen name for a log line: a SASL name may hold CR/LF or be huge; never a password. */
    private static String loggable(String user) {
        String cut = user.length() > 100 ? user.substring(0, 100) + "..." : user;
        return cut.replaceAll("[\\p{Cntrl}\\s]", "?");
    }

    // --- TRANSACTION state (RFC 1939 §5, §7)

    private boolean transaction(Maildrop drop, Pop3Command command) throws IOException {
        switch (command) {
            case Pop3Command.Stat s -> reply(Pop3Replies.stat(drop.liveCount(), drop.liveOctets()));
            case Pop3Command.List l -> {
                if (l.message().isPresent()) {
                    int n = l.message().get();
                    Optional<Pop3Reply> bad = check(drop, n);
                    if (bad.isPresent()) {
                        return badCommand(bad.get());
                    }
                    reply(Pop3Replies.scanLine(n, Long.toString(drop.message(n).size())));
                } else {
                    listing(drop, Pop3Replies.listing(drop.liveCount(), drop.liveOctets()), false);
                }
            }
            case Pop3Command.Uidl u -> {
                if (u.message().isPresent()) {
                    int n = u.message().get();
                    Optional<Pop3Reply> bad = check(drop, n);
                    if (bad.isPresent()) {
                        return badCommand(bad.get());
                    }
                    reply(Pop3Replies.scanLine(n, drop.uniqueId(n)));
                } else {
                    listing(drop, Pop3Replies.uidlFollows(), true);
                }
            }
            case Pop3Command.Retr r -> {
                Optional<Pop3Reply> bad = check(drop, r.message());
                if (bad.isPresent()) {
                    return badCommand(bad.get());
                }
                // RFC 1939 §7 RETR: the octet count is LIST's, the size before dot-stuffing
                if (send(drop, r.message(), Pop3Replies.retrieving(drop.message(r.message()).size()),
                        DotStuffer.WHOLE_MESSAGE)) {
                    drop.markRetrieved(r.message());
                }
            }
            case Pop3Command.Top t -> {
                Optional<Pop3Reply> bad = check(drop, t.message());
                if (bad.isPresent()) {
                    return badCommand(bad.get());
                }
                send(drop, t.message(), Pop3Replies.TOP_FOLLOWS, t.lines()); // TOP does not mark \Seen
            }
            case Pop3Command.Dele d -> {
                Optional<Pop3Reply> bad = check(drop, d.message());
                if (bad.isPresent()) {
                    return badCommand(bad.get());
                }
                drop.markDeleted(d.message());
                reply(Pop3Replies.deleted(d.message()));
            }
            case Pop3Command.Rset r -> {
                drop.unmarkDeleted();
                reply(Pop3Replies.reset(drop.liveCount(), drop.liveOctets()));
            }
            case Pop3Command.Noop n -> reply(Pop3Replies.NOOP);
            case Pop3Command.Capa c -> capabilities();
            case Pop3Command.Quit q -> quit(drop);
            case Pop3Command.User u -> {
                return badCommand(Pop3Replies.ALREADY_LOGGED_IN);
            }
            case Pop3Command.Pass p -> {
                return badCommand(Pop3Replies.ALREADY_LOGGED_IN);
            }
            case Pop3Command.Auth a -> {
                return badCommand(Pop3Replies.ALREADY_LOGGED_IN);
            }
            case Pop3Command.Apop a -> {
                return badCommand(Pop3Replies.ALREADY_LOGGED_IN);
            }
            case Pop3Command.Stls s -> {
                return badCommand(Pop3Replies.ALREADY_LOGGED_IN); // RFC 2595 §4: STLS only in AUTHORIZATION
            }
        }
        return true;
    }

    /** RFC 1939 §5: a message number must exist and not be marked deleted. */
    private static Optional<Pop3Reply> check(Maildrop drop, int number) {
        if (!drop.exists(number)) {
            return Optional.of(Pop3Replies.NO_SUCH_MESSAGE);
        }
        if (drop.isDeleted(number)) {
            return Optional.of(Pop3Replies.DELETED);
        }
        return Optional.empty();
    }

    /** LIST or UIDL of every message not marked deleted, written in chunks, flushed once at the end. */
    private void listing(Maildrop drop, Pop3Reply first, boolean uidl) throws IOException {
        byte[] prefix = uidl ? drop.uniqueIdPrefix() : null;
        connection.lockOutput();
        try {
            ScanListing listing = new ScanListing(connection.output(), LISTING_CHUNK).status(first);
            for (int n = 1; n <= drop.size(); n++) {
                if (drop.isDeleted(n)) {
                    continue;
                }
                MessageRef m = drop.message(n);
                if (uidl) {
                    listing.uniqueId(n, prefix, m.uid().value());
                } else {
                    listing.size(n, m.size());
                }
            }
            listing.finish();
            flushUnlessPipelined();
        } finally {
            connection.unlockOutput();
        }
    }

    /**
     * Sends a message (RETR) or its top (TOP). The content is opened before the +OK, so a store
     * failure is still a clean -ERR; a failure while streaming ends the session (the client could
     * not tell a cut message from a whole one). True when the message was sent.
     */
    private boolean send(Maildrop drop, int number, Pop3Reply first, long bodyLines) throws IOException {
        InputStream in;
        try {
            in = drop.openContent(number);
        } catch (NoSuchFileException e) {
            LOG.log(Level.WARNING, "message content missing conn={0} uid={1,number,#}", connection.id(),
                    drop.message(number).uid().value());
            reply(Pop3Replies.forFailure(StoreFailure.EXPUNGED));
            return false;
        } catch (IOException e) {
            LOG.log(Level.WARNING, "message content unreadable conn={0} uid={1,number,#} detail={2}", connection.id(),
                    drop.message(number).uid().value(), e.getMessage());
            reply(Pop3Replies.forFailure(StoreFailure.TEMPORARY));
            return false;
        }
        connection.lockOutput();
        try (in) {
            connection.write(first.line() + "\r\n");
            stuffer.copy(in, connection.output(), bodyLines);
            flushUnlessPipelined();
        } finally {
            connection.unlockOutput();
        }
        return true;
    }

    // --- UPDATE state (RFC 1939 §6)

    /** Applies the marks in one store transaction, with no socket I/O while it is open. */
    private void quit(Maildrop drop) throws IOException {
        Maildrop.Update update;
        try {
            update = drop.update();
        } catch (StoreException e) {
            LOG.log(Level.WARNING, "update failed conn={0} user={1} failure={2} detail={3}", connection.id(),
                    drop.account().address(), e.failure(), e.getMessage());
            endSession(drop);
            reply(Pop3Replies.updateFailed(e.failure()));
            return;
        }
        endSession(drop);
        LOG.log(Level.INFO, "quit conn={0} user={1} expunged={2,number,#} seen={3,number,#}", connection.id(), drop.account().address(),
                update.expunged(), update.seen());
        reply(Pop3Replies.signingOff(update.expunged()));
    }

    /** Releases the maildrop (and its lock) before the last reply, so the client may log in again at once. */
    private void endSession(Maildrop drop) {
        state = new Update();
        drop.close();
    }

    // --- output

    private void reply(Pop3Reply reply) throws IOException {
        connection.reply(reply.line());
    }

    /**
     * Sends what was written unless the client has already sent its next command: a client that
     * pipelines RETRs (RFC 2449 §6.6) then gets several messages per write instead of one write per
     * message, as SMTP holds back pipelined replies (RFC 2920 §3.1). Every other reply flushes, so
     * nothing stays behind once the pipelined commands are done.
     */
    private void flushUnlessPipelined() throws IOException {
        if (!connection.reader().hasBufferedLine()) {
            connection.flush();
        }
    }

    private void multiline(Pop3Reply first, List<String> lines) throws IOException {
        StringBuilder sb = new StringBuilder(first.line()).append("\r\n");
        for (String l : lines) {
            sb.append(l).append("\r\n");
        }
        sb.append(".\r\n");
        connection.write(sb.toString());
        connection.flush();
    }
}

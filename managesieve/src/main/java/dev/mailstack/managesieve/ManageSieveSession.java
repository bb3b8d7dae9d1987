package dev.mailstack.managesieve;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.SaslCredentials;
import dev.mailstack.net.SaslExchange;
import dev.mailstack.sieve.SieveException;
import dev.mailstack.sieve.SieveScript;
import dev.mailstack.store.Account;
import dev.mailstack.store.AccountWatch;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.SieveScriptEntry;
import dev.mailstack.store.StoreException;
import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One ManageSieve session (RFC 5804): CAPABILITY, STARTTLS, AUTHENTICATE PLAIN and LOGIN, the
 * script commands and UNAUTHENTICATE. The state is a sealed type dispatched by one exhaustive
 * switch per state (STYLE.md R3); every change goes straight to the store, there is nothing to
 * commit at LOGOUT.
 */
final class ManageSieveSession {
    private static final Logger LOG = System.getLogger(ManageSieveSession.class.getName());
    /**
     * After login an over-size script of up to this many times the limit is read and dropped, and
     * answered NO (QUOTA/MAXSIZE): a user whose script is too big gets a clean error from the client
     * and can go on. Beyond that the declared size is no mistake; reading it would only hand the
     * client our bandwidth, so the session ends with BYE without reading it. Before login nothing
     * over the (small) limit is drained.
     */
    static final int DRAIN_FACTOR = 4;

    /** RFC 5804 §1.2: non-authenticated, authenticated, and after LOGOUT. */
    sealed interface State {
    }

    record NotAuthenticated() implements State {
    }

    record Authenticated(Account account) implements State {
    }

    record LoggedOut() implements State {
    }

    private final Connection connection;
    private final MailboxStore store;
    private final ManageSieveSettings settings;
    private final AuthThrottle throttle;
    private final CommandReader reader;
    private State state = new NotAuthenticated();
    private AccountWatch accountWatch = AccountWatch.NONE;
    private int badCommands;

    ManageSieveSession(Connection connection, MailboxStore store, ManageSieveSettings settings, AuthThrottle throttle) {
        this.connection = connection;
        this.store = store;
        this.settings = settings;
        this.throttle = throttle;
        this.reader = new CommandReader(connection);
    }

    /** The one try/finally of the session. */
    void run() throws IOException {
        try {
            capabilities(); // RFC 5804 §1.7: the greeting is the capability list and an OK
            while (!(state instanceof LoggedOut)) {
                CommandReader.Read read = reader.next(maxStringBytes(), drainLimit());
                boolean goOn = switch (read) {
                    case CommandReader.End e -> false;
                    case CommandReader.Fatal f -> {
                        LOG.log(Level.INFO, "command too long, closing conn={0}", connection.id());
                        reply(f.response());
                        yield false;
                    }
                    case CommandReader.Bad b -> badCommand(b.response());
                    case CommandReader.Tokens t -> execute(t.tokens());
                };
                if (!goOn) {
                    return;
                }
            }
        } finally {
            accountWatch.close();
        }
    }

    private long maxStringBytes() {
        return state instanceof Authenticated ? settings.limits().maxScriptBytes() : settings.preAuthStringBytes();
    }

    private long drainLimit() {
        return state instanceof Authenticated ? (long) DRAIN_FACTOR * settings.limits().maxScriptBytes() : 0;
    }

    private boolean execute(List<Token> tokens) throws IOException {
        ManageSieveCommand command;
        try {
            command = ManageSieveParser.parse(tokens);
        } catch (ManageSieveSyntaxException e) {
            return badCommand(e.response());
        }
        try {
            return switch (state) {
                case NotAuthenticated n -> notAuthenticated(command);
                case Authenticated a -> authenticated(a.account(), command);
                case LoggedOut l -> throw new IllegalStateException("command after LOGOUT");
            };
        } catch (StoreException e) {
            LOG.log(Level.INFO, "store refused conn={0} failure={1} detail={2}", connection.id(), e.failure(), e.getMessage());
            reply(ManageSieveReplies.forFailure(e.failure(), e.getMessage()));
            return true;
        }
    }

    /** Replies to bad input; false when the client has sent too much of it (STYLE.md R6). */
    private boolean badCommand(SieveResponse response) throws IOException {
        if (++badCommands >= settings.maxBadCommands()) {
            LOG.log(Level.INFO, "too many bad commands conn={0} count={1,number,#}", connection.id(), badCommands);
            reply(ManageSieveReplies.TOO_MANY_ERRORS);
            return false;
        }
        reply(response);
        return true;
    }

    // --- non-authenticated state

    private boolean notAuthenticated(ManageSieveCommand command) throws IOException {
        switch (command) {
            case ManageSieveCommand.Capability c -> capabilities();
            case ManageSieveCommand.Noop n -> reply(ManageSieveReplies.noop(n.tag()));
            case ManageSieveCommand.Logout l -> logout();
            case ManageSieveCommand.StartTls s -> {
                if (!connection.canStartTls()) {
                    return badCommand(connection.isSecure() ? ManageSieveReplies.TLS_ACTIVE : ManageSieveReplies.TLS_UNAVAILABLE);
                }
                reply(ManageSieveReplies.BEGIN_TLS);
                // CVE-2011-0411: whatever was pipelined after STARTTLS is dropped unread
                int dropped = connection.startTls();
                LOG.log(Level.INFO, "tls started conn={0} discarded_bytes={1,number,#}", connection.id(), dropped);
                capabilities(); // RFC 5804 §2.2: the capabilities again, as they are under TLS
            }
            case ManageSieveCommand.Authenticate a -> {
                return authenticate(a);
            }
            case ManageSieveCommand.Unauthenticate u -> {
                return badCommand(ManageSieveReplies.NOT_LOGGED_IN);
            }
            case ManageSieveCommand.HaveSpace h -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
            case ManageSieveCommand.PutScript p -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
            case ManageSieveCommand.ListScripts l -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
            case ManageSieveCommand.SetActive s -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
            case ManageSieveCommand.GetScript g -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
            case ManageSieveCommand.DeleteScript d -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
            case ManageSieveCommand.RenameScript r -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
            case ManageSieveCommand.CheckScript c -> {
                return badCommand(ManageSieveReplies.NEEDS_LOGIN);
            }
        }
        return true;
    }

    /** RFC 5804 §1.8/§2.2: no password in the clear unless the policy allows this connection. */
    private boolean plaintextAllowed() {
        return settings.plaintextAuth().allows(connection.isSecure(), connection.isLoopback());
    }

    /** RFC 5804 §1.7: one line per capability, then OK. */
    private void capabilities() throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(capability("IMPLEMENTATION", "mailstack"));
        // §1.7: SASL may be empty; a client then knows to STARTTLS before it can log in
        lines.add(capability("SASL", state instanceof NotAuthenticated && plaintextAllowed() ? "PLAIN LOGIN" : ""));
        lines.add(capability("SIEVE", String.join(" ", SieveScript.EXTENSIONS)));
        if (state instanceof NotAuthenticated && connection.canStartTls()) {
            lines.add("\"STARTTLS\"");
        }
        // §1.7: with enotify (RFC 5435) in SIEVE, its methods must be listed; ours is mailto (RFC 5436)
        lines.add(capability("NOTIFY", "mailto"));
        lines.add(capability("MAXREDIRECTS", Integer.toString(settings.maxRedirects())));
        if (state instanceof Authenticated a) {
            lines.add(capability("OWNER", a.account().address())); // §1.7: after login, whose scripts these are
        }
        lines.add(capability("VERSION", "1.0"));
        lines.add("\"UNAUTHENTICATE\""); // RFC 5804 §2.14.1
        connection.lockOutput();
        try {
            for (String l : lines) {
                connection.write(l + "\r\n");
            }
            connection.write(ManageSieveReplies.DONE.line() + "\r\n");
            connection.flush();
        } finally {
            connection.unlockOutput();
        }
    }

    private static String capability(String name, String value) {
        return SieveStrings.quoted(name) + " " + SieveStrings.quoted(value);
    }

    /** RFC 5804 §2.1 with PLAIN (RFC 4616) and LOGIN, each with an optional initial response. */
    private boolean authenticate(ManageSieveCommand.Authenticate auth) throws IOException {
        if (!plaintextAllowed()) {
            return badCommand(ManageSieveReplies.ENCRYPT_NEEDED);
        }
        SaslCredentials credentials;
        switch (SaslExchange.run(auth.mechanism(), auth.initialResponse(), this::challenge)) {
            case SaslExchange.Outcome.Credentials c -> credentials = c.credentials();
            case SaslExchange.Outcome.Cancelled c -> {
                return true; // cancelled, already answered
            }
            case SaslExchange.Outcome.Malformed m -> {
                return badCommand(ManageSieveReplies.AUTH_MALFORMED);
            }
            case SaslExchange.Outcome.UnknownMechanism u -> {
                return badCommand(ManageSieveReplies.MECHANISM);
            }
        }
        login(credentials, auth.mechanism());
        return true;
    }

    /**
     * RFC 5804 §2.1: the challenge goes as a string on a line of its own; the client answers with
     * one string, or "*" to cancel (answered NO). Empty when cancelled or unusable, already answered.
     */
    private Optional<String> challenge(String base64) throws IOException {
        connection.reply(SieveStrings.quoted(base64));
        CommandReader.Read read = reader.response(settings.preAuthStringBytes(), 0);
        switch (read) {
            case CommandReader.End e -> throw new EOFException("connection closed during AUTHENTICATE");
            case CommandReader.Fatal f -> {
                reply(f.response());
                throw new EOFException("SASL response too long");
            }
            case CommandReader.Bad b -> {
                reply(ManageSieveReplies.AUTH_EXPECTED_STRING);
                return Optional.empty();
            }
            case CommandReader.Tokens t -> {
                if (t.tokens().size() != 1 || !(t.tokens().get(0) instanceof Token.Str s)) {
                    reply(ManageSieveReplies.AUTH_EXPECTED_STRING);
                    return Optional.empty();
                }
                if (s.text().equals("*")) {
                    reply(ManageSieveReplies.AUTH_CANCELLED);
                    return Optional.empty();
                }
                return Optional.of(s.text());
            }
        }
    }

    private void login(SaslCredentials credentials, String method) throws IOException {
        throttle.awaitTurn(connection); // waits out its network's penalty, on whichever connection
        Optional<Account> account = store.accounts().authenticate(credentials.user(), credentials.password());
        if (account.isEmpty()) {
            throttle.failedLogin(connection, credentials.user(), credentials.password(), "protocol=managesieve method=" + method + " user=" + loggable(credentials.user()));
            reply(ManageSieveReplies.AUTH_FAILED);
            return;
        }
        throttle.succeededLogin(connection, credentials.user());
        Account a = account.get();
        accountWatch = store.accounts().watch(a.id(), () -> {
            LOG.log(Level.INFO, "account deleted, ending the session conn={0} user={1}", connection.id(), a.address());
            connection.end(ManageSieveReplies.ACCOUNT_DELETED.line());
        });
        state = new Authenticated(a);
        connection.setIdleTimeout(settings.idleTimeout());
        LOG.log(Level.INFO, "login conn={0} user={1} method={2} tls={3}", connection.id(), a.address(), method,
                connection.isSecure());
        reply(ManageSieveReplies.loggedIn(a.address()));
    }

    /** A client-chosen name for a log line: a SASL name may hold CR/LF or be huge; never a password. */
    private static String loggable(String user) {
        String cut = user.length() > 100 ? user.substring(0, 100) + "..." : user;
        return cut.replaceAll("[\\p{Cntrl}\\s]", "?");
    }

    // --- authenticated state

    private boolean authenticated(Account account, ManageSieveCommand command) throws IOException {
        var scripts = store.sieveScripts();
        switch (command) {
            case ManageSieveCommand.Capability c -> capabilities();
            case ManageSieveCommand.Noop n -> reply(ManageSieveReplies.noop(n.tag()));
            case ManageSieveCommand.Logout l -> logout();
            case ManageSieveCommand.HaveSpace h -> {
                scripts.checkSpace(account.id(), h.name(), h.octets(), settings.limits());
                reply(ManageSieveReplies.HAVE_SPACE);
            }
            case ManageSieveCommand.PutScript p -> {
                Optional<SieveResponse> invalid = check(p.content());
                if (invalid.isPresent()) {
                    reply(invalid.get());
                } else {
                    scripts.put(account.id(), p.name(), p.content(), settings.limits());
                    LOG.log(Level.INFO, "script stored conn={0} user={1} octets={2,number,#}", connection.id(),
                            account.address(), p.content().getBytes(StandardCharsets.UTF_8).length);
                    reply(ManageSieveReplies.STORED);
                }
            }
            case ManageSieveCommand.CheckScript c -> reply(check(c.content()).orElse(ManageSieveReplies.VALID));
            case ManageSieveCommand.ListScripts l -> {
                StringBuilder sb = new StringBuilder();
                for (SieveScriptEntry e : scripts.list(account.id())) {
                    sb.append(SieveStrings.string(e.name())).append(e.active() ? " ACTIVE" : "").append("\r\n");
                }
                sb.append(ManageSieveReplies.DONE.line()).append("\r\n");
                connection.write(sb.toString());
                connection.flush();
            }
            case ManageSieveCommand.SetActive s -> {
                if (s.name().isEmpty()) {
                    scripts.deactivate(account.id()); // RFC 5804 §2.8: "" means no script active
                    reply(ManageSieveReplies.DEACTIVATED);
                } else {
                    scripts.activate(account.id(), s.name());
                    reply(ManageSieveReplies.ACTIVATED);
                }
            }
            case ManageSieveCommand.GetScript g -> {
                Optional<String> text = scripts.get(account.id(), g.name());
                if (text.isEmpty()) {
                    reply(ManageSieveReplies.NO_SUCH_SCRIPT);
                } else {
                    // RFC 5804 §2.9: the script as a literal, always, octet for octet as stored
                    byte[] bytes = text.get().getBytes(StandardCharsets.UTF_8);
                    connection.lockOutput();
                    try {
                        connection.write("{" + bytes.length + "}\r\n");
                        connection.write(bytes);
                        connection.write("\r\n" + ManageSieveReplies.DONE.line() + "\r\n");
                        connection.flush();
                    } finally {
                        connection.unlockOutput();
                    }
                }
            }
            case ManageSieveCommand.DeleteScript d -> {
                scripts.delete(account.id(), d.name());
                reply(ManageSieveReplies.DELETED);
            }
            case ManageSieveCommand.RenameScript r -> {
                scripts.rename(account.id(), r.from(), r.to());
                reply(ManageSieveReplies.RENAMED);
            }
            case ManageSieveCommand.Unauthenticate u -> {
                // RFC 5804 §2.14.1: back to the non-authenticated state on the same connection
                accountWatch.close();
                accountWatch = AccountWatch.NONE;
                LOG.log(Level.INFO, "unauthenticate conn={0} user={1}", connection.id(), account.address());
                state = new NotAuthenticated();
                connection.setIdleTimeout(connection.limits().idleTimeout());
                reply(ManageSieveReplies.UNAUTHENTICATED);
            }
            case ManageSieveCommand.Authenticate a -> {
                return badCommand(ManageSieveReplies.ALREADY_LOGGED_IN);
            }
            case ManageSieveCommand.StartTls s -> {
                return badCommand(ManageSieveReplies.STARTTLS_AFTER_LOGIN);
            }
        }
        return true;
    }

    /** RFC 5804 §2.6 and §2.12: a script that does not parse gets NO with the parser's "line N: ..." text. */
    private static Optional<SieveResponse> check(String content) {
        try {
            SieveScript.parse(content);
            return Optional.empty();
        } catch (SieveException e) {
            return Optional.of(ManageSieveReplies.invalidScript(e.getMessage()));
        }
    }

    private void logout() throws IOException {
        state = new LoggedOut();
        reply(ManageSieveReplies.LOGOUT); // RFC 5804 §2.3: OK, then the server closes
    }

    private void reply(SieveResponse response) throws IOException {
        connection.reply(response.line());
    }
}

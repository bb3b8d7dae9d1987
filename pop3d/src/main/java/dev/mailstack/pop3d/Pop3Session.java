package dev.mailstack.pop3d;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.LineTooLongException;
import dev.mailstack.net.SaslCredentials;
import dev.mailstack.store.Account;
import dev.mailstack.store.Flag;
import dev.mailstack.store.FlagChange;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MailboxView;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import dev.mailstack.store.Uid;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One POP3 session (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH). The maildrop is a
 * snapshot of INBOX taken at login; DELE and RETR only mark it, and QUIT applies the marks in one
 * transaction (STYLE.md R9): a dropped connection changes nothing.
 */
final class Pop3Session {
    private static final Logger LOG = System.getLogger(Pop3Session.class.getName());

    sealed interface State {
    }

    /** Before login; {@code user} is what USER said. */
    record Authorization(Optional<String> user) implements State {
    }

    /** Logged in, with the maildrop snapshot and the marks made so far. */
    record Transaction(Account account, StoreSession store, MailboxView view, List<MessageRef> messages,
                       BitSet deleted, BitSet retrieved) implements State {
    }

    record Update() implements State {
    }

    private final Connection connection;
    private final MailboxStore store;
    private final Pop3Settings settings;
    private final AuthThrottle throttle;
    private final MaildropLocks locks;
    private State state = new Authorization(Optional.empty());
    /** Reused for every RETR and TOP of the session: the file's bytes and the dot-stuffed copy. */
    private final byte[] readBuffer = new byte[16 * 1024];
    private final byte[] stuffedBuffer = new byte[2 * 16 * 1024];
    /** The logged-in maildrop until the session ends, whatever the state: its lock is released in run(). */
    private Transaction held;

    Pop3Session(Connection connection, MailboxStore store, Pop3Settings settings, AuthThrottle throttle,
                MaildropLocks locks) {
        this.connection = connection;
        this.store = store;
        this.settings = settings;
        this.throttle = throttle;
        this.locks = locks;
    }

    void run() throws IOException {
        connection.reply("+OK mailstack POP3 ready");
        try {
            while (!(state instanceof Update)) {
                String line;
                try {
                    line = connection.readCommand();
                } catch (LineTooLongException e) {
                    connection.reply(Pop3Replies.LINE_TOO_LONG);
                    continue;
                }
                if (line == null) {
                    return; // RFC 1939 §6: no UPDATE state without QUIT; nothing is deleted
                }
                execute(line);
            }
        } finally {
            if (held != null) {
                held.view().close();
                locks.unlock(held.account().id());
            }
        }
    }

    private void execute(String line) throws IOException {
        String trimmed = line.strip();
        int sp = trimmed.indexOf(' ');
        String verb = (sp < 0 ? trimmed : trimmed.substring(0, sp)).toUpperCase(Locale.ROOT);
        String arg = sp < 0 ? "" : trimmed.substring(sp + 1).strip();
        try {
            switch (state) {
                case Authorization a -> authorization(a, verb, arg);
                case Transaction t -> transaction(t, verb, arg);
                case Update u -> { }
            }
        } catch (StoreException e) {
            connection.reply(Pop3Replies.forFailure(e));
        }
    }

    // --- AUTHORIZATION state

    private void authorization(Authorization a, String verb, String arg) throws IOException {
        switch (verb) {
            case "CAPA" -> capa();
            case "USER" -> {
                if (!plaintextAllowed()) {
                    connection.reply(Pop3Replies.PLAINTEXT_DISABLED);
                } else if (arg.isEmpty()) {
                    connection.reply("-ERR USER needs a name");
                } else {
                    state = new Authorization(Optional.of(arg));
                    connection.reply("+OK Send your password with PASS");
                }
            }
            case "PASS" -> {
                if (a.user().isEmpty()) {
                    connection.reply(Pop3Replies.USER_FIRST);
                } else {
                    // RFC 1939 §7: the password may contain spaces; take the whole rest of the line
                    login(a.user().get(), arg);
                }
            }
            case "AUTH" -> auth(arg);
            case "STLS" -> {
                if (!connection.canStartTls()) {
                    connection.reply(connection.isSecure() ? "-ERR TLS already active" : "-ERR TLS not available");
                } else {
                    connection.reply("+OK Begin TLS negotiation");
                    connection.startTls();
                    state = new Authorization(Optional.empty());
                }
            }
            case "QUIT" -> {
                connection.reply("+OK mailstack POP3 signing off");
                state = new Update();
            }
            case "NOOP", "STAT", "LIST", "RETR", "DELE", "RSET", "TOP", "UIDL" -> connection.reply(Pop3Replies.WRONG_STATE_AUTH);
            case "APOP" -> connection.reply("-ERR APOP is not offered; use USER/PASS or AUTH over TLS");
            default -> connection.reply(Pop3Replies.UNKNOWN);
        }
    }

    private boolean plaintextAllowed() {
        return settings.plaintextAuth().allows(connection.isSecure(), connection.isLoopback());
    }

    private void capa() throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("+OK Capability list follows");
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
        lines.add(".");
        connection.write(String.join("\r\n", lines) + "\r\n");
        connection.flush();
    }

    private void auth(String arg) throws IOException {
        if (arg.isEmpty()) {
            // RFC 5034 §4: AUTH with no argument lists the mechanisms (as Thunderbird probes)
            connection.write("+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
            connection.flush();
            return;
        }
        if (!plaintextAllowed()) {
            connection.reply(Pop3Replies.PLAINTEXT_DISABLED);
            return;
        }
        String[] parts = arg.split(" +");
        String mech = parts[0].toUpperCase(Locale.ROOT);
        Optional<String> initial = parts.length > 1 ? Optional.of(parts[1]) : Optional.empty();
        switch (mech) {
            case "PLAIN" -> {
                Optional<String> response = initial.isPresent() ? initial : challenge("");
                if (response.isEmpty()) {
                    connection.reply(Pop3Replies.CANCELLED);
                    return;
                }
                SaslCredentials c = SaslCredentials.plain(response.get()).orElse(new SaslCredentials("", ""));
                login(c.user(), c.password());
            }
            case "LOGIN" -> {
                Optional<String> user = initial.isPresent() ? initial : challenge("VXNlcm5hbWU6");
                Optional<String> password = user.isEmpty() ? Optional.empty() : challenge("UGFzc3dvcmQ6");
                if (password.isEmpty()) {
                    connection.reply(Pop3Replies.CANCELLED);
                    return;
                }
                SaslCredentials c = SaslCredentials.login(user.get(), password.get()).orElse(new SaslCredentials("", ""));
                login(c.user(), c.password());
            }
            default -> connection.reply(Pop3Replies.MECHANISM);
        }
    }

    private Optional<String> challenge(String base64) throws IOException {
        connection.reply("+ " + base64);
        String line = connection.reader().readLine();
        if (line == null) {
            throw new java.io.EOFException("connection closed during AUTH");
        }
        return line.strip().equals("*") ? Optional.empty() : Optional.of(line.strip());
    }

    private void login(String user, String password) throws IOException {
        Optional<Account> account = store.accounts().authenticate(user, password);
        if (account.isEmpty()) {
            throttle.failedLogin(connection, "protocol=pop3");
            state = new Authorization(Optional.empty());
            connection.reply(Pop3Replies.AUTH_FAILED);
            return;
        }
        throttle.succeeded(connection.clientAddress());
        Account a = account.get();
        if (!locks.tryLock(a.id())) {
            state = new Authorization(Optional.empty());
            connection.reply(Pop3Replies.IN_USE);
            return;
        }
        try {
            StoreSession session = store.open(a.id());
            MailboxView view = session.select(MailboxName.INBOX);
            List<MessageRef> messages = view.messages();
            held = new Transaction(a, session, view, messages, new BitSet(), new BitSet());
            state = held;
            LOG.log(Level.INFO, "login conn={0} user={1} messages={2}", connection.id(), a.address(), messages.size());
            connection.reply("+OK " + a.address() + " has " + messages.size() + " messages (" + total(messages) + " octets)");
        } catch (StoreException e) {
            locks.unlock(a.id());
            state = new Authorization(Optional.empty());
            throw e;
        }
    }

    private static long total(List<MessageRef> messages) {
        return messages.stream().mapToLong(MessageRef::size).sum();
    }

    // --- TRANSACTION state

    private void transaction(Transaction t, String verb, String arg) throws IOException {
        switch (verb) {
            case "STAT" -> {
                long count = 0;
                long octets = 0;
                for (int i = 0; i < t.messages().size(); i++) {
                    if (!t.deleted().get(i)) {
                        count++;
                        octets += t.messages().get(i).size();
                    }
                }
                connection.reply("+OK " + count + " " + octets);
            }
            case "LIST" -> listing(t, arg, false);
            case "UIDL" -> listing(t, arg, true);
            case "RETR" -> {
                Integer n = number(t, arg);
                if (n != null) {
                    MessageRef r = t.messages().get(n - 1);
                    connection.write("+OK " + r.size() + " octets\r\n");
                    send(t, r, -1);
                    t.retrieved().set(n - 1);
                }
            }
            case "TOP" -> {
                String[] parts = arg.split(" +");
                if (parts.length != 2) {
                    connection.reply("-ERR Usage: TOP message lines");
                    return;
                }
                Integer n = number(t, parts[0]);
                if (n == null) {
                    return;
                }
                long lines;
                try {
                    lines = Long.parseLong(parts[1]);
                    if (lines < 0) {
                        throw new NumberFormatException();
                    }
                } catch (NumberFormatException e) {
                    connection.reply("-ERR Line count must be a number of 0 or more");
                    return;
                }
                connection.write("+OK top of message follows\r\n");
                send(t, t.messages().get(n - 1), lines);
            }
            case "DELE" -> {
                Integer n = number(t, arg);
                if (n != null) {
                    t.deleted().set(n - 1);
                    connection.reply("+OK message " + n + " deleted");
                }
            }
            case "RSET" -> {
                t.deleted().clear();
                connection.reply("+OK maildrop has " + t.messages().size() + " messages (" + total(t.messages()) + " octets)");
            }
            case "NOOP" -> connection.reply("+OK");
            case "QUIT" -> quit(t);
            case "CAPA" -> capa();
            case "USER", "PASS", "AUTH", "APOP", "STLS" -> connection.reply(Pop3Replies.WRONG_STATE_TRANSACTION);
            default -> connection.reply(Pop3Replies.UNKNOWN);
        }
    }

    /** A message number that exists and is not deleted; otherwise replies -ERR and returns null. */
    private Integer number(Transaction t, String arg) throws IOException {
        if (arg.isEmpty()) {
            connection.reply(Pop3Replies.NEED_NUMBER);
            return null;
        }
        int n;
        try {
            n = Integer.parseInt(arg.strip());
        } catch (NumberFormatException e) {
            connection.reply(Pop3Replies.BAD_NUMBER);
            return null;
        }
        if (n < 1 || n > t.messages().size()) {
            connection.reply(Pop3Replies.NO_SUCH_MESSAGE);
            return null;
        }
        if (t.deleted().get(n - 1)) {
            connection.reply(Pop3Replies.DELETED);
            return null;
        }
        return n;
    }

    private void listing(Transaction t, String arg, boolean uidl) throws IOException {
        if (!arg.isEmpty()) {
            Integer n = number(t, arg);
            if (n != null) {
                connection.reply("+OK " + n + " " + value(t, n - 1, uidl));
            }
            return;
        }
        StringBuilder sb = new StringBuilder("+OK\r\n");
        for (int i = 0; i < t.messages().size(); i++) {
            if (!t.deleted().get(i)) {
                sb.append(i + 1).append(' ').append(value(t, i, uidl)).append("\r\n");
            }
            if (sb.length() > 64 * 1024) {
                connection.write(sb.toString());
                sb.setLength(0);
            }
        }
        sb.append(".\r\n");
        connection.write(sb.toString());
        connection.flush();
    }

    /**
     * LIST size or UIDL value. The unique id joins UIDVALIDITY and UID (RFC 1939 §7: up to 70
     * printable characters), so it is stable across sessions and restarts, and changes only if the
     * mailbox is recreated.
     */
    private static String value(Transaction t, int index, boolean uidl) {
        MessageRef r = t.messages().get(index);
        if (!uidl) {
            return Long.toString(r.size());
        }
        return Long.toHexString(t.view().info().uidValidity()) + "-" + Long.toHexString(r.uid().value());
    }

    /** Streams the message dot-stuffed (RFC 1939 §3); {@code bodyLines} >= 0 stops after that many body lines (TOP). */
    private void send(Transaction t, MessageRef r, long bodyLines) throws IOException {
        connection.lockOutput();
        try (InputStream in = t.store().openContent(r)) {
            byte[] buf = readBuffer;
            byte[] out = stuffedBuffer;
            boolean lineStart = true;
            boolean inBody = false;
            boolean previousBlank = false;
            long lineInBody = 0;
            int lastByte = '\n';
            boolean done = false;
            for (int n; !done && (n = in.read(buf)) > 0; ) {
                int o = 0;
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (lineStart) {
                        if (inBody && bodyLines >= 0 && lineInBody >= bodyLines) {
                            done = true;
                            break;
                        }
                        if (b == '.') {
                            out[o++] = '.';
                        }
                        previousBlank = b == '\r' || b == '\n';
                    }
                    out[o++] = b;
                    lastByte = b;
                    lineStart = b == '\n';
                    if (lineStart) {
                        if (inBody) {
                            lineInBody++;
                        } else if (previousBlank) {
                            inBody = true;
                        }
                    }
                }
                connection.write(out, 0, o);
            }
            if (lastByte != '\n') {
                connection.write("\r\n");
            }
            connection.write(".\r\n");
            connection.flush();
        } finally {
            connection.unlockOutput();
        }
    }

    // --- UPDATE state

    private void quit(Transaction t) throws IOException {
        List<Uid> deleted = new ArrayList<>();
        List<Uid> seen = new ArrayList<>();
        for (int i = 0; i < t.messages().size(); i++) {
            MessageRef r = t.messages().get(i);
            if (t.deleted().get(i)) {
                deleted.add(r.uid());
            } else if (t.retrieved().get(i) && !r.flags().has(Flag.SEEN)) {
                seen.add(r.uid());
            }
        }
        try (dev.mailstack.store.Transaction tx = t.store().begin()) {
            if (!seen.isEmpty()) {
                tx.setFlags(t.view().id(), seen, new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.SEEN)));
            }
            if (!deleted.isEmpty()) {
                tx.expunge(t.view().id(), deleted);
            }
            tx.commit();
        } catch (StoreException e) {
            state = new Update();
            connection.reply("-ERR [SYS/TEMP] Some deleted messages not removed: " + e.getMessage());
            return;
        }
        state = new Update();
        LOG.log(Level.INFO, "quit conn={0} user={1} deleted={2}", connection.id(), t.account().address(), deleted.size());
        connection.reply("+OK mailstack POP3 signing off (" + deleted.size() + " messages deleted)");
    }
}

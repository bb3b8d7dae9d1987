package dev.mailstack.imapd;

import dev.mailstack.mime.CanonicalLineEnds;
import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Connection;
import dev.mailstack.net.LineTooLongException;
import dev.mailstack.net.SaslExchange;
import dev.mailstack.store.Account;
import dev.mailstack.store.AccountWatch;
import dev.mailstack.store.CommitResult;
import dev.mailstack.store.FlagChange;
import dev.mailstack.store.FlagsStored;
import dev.mailstack.store.MailboxInfo;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStatus;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.NewMessage;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreFailure;
import dev.mailstack.store.Quota;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import dev.mailstack.store.Uid;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;

/** One IMAP connection (RFC 3501 with the extensions in {@link #capabilities()}): state and dispatch. */
final class ImapSession {
    private static final Logger LOG = System.getLogger(ImapSession.class.getName());

    /** RFC 3501 §3 states, as a sealed type (STYLE.md R3). */
    sealed interface State {
    }

    record NotAuthenticated() implements State {
    }

    record Authenticated(Account user, StoreSession store) implements State {
    }

    record Selected(Account user, StoreSession store, SelectedMailbox mailbox) implements State {
    }

    record Logout() implements State {
    }

    /**
     * A literal the session refused (too big): answered NO [TOOBIG] after the client's bytes are
     * skipped, or, when the session will not read that many bytes, with BYE and the end of the session.
     */
    /**
     * The messages of one APPEND (RFC 3502 MULTIAPPEND) come to at most this many times APPENDLIMIT,
     * which bounds a single message (RFC 7889): all of them are spooled before any is stored.
     */
    static final int MAX_APPEND_COMMAND_LIMITS = 4;

    static final class LiteralRefused extends IOException {
        final boolean endsSession;
        /**
         * The response code of the tagged NO: TOOBIG (RFC 7889 §4), OVERQUOTA (RFC 9208 §5.1) or LIMIT
         * (RFC 5530 §3); null for none.
         */
        final String code;

        LiteralRefused(String message, boolean endsSession) {
            this(message, endsSession, "TOOBIG");
        }

        LiteralRefused(String message, boolean endsSession, String code) {
            super(message);
            this.endsSession = endsSession;
            this.code = code;
        }

        /** An APPEND's message before login: answered as any command of the wrong state is (withUser). */
        static LiteralRefused notAuthenticated() {
            return new LiteralRefused(ImapReplies.NOT_AUTHENTICATED, false, null);
        }

        /** The text after the tag: "NO [code] message". */
        String response() {
            return "NO " + (code == null ? "" : "[" + code + "] ") + getMessage();
        }
    }

    /** Octets of one string literal, and of all of one command's string literals together. */
    static final int MAX_STRING_LITERAL_OCTETS = 64 * 1024;

    private final Connection connection;
    private final ImapSettings settings;
    private final MailboxStore store;
    private final AuthThrottle throttle;
    private final FetchResponder fetcher;
    private final ReentrantLock mailboxLock = new ReentrantLock();
    private State state = new NotAuthenticated();
    /** From login to the session's end: the account's deletion ends the session (Accounts.watch). */
    private AccountWatch accountWatch = AccountWatch.NONE;
    private boolean utf8;
    /** Whether a line of the command being read was not UTF-8 (LineReader.lastLineUtf8). */
    private boolean commandNotUtf8;
    private boolean condstore;
    /** ENABLE QRESYNC (RFC 7162 §3.2.3): expunges go out as VANISHED UID sets. */
    private boolean qresync;
    /**
     * ENABLE IMAP4rev2 (RFC 9051 §6.3.1): the session speaks RFC 9051 from then on, and RFC 3501
     * until then (§6.1.1 lets a server offer both), so an IMAP4rev1 client sees no change. The
     * differences (Appendix E) are switched on this flag alone: UTF-8 mailbox names and strings as
     * with UTF8=ACCEPT, SEARCH answered with ESEARCH, no \Recent, RECENT or UNSEEN in SELECT, RECENT
     * no STATUS item and a LIST response in SELECT.
     */
    private boolean rev2;

    private final SummaryCache summaries;

    ImapSession(Connection connection, ImapSettings settings, MailboxStore store, AuthThrottle throttle,
                SummaryCache summaries) {
        this.summaries = summaries;
        this.connection = connection;
        this.settings = settings;
        this.store = store;
        this.throttle = throttle;
        this.fetcher = new FetchResponder(connection, store, summaries);
    }

    void run() throws IOException {
        untagged("OK [CAPABILITY " + capabilities() + "] mailstack IMAP ready");
        connection.flush();
        try {
            while (!(state instanceof Logout)) {
                String line;
                try {
                    line = connection.readCommand();
                } catch (LineTooLongException e) {
                    connection.reply("* BAD Line too long");
                    skipLiteralOfDroppedLine(e);
                    connection.flush();
                    continue;
                }
                if (line == null) {
                    return;
                }
                handle(line);
                connection.flush();
            }
        } finally {
            try {
                deselect();
            } finally {
                accountWatch.close();
            }
        }
    }

    private void handle(String line) throws IOException {
        try {
            handleCommand(line);
        } catch (LineTooLongException e) {
            // a line after a literal, or one read to skip a refused literal; reading resumes at the next line
            tagged(ImapParser.tagOf(line), "BAD line too long");
            skipLiteralOfDroppedLine(e);
        }
    }

    /** A dropped line that ended in {n+}: its octets come anyway and must not be read as commands. */
    private void skipLiteralOfDroppedLine(LineTooLongException dropped) throws IOException {
        for (LineTooLongException e = dropped; e != null; ) {
            try {
                skipNonSyncLiterals(ImapParser.nonSyncLiteralEnding(e.tail()), " after a line too long");
                e = null;
            } catch (LiteralRefused refused) {
                endSession(refused);
                e = null;
            } catch (LineTooLongException again) {
                e = again; // the skipped literal's command went on in another over-long line
            }
        }
    }

    private void handleCommand(String line) throws IOException {
        commandNotUtf8 = !connection.reader().lastLineUtf8();
        String tag = ImapParser.tagOf(line);
        ImapCommand command;
        ImapParser parser = new ImapParser(line, source());
        try {
            tag = parser.tag();
            command = parser.command();
        } catch (ImapSyntaxException e) {
            // RFC 5182 §2.1: a SEARCH answered BAD leaves $ as it was, even with SAVE
            try {
                skipRestOfCommand(parser);
            } catch (LiteralRefused refused) {
                endSession(refused);
                return;
            }
            tagged(tag, "BAD " + e.getMessage());
            return;
        } catch (LiteralRefused e) {
            if (e.endsSession) {
                endSession(e);
            } else {
                forgetSavedResult(parser.savesResult()); // §2.1: a SAVE answered NO empties $
                tagged(tag, e.response());
            }
            return;
        }
        try {
            if (commandNotUtf8 || parser.literalNotUtf8()) {
                // RFC 3501 §6.4.4: a search in a charset not supported is NO [BADCHARSET], never BAD,
                // whatever its strings' bytes: the client tries again in UTF-8
                Optional<String> charset = unsupportedCharset(command);
                if (charset.isPresent()) {
                    forgetSavedResult(parser.savesResult());
                    tagged(tag, "NO " + ImapReplies.BAD_CHARSET + charset.get());
                    return;
                }
                // Only UTF-8 (and ASCII) is taken in strings (SEARCH's CHARSETS, RFC 6855 §3); a line
                // is decoded with U+FFFD for bad bytes, which made CREATE "x\xFF" the mailbox "x\uFFFD"
                tagged(tag, "BAD " + ImapReplies.NOT_UTF8);
                return;
            }
            execute(tag, command);
        } catch (StoreException e) {
            forgetSavedResult(command instanceof ImapCommand.Search search && search.saves()
                    || command instanceof ImapCommand.Sort sort && sort.saves());
            if (e.failure() == StoreFailure.TEMPORARY) {
                LOG.log(Level.WARNING, "store failure conn={0}: {1}", connection.id(), e.getMessage());
            }
            tagged(tag, "NO " + ImapReplies.forFailure(e));
        } finally {
            if (command instanceof ImapCommand.Append a) {
                a.discard();
            }
        }
    }

    /**
     * RFC 5182 §2.1: a SEARCH (or SORT) with SAVE that fails, with NO or BAD, leaves {@code $}
     * empty, so that a pipelined command using it acts on nothing rather than on an older result.
     */
    private void forgetSavedResult(boolean saving) {
        if (saving && state instanceof Selected s) {
            s.mailbox().forgetSaved();
        }
    }

    private void endSession(LiteralRefused e) throws IOException {
        untagged("BYE " + e.getMessage() + "; closing the connection");
        deselect();
        state = new Logout();
    }

    /** Drops the literals still coming for a command that failed to parse, so the next line is a command. */
    private void skipRestOfCommand(ImapParser parser) throws IOException {
        skipNonSyncLiterals(parser.pendingNonSyncLiteral(), " after a bad command");
    }

    /**
     * Skips a non-synchronizing literal of {@code n} octets (RFC 7888 §4: they come anyway) and the
     * rest of its command, which may end in another; -1 for none. Past what the session is willing
     * to read, the session ends instead.
     */
    private void skipNonSyncLiterals(long first, String why) throws IOException {
        if (first < 0) {
            return;
        }
        // all of it, literals and the lines between, at net.min_data_rate: what is skipped could
        // otherwise be trickled for days, before login too
        try (Connection.Payload payload = connection.payload()) {
            for (long n = first; n >= 0; ) {
                if (n > skippableLiteral()) {
                    throw new LiteralRefused("literal of " + n + " bytes" + why + " is over the limit of "
                            + skippableLiteral(), true);
                }
                payload.reader().skip(n);
                // at the payload's rate; with net.min_data_rate = 0, whole within the idle timeout
                String rest = connection.readContinuation();
                if (rest == null) {
                    return;
                }
                n = new ImapParser(rest, source()).pendingNonSyncLiteral();
            }
        }
    }

    /**
     * Reads a literal's octets at net.min_data_rate (Postfix's smtpd_min_data_rate), not only an idle
     * timeout per read: a 64 MiB APPEND, or a login's literal, trickled a byte per idle period would
     * hold the session and a connection permit for days.
     */
    private void readLiteral(long size, java.io.OutputStream out) throws IOException {
        try (Connection.Payload payload = connection.payload()) {
            payload.reader().readExactly(size, out);
        }
    }

    private ImapParser.Source source() {
        return new ImapParser.Source() {
            /** Octets of this command's string literals so far, all held in memory until it runs. */
            private long stringOctets;

            @Override
            public String nextLine() throws IOException {
                String next = connection.readContinuation(); // whole within the idle timeout, as the line before the literal
                commandNotUtf8 |= !connection.reader().lastLineUtf8();
                return next;
            }

            @Override
            public byte[] literal(long size, boolean synchronizing) throws IOException {
                long limit = state instanceof NotAuthenticated ? settings.preAuthLiteralLimit() : MAX_STRING_LITERAL_OCTETS;
                refuseIfOver(size, limit, synchronizing);
                // A command may carry any number of strings (LIST patterns, SEARCH keys): together they
                // are bounded too, as Dovecot counts literals in imap_max_line_length (64 KiB).
                refuseIfOver(size, stringOctets + size, MAX_STRING_LITERAL_OCTETS, synchronizing,
                        "string literals of " + (stringOctets + size) + " bytes in one command are over the limit of "
                                + MAX_STRING_LITERAL_OCTETS);
                stringOctets += size;
                continueLiteral(synchronizing);
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) size);
                readLiteral(size, out);
                return out.toByteArray();
            }

            /** Octets of this command's messages so far, and the room the account's quota leaves (read once). */
            private long spooledOctets;
            private OptionalLong room;

            @Override
            public MessageSpool.Spooled messageLiteral(long size, boolean synchronizing, boolean literal8)
                    throws IOException {
                if (state instanceof NotAuthenticated) {
                    // RFC 3501 §6.3.11: APPEND belongs to the authenticated state, so before login its message
                    // is refused as it is announced: no "+" for a synchronizing literal, and a non-synchronizing
                    // one, which comes anyway (RFC 7888 §4), is skipped within the pre-login limit, never spooled
                    if (!synchronizing) {
                        skipNonSyncLiterals(size, "");
                    }
                    throw LiteralRefused.notAuthenticated();
                }
                long limit = settings.appendLimit();
                refuseIfOver(size, limit, synchronizing);
                refuseIfPastQuota(size, synchronizing);
                // a spool whose file cannot be made (a full disk) fails at finish, below: a NO, not a dropped session
                try (MessageSpool spool = store.spool()) {
                    continueLiteral(synchronizing);
                    if (literal8) {
                        readLiteral(size, spool);
                    } else {
                        // Scripts append with LF line ends; mail is stored and served with CRLF (RFC 3501 §2.3.1)
                        CanonicalLineEnds crlf = new CanonicalLineEnds(spool);
                        readLiteral(size, crlf);
                        crlf.finish();
                    }
                    MessageSpool.Spooled spooled;
                    try {
                        spooled = spool.finish();
                    } catch (MessageSpool.WriteFailed e) {
                        LOG.log(Level.WARNING, "cannot store an APPEND conn={0}: {1}", connection.id(), e.getMessage());
                        skipNonSyncLiterals(0, " after a message the server could not store");
                        throw noRoom();
                    }
                    if (spooled.size() > limit) {
                        // bare LFs made CRLF can take a message past the limit its literal was under
                        spooled.discard();
                        skipNonSyncLiterals(0, " after a message over the limit");
                        throw new LiteralRefused("message of " + spooled.size() + " bytes with CRLF line ends is over"
                                + " the limit of " + limit, false);
                    }
                    return spooled;
                }
            }

            /**
             * RFC 3502 §6.3.11: the messages of one APPEND are appended together or not at all, so once
             * they pass the room the account's quota leaves, none can be: the literal is refused as it is
             * announced, before it is spooled, and one command cannot fill the disk with a thousand
             * messages the commit would refuse. The commit checks again (bare LFs made CRLF grow a message).
             */
            private void refuseIfPastQuota(long size, boolean synchronizing) throws IOException {
                StoreSession user = switch (state) {
                    case Authenticated a -> a.store();
                    case Selected sel -> sel.store();
                    default -> null;
                };
                if (user == null) {
                    return;
                }
                // R6: with no quota, the disk would be the only bound on what one command spools
                long most = settings.appendLimit() * MAX_APPEND_COMMAND_LIMITS;
                if (spooledOctets + size > most) {
                    if (!synchronizing) {
                        skipNonSyncLiterals(size, "");
                    }
                    throw new LiteralRefused("the messages of one APPEND come to at most " + most + " bytes ("
                            + MAX_APPEND_COMMAND_LIMITS + " times APPENDLIMIT); append the rest in another", false, "LIMIT");
                }
                if (room == null) {
                    Quota quota = user.quota();
                    room = quota.limitBytes().isEmpty() ? OptionalLong.empty()
                            : OptionalLong.of(Math.max(0, quota.limitBytes().getAsLong() - quota.usedBytes()));
                }
                if (room.isPresent() && spooledOctets + size > room.getAsLong()) {
                    if (!synchronizing) {
                        skipNonSyncLiterals(size, "");
                    }
                    throw new LiteralRefused("the message" + (spooledOctets > 0 ? "s" : "") + " would take the mailbox past its"
                            + " quota (" + room.getAsLong() + " bytes left)", false, "OVERQUOTA");
                }
                if (!store.diskSpace().hasRoomFor(size)) { // the messages before it are spooled already (in memory when small)
                    if (!synchronizing) {
                        skipNonSyncLiterals(size, "");
                    }
                    throw noRoom();
                }
                spooledOctets += size;
            }
        };
    }

    /** The server's disk is (nearly) full: Dovecot's answer to ENOSPC, which Thunderbird shows as it is. */
    private static LiteralRefused noRoom() {
        return new LiteralRefused("Not enough disk space on the server; try again later", false, "OVERQUOTA");
    }

    private void refuseIfOver(long size, long limit, boolean synchronizing) throws IOException {
        refuseIfOver(size, size, limit, synchronizing, "literal of " + size + " bytes is over the limit of " + limit);
    }

    /** Refuses the literal of {@code size} octets when {@code counted} (it, or it and those before it) passes {@code limit}. */
    private void refuseIfOver(long size, long counted, long limit, boolean synchronizing, String why) throws IOException {
        if (counted <= limit) {
            return;
        }
        if (!synchronizing) {
            // RFC 7888 §4: the bytes of a non-synchronizing literal come anyway. Skipping them keeps the session in
            // step, but only for as much as a logged-in user may APPEND; beyond that reading is unbounded work.
            skipNonSyncLiterals(size, "");
        }
        throw new LiteralRefused(why, false);
    }

    /** The most octets of an unwanted non-synchronizing literal the session reads to stay in step. */
    private long skippableLiteral() {
        return state instanceof NotAuthenticated ? settings.preAuthLiteralLimit() : settings.appendLimit();
    }

    private void continueLiteral(boolean synchronizing) throws IOException {
        if (synchronizing) {
            connection.write("+ Ready for literal data\r\n");
            connection.flush();
        }
    }

    String capabilities() {
        StringBuilder caps = new StringBuilder("IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT BINARY"
                + " CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS UTF8=ACCEPT CONDSTORE QRESYNC ESEARCH"
                + " SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES" // RFC 5256, 5957, 5267 §3
                + " STATUS=SIZE COMPRESS=DEFLATE QUOTA QUOTA=RES-STORAGE WITHIN MULTIAPPEND OBJECTID SAVEDATE"
                + " PREVIEW SEARCHRES APPENDLIMIT=" // RFC 8970, RFC 5182
                + settings.appendLimit());
        if (state instanceof NotAuthenticated) {
            if (connection.canStartTls()) {
                caps.append(" STARTTLS");
            }
            if (plaintextAllowed()) {
                caps.append(" AUTH=PLAIN AUTH=LOGIN");
            } else {
                caps.append(" LOGINDISABLED"); // RFC 3501 §6.2.3
            }
        }
        return caps.toString();
    }

    private boolean plaintextAllowed() {
        return settings.plaintextAuth().allows(connection.isSecure(), connection.isLoopback());
    }

    // --- dispatch

    private void execute(String tag, ImapCommand command) throws IOException {
        switch (command) {
            case ImapCommand.Capability c -> {
                untagged("CAPABILITY " + capabilities());
                tagged(tag, "OK CAPABILITY completed");
            }
            case ImapCommand.Noop n -> {
                sync(true);
                tagged(tag, "OK NOOP completed");
            }
            case ImapCommand.Logout l -> {
                untagged("BYE mailstack logging out");
                tagged(tag, "OK LOGOUT completed");
                deselect();
                state = new Logout();
            }
            case ImapCommand.StartTls s -> startTls(tag);
            case ImapCommand.Login l -> login(tag, l.user(), l.password());
            case ImapCommand.Authenticate a -> authenticate(tag, a);
            case ImapCommand.Id i -> {
                untagged("ID (\"name\" \"mailstack\" \"version\" \"0.1.0\")");
                tagged(tag, "OK ID completed");
            }
            case ImapCommand.Select s -> select(tag, s);
            case ImapCommand.Create c -> withUser(tag, u -> {
                // RFC 3501 §6.3.3: a trailing separator only says children are planned.
                String wire = c.mailbox().endsWith("/") ? c.mailbox().substring(0, c.mailbox().length() - 1) : c.mailbox();
                MailboxInfo created = u.create(name(wire), Optional.empty());
                tagged(tag, "OK [MAILBOXID (" + created.objectId() + ")] CREATE completed"); // RFC 8474 §4.1
            });
            case ImapCommand.Delete d -> withUser(tag, u -> {
                MailboxName name = name(d.mailbox());
                // RFC 9051 §6.3.4: a parent is refused with [HASCHILDREN] (the store keeps no \Noselect names)
                u.delete(name);
                if (state instanceof Selected s && s.mailbox().view().info().name().equals(name)) {
                    deselect();
                    state = new Authenticated(s.user(), s.store());
                }
                tagged(tag, "OK DELETE completed");
            });
            case ImapCommand.Rename r -> withUser(tag, u -> {
                u.rename(name(r.from()), name(r.to()));
                tagged(tag, "OK RENAME completed");
            });
            case ImapCommand.Subscribe s -> withUser(tag, u -> {
                u.subscribe(name(s.mailbox()), s.subscribe());
                tagged(tag, "OK " + (s.subscribe() ? "SUBSCRIBE" : "UNSUBSCRIBE") + " completed");
            });
            case ImapCommand.ListMailboxes l -> withUser(tag, u -> {
                if (!refusesRecent(tag, l.statusItems())) {
                    list(tag, u, l);
                }
            });
            case ImapCommand.Status s -> withUser(tag, u -> {
                if (refusesRecent(tag, s.items())) {
                    return;
                }
                if (s.items().contains(StatusItem.HIGHESTMODSEQ)) {
                    enableCondstore();
                }
                untagged("STATUS " + ImapSyntax.mailbox(name(s.mailbox()).path(), utf8) + " " + status(u, name(s.mailbox()), s.items()));
                tagged(tag, "OK STATUS completed");
            });
            case ImapCommand.Append a -> withUser(tag, u -> append(tag, u, a));
            case ImapCommand.Idle i -> withUser(tag, u -> idle(tag));
            case ImapCommand.Namespace n -> withUser(tag, u -> {
                untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
                tagged(tag, "OK NAMESPACE completed");
            });
            case ImapCommand.Enable e -> withUser(tag, u -> {
                List<String> enabled = new ArrayList<>();
                for (String cap : e.capabilities()) {
                    if (cap.equals("UTF8=ACCEPT")) {
                        utf8 = true;
                        enabled.add(cap);
                    } else if (cap.equals("CONDSTORE")) {
                        condstore = true;
                        enabled.add(cap);
                    } else if (cap.equals("QRESYNC")) {
                        enableCondstore(); // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE
                        qresync = true;
                        enabled.add(cap);
                    } else if (cap.equals("IMAP4REV2") && !(state instanceof Selected)) {
                        // RFC 9051 §6.3.1: valid in the authenticated state only; a mailbox selected
                        // under IMAP4rev1 has handed out \Recent, which rev2 cannot take back
                        rev2 = true;
                        utf8 = true; // RFC 9051 holds all of UTF8=ACCEPT (draft-ietf-extra-6855bis §1)
                        enabled.add("IMAP4rev2");
                    }
                }
                untagged("ENABLED" + (enabled.isEmpty() ? "" : " " + String.join(" ", enabled)));
                tagged(tag, "OK ENABLE completed");
            });
            // RFC 4978; Connection.flush never sends an empty deflate block, which Thunderbird takes for EOF.
            case ImapCommand.Compress c -> withUser(tag, u -> {
                if (connection.isCompressed()) {
                    tagged(tag, "NO [COMPRESSIONACTIVE] Compression is already on");
                } else if (!c.mechanism().equals("DEFLATE")) {
                    tagged(tag, "BAD Only COMPRESS DEFLATE is offered");
                } else {
                    tagged(tag, "OK DEFLATE active");
                    connection.flush();
                    connection.compress(); // RFC 4978 §3: compression starts right after the OK
                }
            });
            case ImapCommand.GetQuotaRoot q -> withUser(tag, u -> {
                MailboxName name = name(q.mailbox());
                u.require(name); // RFC 9208 §4.1.2: NO for a mailbox that does not exist
                Optional<QuotaRoot> root = QuotaRoot.of(u.quota());
                untagged("QUOTAROOT " + ImapSyntax.mailbox(name.path(), utf8)
                        + (root.isPresent() ? " " + ImapSyntax.nstring(QuotaRoot.NAME) : ""));
                if (root.isPresent()) {
                    untagged(root.get().response());
                }
                tagged(tag, "OK GETQUOTAROOT completed");
            });
            case ImapCommand.GetQuota q -> withUser(tag, u -> {
                Optional<QuotaRoot> root = QuotaRoot.of(u.quota());
                if (root.isEmpty() || !q.root().equals(QuotaRoot.NAME)) {
                    // not the root as the client sent it: a text holds no literal, nor a line end (RFC 3501 §9)
                    tagged(tag, "NO [NONEXISTENT] No such quota root"
                            + (root.isEmpty() ? "; this account has no quota" : "; the account's root is \"" + QuotaRoot.NAME + "\""));
                    return;
                }
                untagged(root.get().response());
                tagged(tag, "OK GETQUOTA completed");
            });
            // RFC 9208 §4.1.3: no QUOTASET capability, so limits are the administrator's (mailstack user quota)
            case ImapCommand.SetQuota q -> withUser(tag, u -> tagged(tag, "NO [NOPERM] Quotas are set by the server's administrator"));
            case ImapCommand.Check c -> withMailbox(tag, m -> {
                sync(true);
                tagged(tag, "OK CHECK completed");
            });
            case ImapCommand.Close c -> withMailbox(tag, m -> {
                Selected s = (Selected) state;
                if (!m.readOnly()) {
                    expungeDeleted(s, Optional.empty());
                }
                deselect();
                state = new Authenticated(s.user(), s.store());
                tagged(tag, "OK CLOSE completed");
            });
            case ImapCommand.Unselect u -> withMailbox(tag, m -> {
                Selected s = (Selected) state;
                deselect();
                state = new Authenticated(s.user(), s.store());
                tagged(tag, "OK UNSELECT completed");
            });
            case ImapCommand.Expunge e -> withMailbox(tag, m -> {
                if (m.readOnly()) {
                    tagged(tag, "NO " + ImapReplies.READ_ONLY);
                    return;
                }
                expungeDeleted((Selected) state, e.uids());
                sync(true);
                tagged(tag, "OK EXPUNGE completed");
            });
            case ImapCommand.Search s -> withMailbox(tag, m -> search(tag, m, s));
            case ImapCommand.Sort s -> withMailbox(tag, m -> sort(tag, m, s));
            case ImapCommand.ThreadMessages t -> withMailbox(tag, m -> thread(tag, m, t));
            case ImapCommand.Fetch f -> withMailbox(tag, m -> fetch(tag, m, f));
            case ImapCommand.Store s -> withMailbox(tag, m -> storeFlags(tag, m, s));
            case ImapCommand.Copy c -> withMailbox(tag, m -> copy(tag, m, c));
        }
    }

    private interface UserWork {
        void run(StoreSession store) throws IOException;
    }

    private interface MailboxWork {
        void run(SelectedMailbox mailbox) throws IOException;
    }

    private void withUser(String tag, UserWork work) throws IOException {
        switch (state) {
            case Authenticated a -> work.run(a.store());
            case Selected s -> work.run(s.store());
            case NotAuthenticated n -> tagged(tag, "NO " + ImapReplies.NOT_AUTHENTICATED);
            case Logout l -> tagged(tag, "BAD logging out");
        }
    }

    private void withMailbox(String tag, MailboxWork work) throws IOException {
        switch (state) {
            case Selected s -> work.run(s.mailbox());
            case Authenticated a -> tagged(tag, "NO " + ImapReplies.NOT_SELECTED);
            case NotAuthenticated n -> tagged(tag, "NO " + ImapReplies.NOT_AUTHENTICATED);
            case Logout l -> tagged(tag, "BAD logging out");
        }
    }

    private MailboxName name(String wire) {
        return new MailboxName(decoded(wire));
    }

    /**
     * A mailbox name or LIST pattern as sent: modified UTF-7 unless UTF8=ACCEPT (RFC 3501 §5.1.3),
     * in NFC as the store keeps names (RFC 6855 §3), so that a pattern matches what it spells.
     */
    private String decoded(String wire) {
        try {
            String text = utf8 ? wire : ModifiedUtf7.decode(wire);
            return java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC);
        } catch (IllegalArgumentException e) {
            throw new StoreException(dev.mailstack.store.StoreFailure.INVALID_NAME, e.getMessage());
        }
    }

    // --- authentication

    private void startTls(String tag) throws IOException {
        if (!(state instanceof NotAuthenticated)) {
            tagged(tag, "BAD STARTTLS only before login");
            return;
        }
        if (!connection.canStartTls()) {
            tagged(tag, connection.isSecure() ? "BAD TLS is already active" : "NO TLS is not available");
            return;
        }
        tagged(tag, "OK Begin TLS negotiation now");
        connection.flush();
        connection.startTls();
    }

    private void login(String tag, String user, String password) throws IOException {
        if (!(state instanceof NotAuthenticated)) {
            tagged(tag, "BAD Already logged in");
            return;
        }
        if (!plaintextAllowed()) {
            tagged(tag, "NO " + ImapReplies.PRIVACY_REQUIRED);
            return;
        }
        completeLogin(tag, user, password);
    }

    private void completeLogin(String tag, String user, String password) throws IOException {
        throttle.awaitTurn(connection); // waits out its network's penalty, on whichever connection
        Optional<Account> account = store.accounts().authenticate(user, password);
        if (account.isEmpty()) {
            throttle.failedLogin(connection, user, password, "protocol=imap");
            tagged(tag, "NO " + ImapReplies.AUTH_FAILED);
            return;
        }
        throttle.succeededLogin(connection, user);
        Account a = account.get();
        // the watch first: if it fails (a StoreException, answered NO), no one is logged in
        accountWatch = store.accounts().watch(a.id(), () -> accountDeleted(a));
        state = new Authenticated(a, store.open(a.id()));
        connection.setIdleTimeout(settings.authenticatedIdle());
        LOG.log(Level.INFO, "login conn={0} user={1}", connection.id(), a.address());
        tagged(tag, "OK [CAPABILITY " + capabilities() + "] Logged in");
    }

    /**
     * On the thread that deleted the account, so it must not block (Connection.end does not): the
     * session says BYE at once if it waits for the client (IDLE included), else after its command.
     * RFC 3501 §7.1.5 lets BYE come at any time; the client learns why instead of seeing NO after NO.
     */
    private void accountDeleted(Account user) {
        LOG.log(Level.INFO, "account deleted, ending the session conn={0} user={1}", connection.id(), user.address());
        connection.end("* BYE " + ImapReplies.ACCOUNT_DELETED);
    }

    private void authenticate(String tag, ImapCommand.Authenticate a) throws IOException {
        if (!(state instanceof NotAuthenticated)) {
            tagged(tag, "BAD Already logged in");
            return;
        }
        if (!plaintextAllowed()) {
            tagged(tag, "NO " + ImapReplies.PRIVACY_REQUIRED);
            return;
        }
        switch (SaslExchange.run(a.mechanism(), a.initialResponse(), this::challenge)) {
            case SaslExchange.Outcome.Credentials c -> completeLogin(tag, c.credentials().user(), c.credentials().password());
            case SaslExchange.Outcome.Cancelled c -> tagged(tag, "BAD Authentication cancelled");
            case SaslExchange.Outcome.Malformed m -> completeLogin(tag, "", ""); // fails, and counts, as a bad password does
            case SaslExchange.Outcome.UnknownMechanism u -> tagged(tag, "NO [CANNOT] Unsupported mechanism; use PLAIN or LOGIN");
        }
    }

    private Optional<String> challenge(String base64) throws IOException {
        connection.write("+ " + base64 + "\r\n");
        connection.flush();
        String line = connection.readContinuation(); // RFC 3501 §6.2.2: the client's response is a line of its own
        if (line == null) {
            throw new java.io.EOFException("connection closed during AUTHENTICATE");
        }
        return line.equals("*") ? Optional.empty() : Optional.of(line.strip());
    }

    // --- mailboxes

    private void select(String tag, ImapCommand.Select s) throws IOException {
        StoreSession user;
        Account account;
        switch (state) {
            case Authenticated a -> {
                user = a.store();
                account = a.user();
            }
            case Selected sel -> {
                user = sel.store();
                account = sel.user();
            }
            default -> {
                tagged(tag, "NO " + ImapReplies.NOT_AUTHENTICATED);
                return;
            }
        }
        if (s.qresync().isPresent() && !qresync) {
            tagged(tag, "BAD QRESYNC parameter without ENABLE QRESYNC first (RFC 7162 section 3.2.5)");
            return;
        }
        if (state instanceof Selected) {
            untagged("OK [CLOSED] Previous mailbox closed"); // RFC 7162 §3.2.11: a QRESYNC server always says so
        }
        deselect();
        state = new Authenticated(account, user);
        MailboxName name = name(s.mailbox());
        // for IMAP4rev2's LIST response, read before the view opens: a failure then leaves nothing open
        boolean children = rev2 && user.hasChildren(name);
        var view = user.select(name);
        SelectedMailbox m;
        try {
            // an IMAP4rev2 session claims no \Recent: it could not tell the client, and a rev1 session still can
            m = new SelectedMailbox(user, view, s.readOnly(), settings.recent() && !rev2, !rev2);
        } catch (RuntimeException e) {
            view.close(); // an open view holds its change subscription and the flag log's pruning
            throw e;
        }
        condstore |= s.condstore();
        state = new Selected(account, user, m);
        MailboxInfo info = view.info();
        untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Junk $NotJunk)");
        untagged("OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted");
        untagged(m.exists() + " EXISTS");
        if (rev2) {
            // RFC 9051 §6.3.2: a LIST response with the mailbox's name and accurate attributes; no
            // RECENT (the \Recent flag is gone) and no UNSEEN code (a client asks SEARCH UNSEEN)
            untagged("LIST (" + String.join(" ", MailboxLister.attributes(info, children)) + ") \"/\" "
                    + ImapSyntax.mailbox(info.name().path(), utf8));
        } else {
            untagged(m.recentCount() + " RECENT");
            for (int i = 1; i <= m.exists(); i++) {
                if (!m.at(i).flags().has(dev.mailstack.store.Flag.SEEN)) {
                    untagged("OK [UNSEEN " + i + "] First unseen");
                    break;
                }
            }
        }
        untagged("OK [UIDVALIDITY " + info.uidValidity() + "] UIDs valid");
        long uidNext = Math.max(info.uidNext(), m.maxUid() + 1);
        untagged("OK [UIDNEXT " + uidNext + "] Predicted next UID");
        untagged("OK [HIGHESTMODSEQ " + view.highestModSeq() + "] Highest");
        untagged("OK [MAILBOXID (" + info.objectId() + ")] Ok"); // RFC 8474 §4.2
        if (s.qresync().isPresent() && s.qresync().get().uidValidity() == info.uidValidity()) {
            resynchronize(m, s.qresync().get(), uidNext);
        }
        tagged(tag, "OK [" + (s.readOnly() ? "READ-ONLY" : "READ-WRITE") + "] " + (s.readOnly() ? "EXAMINE" : "SELECT")
                + " completed");
    }

    /**
     * RFC 7162 §3.2.5.1: what changed since the client last had the mailbox: the UIDs it knew that
     * are gone, then the flags of those it knew that changed after its modseq.
     */
    private void resynchronize(SelectedMailbox m, ImapCommand.Qresync q, long uidNext) throws IOException {
        SequenceSet known = q.knownUids().orElse(new SequenceSet(List.of(new SequenceSet.Range(1, SequenceSet.STAR))));
        String gone = m.vanished(known, uidNext - 1, uidNext);
        if (!gone.isEmpty()) {
            untagged("VANISHED (EARLIER) " + gone);
        }
        for (int msn : m.resolve(known, true)) { // a binary search per range, not every range per message
            if (m.at(msn).modSeq() > q.modSeq()) {
                connection.write(m.flagsFetch(msn, true) + "\r\n");
            }
        }
    }

    private void deselect() {
        if (state instanceof Selected s) {
            s.mailbox().view().close();
        }
    }

    private void list(String tag, StoreSession user, ImapCommand.ListMailboxes l) throws IOException {
        String verb = l.lsub() ? "LSUB" : "LIST";
        if (l.patterns().size() == 1 && l.patterns().get(0).isEmpty()) {
            untagged(verb + " (\\Noselect) \"/\" \"\""); // RFC 3501 §6.3.8: the hierarchy delimiter
            tagged(tag, "OK " + verb + " completed");
            return;
        }
        List<MailboxPattern> patterns = new ArrayList<>();
        String reference = decoded(l.reference());
        for (String p : new java.util.LinkedHashSet<>(l.patterns())) { // one of each: a command may repeat a pattern thousands of times
            patterns.add(MailboxPattern.of(reference, decoded(p)));
        }
        MailboxLister lister = new MailboxLister(user.list(),
                MailboxLister.bySubscription(l) ? user.subscriptions() : List.of(), l);
        for (MailboxLister.Listed listed : lister.list(patterns)) {
            // RFC 5819 §2: no STATUS for a name that is no mailbox (\NonExistent); one deleted since
            // the listing was read is listed, without STATUS, rather than failing the whole command
            Optional<String> status = Optional.empty();
            if (!l.statusItems().isEmpty() && listed.statusOf().isPresent()) {
                try {
                    status = Optional.of(status(user, listed.statusOf().get(), l.statusItems()));
                } catch (StoreException e) {
                    if (e.failure() != StoreFailure.NOT_FOUND) {
                        throw e;
                    }
                }
            }
            // RFC 5258 §3.5: CHILDINFO names the selection option a descendant meets; SUBSCRIBED is
            // the only one RECURSIVEMATCH is accepted with
            untagged(verb + " (" + String.join(" ", listed.attributes()) + ") \"/\" " + ImapSyntax.mailbox(listed.path(), utf8)
                    + (listed.childInfo() ? " (\"CHILDINFO\" (\"SUBSCRIBED\"))" : ""));
            if (status.isPresent()) {
                untagged("STATUS " + ImapSyntax.mailbox(listed.path(), utf8) + " " + status.get());
            }
        }
        tagged(tag, "OK " + verb + " completed");
    }

    /**
     * RFC 9051 §6.3.11 and Appendix E: IMAP4rev2 has no RECENT status item, so its grammar makes
     * asking for one a syntax error, answered BAD as any unknown item is; rev1 sessions still get it.
     */
    private boolean refusesRecent(String tag, List<StatusItem> items) throws IOException {
        if (rev2 && items.contains(StatusItem.RECENT)) {
            tagged(tag, "BAD unknown STATUS item RECENT (IMAP4rev2 has no \\Recent)");
            return true;
        }
        return false;
    }

    private String status(StoreSession user, MailboxName name, List<StatusItem> items) {
        MailboxStatus st = user.status(name, settings.recent() && items.contains(StatusItem.RECENT));
        List<String> out = new ArrayList<>();
        for (StatusItem item : items) {
            out.add(item.wire() + " " + switch (item) {
                case MESSAGES -> st.messages();
                case RECENT -> st.recent();
                case UIDNEXT -> st.info().uidNext();
                case UIDVALIDITY -> st.info().uidValidity();
                case UNSEEN -> st.unseen();
                case HIGHESTMODSEQ -> st.info().highestModSeq();
                case SIZE -> st.totalSize();
                case DELETED -> st.deleted();
                // RFC 7889 §3: the limit of this mailbox; one for all of them here, the one CAPABILITY
                // announces, so never NIL (which would say there is none)
                case APPENDLIMIT -> settings.appendLimit();
                // RFC 9208 §4.2: what EXPUNGE would give back, in the STORAGE resource's units
                case DELETED_STORAGE -> QuotaRoot.kilobytesUp(st.deleted() == 0 ? 0 : user.deletedSize(name));
                case MAILBOXID -> "(" + st.info().objectId() + ")"; // RFC 8474 §4.3
            });
        }
        return "(" + String.join(" ", out) + ")";
    }

    private void append(String tag, StoreSession user, ImapCommand.Append a) throws IOException {
        if (a.messages().stream().anyMatch(m -> m.message().size() == 0)) {
            // RFC 3502 §6.3.11: a zero-length message literal is an error, a client's way to cancel the command
            tagged(tag, "NO Zero-length message literal; nothing appended");
            return;
        }
        MailboxName name = name(a.mailbox());
        Optional<MailboxInfo> box = user.find(name);
        if (box.isEmpty()) {
            tagged(tag, "NO " + ImapReplies.TRY_CREATE + name.path());
            return;
        }
        Instant now = Instant.now();
        List<NewMessage> messages = new ArrayList<>();
        for (ImapCommand.AppendMessage m : a.messages()) {
            messages.add(new NewMessage(m.message(), ParsedFacts.of(m.message(), settings.mimeLimits()), m.flags(),
                    m.date().orElse(now)));
        }
        // RFC 3502 §6.3.11: all or none, so one transaction, whose quota check covers the whole set; the
        // contents are made durable before it begins, so it holds the mailbox and account for the inserts only
        CommitResult result = user.append(box.get().id(), messages);
        // RFC 4315 §3: APPENDUID's uid-set lists every appended message's UID, in the order of the messages
        List<Uid> uids = result.assigned().stream().flatMap(assigned -> assigned.uids().stream()).toList();
        sync(true);
        tagged(tag, "OK [APPENDUID " + result.assigned().get(0).uidValidity() + " " + compactUids(uids)
                + "] APPEND completed");
    }

    // --- selected state

    /** BAD for a message number past the last one the client was told of (UIDs may name any). */
    private boolean pastTheEnd(String tag, SelectedMailbox m, SequenceSet set, boolean uid) throws IOException {
        OptionalLong number = uid ? OptionalLong.empty() : m.numberPastTheEnd(set);
        if (number.isPresent()) {
            tagged(tag, "BAD No message " + number.getAsLong() + ": the mailbox has " + m.exists()
                    + " (use * for the last, or UID commands)");
        }
        return number.isPresent();
    }

    private void fetch(String tag, SelectedMailbox m, ImapCommand.Fetch f) throws IOException {
        if (f.vanished() && !qresync) {
            tagged(tag, "BAD VANISHED without ENABLE QRESYNC first (RFC 7162 section 3.2.6)");
            return;
        }
        if (f.changedSince().isPresent() || f.items().stream().anyMatch(i -> i instanceof FetchItem.ModSeq)) {
            enableCondstore();
        }
        if (pastTheEnd(tag, m, f.set(), f.uid())) {
            return;
        }
        List<Integer> msns = m.resolve(f.set(), f.uid());
        if (f.vanished()) {
            // `*` here reaches UIDNEXT - 1: expunged messages above the highest one left count too
            long uidNext = Math.max(m.view().uidNext(), m.maxUid() + 1);
            String gone = m.vanished(f.set(), uidNext - 1, uidNext);
            if (!gone.isEmpty()) {
                untagged("VANISHED (EARLIER) " + gone);
            }
        }
        boolean setsSeen = !m.readOnly() && f.items().stream()
                .anyMatch(i -> i instanceof FetchItem.Section s && !s.peek());
        java.util.Set<Integer> nowSeen = new java.util.HashSet<>();
        if (FetchResponder.decodes(f.items())) {
            try {
                fetcher.checkDecodable(msns.stream().map(m::at).toList(), f.items()); // before \Seen is set for any
            } catch (FetchResponder.UnknownEncoding e) {
                tagged(tag, "NO [UNKNOWN-CTE] " + e.getMessage() + "; fetch it with BODY[] instead");
                return;
            }
        }
        if (setsSeen) {
            List<Uid> unseen = new ArrayList<>();
            for (int msn : msns) {
                MessageRef r = m.at(msn);
                if (!r.flags().has(dev.mailstack.store.Flag.SEEN)) {
                    unseen.add(r.uid());
                    nowSeen.add(msn);
                }
            }
            if (!unseen.isEmpty()) {
                List<MessageRef> changed;
                try (Transaction t = userStore().begin()) {
                    changed = t.setFlags(m.view().id(), unseen,
                            new FlagChange(FlagChange.Mode.ADD, dev.mailstack.store.Flags.of(dev.mailstack.store.Flag.SEEN)));
                    t.commit();
                }
                m.committed(changed);
            }
        }
        for (int from = 0; from < msns.size(); from += 1000) {
            List<Integer> chunk = msns.subList(from, Math.min(msns.size(), from + 1000));
            fetcher.prefetch(chunk.stream().map(m::at).toList(), f.items());
            fetchChunk(m, f, chunk, nowSeen);
        }
        if (f.items().stream().anyMatch(ImapSession::returnsText) && state instanceof Selected s) {
            // The end of a message's trail through the logs: "queued", "delivered ... uid=", then this (issue 8).
            LOG.log(Level.INFO, "fetch conn={0} user={1} mailbox=\"{2}\" uids={3}", connection.id(), s.user().address(),
                    m.view().info().name().path(), abbreviated(compactUids(msns.stream().map(i -> m.at(i).uid()).toList())));
        }
        sync(f.uid());
        holdBackHighestModSeq(m);
        tagged(tag, "OK " + (f.uid() ? "UID FETCH" : "FETCH") + " completed");
    }

    /** A UID set for a log line: a fetch of a whole scattered mailbox must not make a line of megabytes. */
    private static String abbreviated(String uids) {
        if (uids.length() <= 200) {
            return uids;
        }
        int cut = uids.lastIndexOf(',', 200);
        return uids.substring(0, cut < 0 ? 200 : cut) + ",...";
    }

    /** A FETCH item that returns message text (a body or part), not only headers or facts about it. */
    private static boolean returnsText(FetchItem item) {
        return item instanceof FetchItem.Section s
                && (s.text() == FetchItem.Text.ALL || s.text() == FetchItem.Text.TEXT);
    }

    private void fetchChunk(SelectedMailbox m, ImapCommand.Fetch f, List<Integer> msns, java.util.Set<Integer> nowSeen)
            throws IOException {
        try {
            for (int msn : msns) {
                MessageRef r = m.at(msn);
                if (f.changedSince().isPresent() && r.modSeq() <= f.changedSince().get()) {
                    continue;
                }
                fetcher.write(msn, r, f.items(), nowSeen.contains(msn), m.isRecent(r.uid()), utf8);
            }
        } finally {
            fetcher.finish(); // the responses before a failure still precede the tagged reply
        }
    }

    private void storeFlags(String tag, SelectedMailbox m, ImapCommand.Store s) throws IOException {
        if (m.readOnly()) {
            tagged(tag, "NO " + ImapReplies.READ_ONLY);
            return;
        }
        if (s.unchangedSince().isPresent()) {
            enableCondstore();
        }
        if (pastTheEnd(tag, m, s.set(), s.uid())) {
            return;
        }
        List<Integer> msns = m.resolve(s.set(), s.uid());
        List<Uid> uids = new ArrayList<>();
        for (int msn : msns) {
            uids.add(m.at(msn).uid());
        }
        FlagChange.Mode mode = switch (s.mode()) {
            case ADD -> FlagChange.Mode.ADD;
            case REMOVE -> FlagChange.Mode.REMOVE;
            case REPLACE -> FlagChange.Mode.REPLACE;
        };
        FlagsStored stored;
        try (Transaction t = userStore().begin()) {
            // RFC 7162 §3.1.3: the modseq as committed decides, not this session's possibly older copy
            stored = t.setFlags(m.view().id(), uids, new FlagChange(mode, s.flags()), s.unchangedSince().orElse(Long.MAX_VALUE));
            t.commit();
        }
        List<MessageRef> changed = stored.changed();
        java.util.Set<Uid> refused = new java.util.HashSet<>(stored.modified());
        List<Long> modified = new ArrayList<>();
        for (Uid uid : stored.modified()) {
            modified.add(s.uid() ? uid.value() : m.msnOf(uid));
        }
        m.committed(changed);
        java.util.Set<Uid> changedUids = new java.util.HashSet<>();
        for (MessageRef r : changed) {
            changedUids.add(r.uid());
        }
        if (!s.silent() || condstore) {
            for (Uid uid : uids) {
                int msn = m.msnOf(uid);
                if (msn == 0 || refused.contains(uid)) {
                    continue;
                }
                MessageRef r = m.at(msn);
                boolean changedHere = changedUids.contains(uid);
                if (s.silent() && !changedHere) {
                    continue;
                }
                StringBuilder sb = new StringBuilder("* ").append(msn).append(" FETCH (");
                if (s.uid() || condstore) { // RFC 7162 §3.1: UID and MODSEQ in every FETCH once enabled
                    sb.append("UID ").append(uid.value()).append(' ');
                }
                SelectedMailbox.appendFlagList(sb.append("FLAGS "), r.flags(), m.isRecent(uid));
                if (condstore) {
                    sb.append(" MODSEQ (").append(r.modSeq()).append(')');
                }
                connection.write(sb.append(")\r\n").toString());
            }
        }
        sync(s.uid());
        holdBackHighestModSeq(m);
        if (!modified.isEmpty()) {
            tagged(tag, "OK [MODIFIED " + compactLongs(modified) + "] Conditional STORE failed for some messages");
        } else {
            tagged(tag, "OK " + (s.uid() ? "UID STORE" : "STORE") + " completed");
        }
    }

    private void copy(String tag, SelectedMailbox m, ImapCommand.Copy c) throws IOException {
        if (c.move() && m.readOnly()) {
            tagged(tag, "NO " + ImapReplies.READ_ONLY);
            return;
        }
        MailboxName target = name(c.mailbox());
        Optional<MailboxInfo> box = userStore().find(target);
        if (box.isEmpty()) {
            tagged(tag, "NO " + ImapReplies.TRY_CREATE + target.path());
            return;
        }
        if (pastTheEnd(tag, m, c.set(), c.uid())) {
            return;
        }
        List<Uid> uids = m.resolve(c.set(), c.uid()).stream().map(msn -> m.at(msn).uid()).toList();
        String verb = (c.uid() ? "UID " : "") + (c.move() ? "MOVE" : "COPY");
        if (uids.isEmpty()) {
            tagged(tag, "OK " + verb + " completed (nothing matched)");
            return;
        }
        // Messages of this session's view that another session expunged (RFC 3501 §7.4.1 keeps them in
        // the view until it is told) are gone from the store: the store copies the others.
        Optional<CommitResult.Assigned> copied = Optional.empty();
        boolean expungedElsewhere;
        try (Transaction t = userStore().begin()) {
            List<Uid> newUids = c.move() ? t.move(m.view().id(), uids, box.get().id())
                    : t.copy(m.view().id(), uids, box.get().id());
            expungedElsewhere = newUids.size() < uids.size();
            // RFC 3501 §6.4.7: a COPY that fails leaves the target as it was. A COPY by sequence numbers
            // that names a message no longer there fails whole, as Dovecot's does; a UID that no longer
            // exists is ignored (§6.4.8), so a UID COPY copies what is left, if anything.
            if (!newUids.isEmpty() && !(expungedElsewhere && !c.uid())) {
                copied = Optional.of(t.commit().assigned().get(0));
            }
        }
        if (expungedElsewhere && !c.uid()) {
            sync(false);
            tagged(tag, "NO [EXPUNGEISSUED] Some of the messages were expunged by another session; nothing was "
                    + (c.move() ? "moved" : "copied")); // RFC 5530 §3
            return;
        }
        // RFC 4315 §3: COPYUID's uid-sets are never empty, so it goes only with what was copied
        Optional<String> copyUid = copied.map(a -> "[COPYUID " + a.uidValidity() + " " + compactUids(a.sourceUids()) + " "
                + compactUids(a.uids()) + "] ");
        String nothing = copied.isEmpty() ? " (the messages were expunged by another session)" : "";
        if (c.move()) {
            if (copyUid.isPresent()) {
                untagged("OK " + copyUid.get() + "Moved"); // RFC 6851 §4.3
            }
            sync(true);
            tagged(tag, "OK " + verb + " completed" + nothing);
        } else {
            sync(c.uid());
            tagged(tag, "OK " + copyUid.orElse("") + verb + " completed" + nothing);
        }
    }

    /**
     * The messages of the view (of the UID set, for UID EXPUNGE) whose committed flags include
     * \Deleted go: not those this session last saw with it, as another session may have cleared
     * or set it since (the store decides under the mailbox's lock).
     */
    private void expungeDeleted(Selected s, Optional<SequenceSet> uidSet) {
        SelectedMailbox m = s.mailbox();
        List<Uid> candidates = new ArrayList<>();
        List<MessageRef> messages = m.messages();
        BitSet chosen = uidSet.map(set -> m.selection(set, true)).orElse(null);
        for (int i = 0; i < messages.size(); i++) {
            if (chosen == null || chosen.get(i + 1)) {
                candidates.add(messages.get(i).uid());
            }
        }
        if (candidates.isEmpty()) {
            return;
        }
        try (Transaction t = s.store().begin()) {
            t.expungeDeleted(m.view().id(), candidates);
            t.commit();
        }
    }

    /** The charset a SEARCH, SORT or THREAD names when it is not one this server searches in. */
    private static Optional<String> unsupportedCharset(ImapCommand command) {
        return switch (command) {
            case ImapCommand.Search s -> s.charsetSupported() ? Optional.empty() : s.charset();
            case ImapCommand.Sort s -> ImapCommand.Search.supports(s.charset()) ? Optional.empty() : Optional.of(s.charset());
            case ImapCommand.ThreadMessages t ->
                    ImapCommand.Search.supports(t.charset()) ? Optional.empty() : Optional.of(t.charset());
            default -> Optional.empty();
        };
    }

    private void search(String tag, SelectedMailbox m, ImapCommand.Search s) throws IOException {
        if (!s.charsetSupported()) {
            forgetSavedResult(s.saves());
            tagged(tag, "NO " + ImapReplies.BAD_CHARSET + s.charset().get());
            return;
        }
        boolean byModSeq = mentionsModSeq(s.key());
        if (byModSeq) {
            enableCondstore();
        }
        List<Integer> hits = new Searcher(summaries, userStore(), m).search(s.key());
        // RFC 9051 §6.4.4 and §7.3.4: IMAP4rev2 has no SEARCH response; no RETURN is RETURN (ALL)
        answer(tag, m, "SEARCH", s.uid(), hits, byModSeq, s.esearch() || rev2, s.returnOptions());
    }

    /** RFC 5256 §3 SORT: SEARCH's messages in the order asked, answered as SEARCH is (ESORT: RFC 5267 §3). */
    private void sort(String tag, SelectedMailbox m, ImapCommand.Sort s) throws IOException {
        if (!ImapCommand.Search.supports(s.charset())) {
            forgetSavedResult(s.saves());
            tagged(tag, "NO " + ImapReplies.BAD_CHARSET + s.charset());
            return;
        }
        boolean byModSeq = mentionsModSeq(s.key());
        if (byModSeq) {
            enableCondstore();
        }
        List<Integer> hits = new Searcher(summaries, userStore(), m).search(s.key());
        List<Integer> sorted = new Sorter(summaries, m).sort(hits, s.criteria());
        answer(tag, m, "SORT", s.uid(), sorted, byModSeq, s.esearch(), s.returnOptions());
    }

    /** RFC 5256 §3 THREAD over the messages the search keys find. */
    private void thread(String tag, SelectedMailbox m, ImapCommand.ThreadMessages t) throws IOException {
        if (!ImapCommand.Search.supports(t.charset())) {
            tagged(tag, "NO " + ImapReplies.BAD_CHARSET + t.charset());
            return;
        }
        if (mentionsModSeq(t.key())) {
            enableCondstore();
        }
        List<Integer> hits = new Searcher(summaries, userStore(), m).search(t.key());
        List<Threader.Node> threads = new Threader(summaries, userStore(), m).thread(hits, t.algorithm());
        untagged(Threader.response(threads, msn -> t.uid() ? m.at(msn).uid().value() : msn));
        sync(t.uid()); // RFC 3501 §7.4.1: no EXPUNGE during THREAD (as during SEARCH), but during UID THREAD
        tagged(tag, "OK " + (t.uid() ? "UID THREAD" : "THREAD") + " completed");
    }

    /**
     * The response of SEARCH or SORT ({@code verb}) with the messages {@code hits} in the order they
     * go out: numbers as asked, ESEARCH for RETURN (RFC 4731; ESORT, RFC 5267 §3, where MIN and MAX
     * are the first and last in sort order and ALL keeps that order), the highest modseq when the
     * search was on MODSEQ (RFC 7162 §3.1.5, which extends SORT's response the same way).
     */
    private void answer(String tag, SelectedMailbox m, String verb, boolean uid, List<Integer> hits, boolean byModSeq,
                        boolean esearch, List<String> returnOptions) throws IOException {
        if (returnOptions.contains("SAVE")) {
            m.save(saved(hits, returnOptions));
            // RFC 5182 §2.1: SAVE is no data of ESEARCH, and SAVE alone is answered with no ESEARCH
            returnOptions = returnOptions.stream().filter(o -> !o.equals("SAVE")).toList();
            if (returnOptions.isEmpty()) {
                sync(uid);
                tagged(tag, "OK " + (uid ? "UID " : "") + verb + " completed");
                return;
            }
        }
        List<Long> numbers = new ArrayList<>();
        for (int msn : hits) {
            numbers.add(uid ? m.at(msn).uid().value() : msn);
        }
        // RFC 7162 §3.1.5: a search on MODSEQ tells the highest modseq among the hits it returns
        boolean tellModSeq = byModSeq && !numbers.isEmpty();
        long highest = tellModSeq ? highestModSeq(m, hits, esearch ? returnOptions : List.of()) : 0;
        if (esearch) {
            // RFC 4731: RETURN () means ALL
            List<String> opts = returnOptions.isEmpty() ? List.of("ALL") : returnOptions;
            StringBuilder sb = new StringBuilder("ESEARCH (TAG \"").append(tag).append("\")");
            if (uid) {
                sb.append(" UID");
            }
            if (!numbers.isEmpty()) {
                for (String o : opts) {
                    switch (o) {
                        case "MIN" -> sb.append(" MIN ").append(numbers.get(0));
                        case "MAX" -> sb.append(" MAX ").append(numbers.get(numbers.size() - 1));
                        // RFC 5267 §3.2: only ascending runs become ranges, so a sorted ALL keeps its order
                        case "ALL" -> sb.append(" ALL ").append(compactLongs(numbers));
                        case "COUNT" -> { } // below: it is there when nothing was found, too
                        default -> throw new IllegalStateException("a return option the parser let through: " + o);
                    }
                }
            }
            if (opts.contains("COUNT")) {
                sb.append(" COUNT ").append(numbers.size());
            }
            if (tellModSeq) {
                sb.append(" MODSEQ ").append(highest);
            }
            untagged(sb.toString());
        } else {
            StringBuilder sb = new StringBuilder(verb);
            for (long n : numbers) {
                sb.append(' ').append(n);
            }
            if (tellModSeq) {
                sb.append(" (MODSEQ ").append(highest).append(')');
            }
            untagged(sb.toString());
        }
        sync(uid); // RFC 3501 §7.4.1: no EXPUNGE during SEARCH or SORT, but during UID SEARCH and UID SORT
        tagged(tag, "OK " + (uid ? "UID " : "") + verb + " completed");
    }

    /**
     * RFC 5182 §2.1: what SAVE keeps of the hits. With MIN and/or MAX and neither ALL nor COUNT,
     * only those messages (the first and last in sort order for SORT, RFC 5267 §3); otherwise all
     * of them.
     */
    private static List<Integer> saved(List<Integer> hits, List<String> returnOptions) {
        boolean min = returnOptions.contains("MIN");
        boolean max = returnOptions.contains("MAX");
        if (hits.isEmpty() || (!min && !max) || returnOptions.contains("ALL") || returnOptions.contains("COUNT")) {
            return hits;
        }
        List<Integer> kept = new ArrayList<>();
        if (min) {
            kept.add(hits.getFirst());
        }
        if (max) {
            kept.add(hits.getLast());
        }
        return kept;
    }

    /**
     * RFC 7162 §3.1.5 with RFC 4731: ESEARCH asking only for MIN and/or MAX gets the modseq of those
     * messages; ALL, COUNT, no option or plain SEARCH the highest of every hit.
     */
    private static long highestModSeq(SelectedMailbox m, List<Integer> hits, List<String> returnOptions) {
        boolean min = returnOptions.contains("MIN");
        boolean max = returnOptions.contains("MAX");
        if ((min || max) && !returnOptions.contains("ALL") && !returnOptions.contains("COUNT")) {
            long first = min ? m.at(hits.getFirst()).modSeq() : 0;
            long last = max ? m.at(hits.getLast()).modSeq() : 0;
            return Math.max(first, last);
        }
        long highest = 0;
        for (int msn : hits) {
            highest = Math.max(highest, m.at(msn).modSeq());
        }
        return highest;
    }

    /**
     * RFC 7162 §3.2: MODSEQs sent while other writers' changes (expunges among them) still wait for
     * a command that may report them must not pass for a resync point: the client is told the
     * modseq this session has caught up to, which is below those changes. The view cannot tell this
     * session's own commits from others', so after a non-UID STORE it is said even when no other
     * writer was there; the client then resyncs from a little earlier than it could have.
     */
    private void holdBackHighestModSeq(SelectedMailbox m) throws IOException {
        if (qresync && m.view().hasPendingChanges()) {
            untagged("OK [HIGHESTMODSEQ " + m.view().highestModSeq() + "] Highest");
        }
    }

    private static boolean mentionsModSeq(SearchKey key) {
        return switch (key) {
            case SearchKey.ModSeq m -> true;
            case SearchKey.Not n -> mentionsModSeq(n.key());
            case SearchKey.Or o -> mentionsModSeq(o.left()) || mentionsModSeq(o.right());
            case SearchKey.And a -> a.keys().stream().anyMatch(ImapSession::mentionsModSeq);
            default -> false;
        };
    }

    /**
     * RFC 7162 §3.1: a CONDSTORE-enabling command (FETCH or SEARCH with MODSEQ, CHANGEDSINCE,
     * UNCHANGEDSINCE, STATUS HIGHESTMODSEQ) turns MODSEQ on in FETCH responses for the rest of the
     * session, and a selected mailbox's HIGHESTMODSEQ is told at once.
     */
    private void enableCondstore() throws IOException {
        if (condstore) {
            return;
        }
        condstore = true;
        if (state instanceof Selected s) {
            untagged("OK [HIGHESTMODSEQ " + s.mailbox().view().highestModSeq() + "] Highest");
        }
    }

    private void idle(String tag) throws IOException {
        connection.write("+ idling\r\n");
        connection.flush();
        Semaphore wake = new Semaphore(0);
        java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
        Thread notifier = null;
        if (state instanceof Selected s) {
            SelectedMailbox m = s.mailbox();
            m.view().onChange(wake::release);
            // Stopped with a flag, never interrupted: interrupting a virtual thread in socket or H2
            // file I/O closes the socket or the database file under it.
            notifier = Thread.ofVirtual().name("idle-" + connection.id()).start(() -> {
                try {
                    while (true) {
                        wake.acquire();
                        if (ended.get()) {
                            return;
                        }
                        sync(true);
                        connection.flush();
                    }
                } catch (InterruptedException | IOException e) {
                    // the client went away; the session thread notices on its next read
                } catch (RuntimeException e) {
                    // the session goes on without pushes; the client sees changes at its next command
                    LOG.log(System.Logger.Level.WARNING, "IDLE updates stopped conn=" + connection.id() + ": " + e);
                }
            });
            if (m.view().hasPendingChanges()) {
                wake.release();
            }
        }
        try {
            // Read as a command: the session waits for the client with no response under way, so a
            // stop or the account's deletion can say BYE here at once instead of when IDLE ends.
            String line = connection.readCommand();
            if (notifier != null) {
                ended.set(true);
                wake.release();
                notifier.join();
            }
            if (line == null) {
                return;
            }
            if (!line.equalsIgnoreCase("DONE")) {
                tagged(tag, "BAD Expected DONE to end IDLE");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (notifier != null) {
                ended.set(true);
                wake.release();
                // also when the read ended with a stop or the account's deletion: no EXISTS after
                // the BYE, and no sync running while the session closes its mailbox
                joinQuietly(notifier);
            }
            if (state instanceof Selected s) {
                s.mailbox().view().onChange(() -> { });
            }
        }
        sync(true);
        tagged(tag, "OK IDLE terminated");
    }

    private static void joinQuietly(Thread notifier) {
        try {
            notifier.join(java.time.Duration.ofSeconds(1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- helpers

    private StoreSession userStore() {
        return switch (state) {
            case Selected s -> s.store();
            case Authenticated a -> a.store();
            default -> throw new IllegalStateException("not logged in");
        };
    }

    /** Sends the untagged updates the selected mailbox has gathered, if this is a point where they may go. */
    private void sync(boolean expungesAllowed) throws IOException {
        if (!(state instanceof Selected s)) {
            return;
        }
        mailboxLock.lock();
        try {
            for (String line : s.mailbox().sync(expungesAllowed, condstore, qresync)) {
                connection.write(line + "\r\n");
            }
        } finally {
            mailboxLock.unlock();
        }
    }

    private void untagged(String text) throws IOException {
        connection.write("* " + text + "\r\n");
    }

    /**
     * A status response. Its text is 7-bit for a client without UTF-8 (RFC 3501 §9), a name in it
     * in modified UTF-7 as the client spells it. A client that enabled UTF8=ACCEPT gets names in
     * UTF-8, as it spells them, though RFC 9755 widens only quoted strings, not text (IMAP4rev2's
     * grammar has UTF-8 text): a name shown to the user as it was typed is worth that.
     */
    private void tagged(String tag, String text) throws IOException {
        connection.write(tag + " " + (utf8 ? text : ModifiedUtf7.encode(text)) + "\r\n");
    }

    static String compactUids(List<Uid> uids) {
        return compactLongs(uids.stream().map(Uid::value).toList());
    }

    /** 1,2,3,5 → "1:3,5" (RFC 3501 sequence-set). */
    static String compactLongs(List<Long> numbers) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < numbers.size()) {
            int j = i;
            while (j + 1 < numbers.size() && numbers.get(j + 1) == numbers.get(j) + 1) {
                j++;
            }
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(numbers.get(i));
            if (j > i) {
                sb.append(':').append(numbers.get(j));
            }
            i = j + 1;
        }
        return sb.toString();
    }
}

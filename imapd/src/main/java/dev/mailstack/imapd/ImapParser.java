package dev.mailstack.imapd;

import dev.mailstack.store.Flag;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MessageSpool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Parses one IMAP command (RFC 3501 §9 grammar) from a line, pulling literals and the lines that
 * follow them from a {@link Source} as it meets them, so a command arrives however it is split.
 * Limits (literal sizes, list depth, keys) are checked here, before anything is executed.
 */
final class ImapParser {
    /** Where literals and continuation lines come from: the connection, or a test's bytes. */
    interface Source {
        String nextLine() throws IOException;

        byte[] literal(long size, boolean synchronizing) throws IOException;

        /** {@code literal8}: RFC 3516 binary octets, stored as sent; otherwise line ends are made CRLF. */
        MessageSpool.Spooled messageLiteral(long size, boolean synchronizing, boolean literal8) throws IOException;
    }

    static final int MAX_DEPTH = 16;
    static final int MAX_SEARCH_KEYS = 1000;
    /**
     * Messages in one MULTIAPPEND (RFC 3502). Each is spooled to a file as it comes and bounded by
     * the APPEND limit; this bounds how many files one command holds before the quota is checked.
     */
    static final int MAX_APPEND_MESSAGES = 1000;
    /** RFC 3501 §9 date (SEARCH): the month in any case (note 3: the grammar's letters are case-insensitive). */
    static final DateTimeFormatter DATE = dateFormat("d-MMM-uuuu");
    /** RFC 3501 §9 date-time (APPEND), its day-of-month's leading space stripped before. */
    static final DateTimeFormatter DATE_TIME = dateFormat("d-MMM-uuuu HH:mm:ss Z");

    /**
     * STRICT: 31-Feb-2026 is no date, where the default SMART resolver made it 28 Feb; "uuuu", the
     * proleptic year, as STRICT would want an era to go with "yyyy", the year of an era.
     */
    private static DateTimeFormatter dateFormat(String pattern) {
        return new DateTimeFormatterBuilder().parseCaseInsensitive().appendPattern(pattern).toFormatter(Locale.ROOT)
                .withResolverStyle(ResolverStyle.STRICT);
    }

    private final Source source;
    private String line;
    private int pos;
    private int searchKeys;
    /** RETURN (... SAVE ...) was read: a literal refused later in the command (NO) empties $ (RFC 5182 §2.1). */
    private boolean savesResult;
    /** A literal string was not UTF-8: the session refuses the command, unless its charset was not UTF-8 to begin with. */
    private boolean literalNotUtf8;

    ImapParser(String line, Source source) {
        this.line = line;
        this.source = source;
    }

    private static final java.util.regex.Pattern NON_SYNC_AT_END = java.util.regex.Pattern.compile("~?\\{(\\d+)\\+}\\z");

    /**
     * The size of a non-synchronising literal {n+} ending the line the parser stopped on, or -1.
     * After a syntax error its octets are on their way anyway and must be skipped (RFC 7888 §4).
     */
    long pendingNonSyncLiteral() {
        java.util.regex.Matcher m = NON_SYNC_AT_END.matcher(line);
        if (!m.find()) {
            return -1;
        }
        return m.group(1).length() > 18 ? Long.MAX_VALUE : Long.parseLong(m.group(1)); // 19+ digits: past any limit
    }

    /**
     * The size of a non-synchronizing literal announced at the end of a line dropped for being too
     * long, from the tail the reader kept of it; -1 for none. Digits that fill the whole tail are a
     * number past any limit.
     */
    static long nonSyncLiteralEnding(String tail) {
        long n = new ImapParser(tail, null).pendingNonSyncLiteral();
        if (n < 0 && tail.length() > 2 && tail.endsWith("+}") && tail.chars().limit(tail.length() - 2)
                .allMatch(c -> c >= '0' && c <= '9')) {
            return Long.MAX_VALUE;
        }
        return n;
    }

    /** Whether a literal string of the command was not UTF-8 (its text has U+FFFD in its place). */
    boolean literalNotUtf8() {
        return literalNotUtf8;
    }

    /** Whether the command read so far asked SEARCH or SORT to SAVE its result (RFC 5182). */
    boolean savesResult() {
        return savesResult;
    }

    /** The tag of a line, for a BAD reply when the rest does not parse ("*" when there is none). */
    static String tagOf(String line) {
        int sp = line.indexOf(' ');
        String tag = sp < 0 ? line : line.substring(0, sp);
        return tag.isEmpty() || !tag.chars().allMatch(ImapParser::isTagChar) ? "*" : tag;
    }

    /** The commands {@link #command()} knows, to tell a person who typed one without a tag what is missing. */
    private static final java.util.Set<String> COMMANDS = java.util.Set.of("CAPABILITY", "NOOP", "LOGOUT", "STARTTLS",
            "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "IDLE", "NAMESPACE", "LOGIN", "AUTHENTICATE", "SELECT", "EXAMINE",
            "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "STATUS", "APPEND", "SEARCH", "SORT",
            "THREAD", "FETCH", "STORE", "COPY", "MOVE", "UID", "ID", "ENABLE", "COMPRESS", "GETQUOTA", "GETQUOTAROOT",
            "SETQUOTA");

    /** "LOGIN alice secret" typed by hand: the command was taken for the tag (RFC 3501 §2.2.1). */
    private static ImapSyntaxException untagged(String command) {
        return new ImapSyntaxException("missing tag: every command starts with a tag of your choosing, e.g. a1 "
                + command.toUpperCase(Locale.ROOT) + " ...");
    }

    String tag() throws ImapSyntaxException {
        int start = pos;
        while (pos < line.length() && isTagChar(line.charAt(pos))) {
            pos++;
        }
        if (pos == start) {
            throw new ImapSyntaxException("missing tag: every command starts with a tag, e.g. a1 NOOP");
        }
        return line.substring(start, pos);
    }

    ImapCommand command() throws ImapSyntaxException, IOException {
        String tag = line.substring(0, pos);
        if (pos == line.length() && COMMANDS.contains(tag.toUpperCase(Locale.ROOT))) {
            throw untagged(tag);
        }
        sp();
        String name = atom().toUpperCase(Locale.ROOT);
        ImapCommand c = switch (name) {
            case "CAPABILITY" -> new ImapCommand.Capability();
            case "NOOP" -> new ImapCommand.Noop();
            case "LOGOUT" -> new ImapCommand.Logout();
            case "STARTTLS" -> new ImapCommand.StartTls();
            case "CHECK" -> new ImapCommand.Check();
            case "CLOSE" -> new ImapCommand.Close();
            case "UNSELECT" -> new ImapCommand.Unselect();
            case "EXPUNGE" -> new ImapCommand.Expunge(Optional.empty());
            case "IDLE" -> new ImapCommand.Idle();
            case "NAMESPACE" -> new ImapCommand.Namespace();
            case "LOGIN" -> {
                sp();
                String user = astring();
                sp();
                yield new ImapCommand.Login(user, astring());
            }
            case "AUTHENTICATE" -> {
                sp();
                String mech = atom().toUpperCase(Locale.ROOT);
                Optional<String> ir = Optional.empty();
                if (peek() == ' ') {
                    sp();
                    ir = Optional.of(atom());
                }
                yield new ImapCommand.Authenticate(mech, ir);
            }
            case "SELECT", "EXAMINE" -> {
                sp();
                String box = mailbox();
                boolean condstore = false;
                Optional<ImapCommand.Qresync> qresync = Optional.empty();
                if (peek() == ' ') { // RFC 4466 select-params: CONDSTORE, QRESYNC (...) (RFC 7162)
                    sp();
                    expect('(');
                    while (true) {
                        String param = atom().toUpperCase(Locale.ROOT);
                        switch (param) {
                            case "QRESYNC" -> {
                                sp();
                                qresync = Optional.of(qresyncParam());
                            }
                            case "CONDSTORE" -> condstore = true;
                            default -> throw new ImapSyntaxException("unknown " + name + " parameter " + param);
                        }
                        if (peek() != ' ') {
                            break;
                        }
                        pos++;
                    }
                    expect(')');
                }
                yield new ImapCommand.Select(box, name.equals("EXAMINE"), condstore, qresync);
            }
            case "CREATE" -> {
                sp();
                String box = mailbox();
                if (peek() == ' ') { // RFC 6154 CREATE ... (USE (...)): accepted, ignored
                    sp();
                    skipList(0);
                }
                yield new ImapCommand.Create(box);
            }
            case "DELETE" -> {
                sp();
                yield new ImapCommand.Delete(mailbox());
            }
            case "RENAME" -> {
                sp();
                String from = mailbox();
                sp();
                yield new ImapCommand.Rename(from, mailbox());
            }
            case "SUBSCRIBE", "UNSUBSCRIBE" -> {
                sp();
                yield new ImapCommand.Subscribe(mailbox(), name.equals("SUBSCRIBE"));
            }
            case "LIST" -> list();
            case "LSUB" -> {
                sp();
                String ref = mailbox();
                sp();
                yield new ImapCommand.ListMailboxes(ref, List.of(listMailbox()), true, true, false, false, false, false,
                        false, List.of(), false);
            }
            case "STATUS" -> {
                sp();
                String box = mailbox();
                sp();
                yield new ImapCommand.Status(box, statusItems());
            }
            case "APPEND" -> append();
            case "SEARCH" -> search(false);
            case "SORT" -> sort(false);
            case "THREAD" -> thread(false);
            case "FETCH" -> fetch(false);
            case "STORE" -> store(false);
            case "COPY" -> copy(false, false);
            case "MOVE" -> copy(false, true);
            case "UID" -> uid();
            case "ID" -> {
                sp();
                if (peek() == '(') {
                    skipList(0);
                } else {
                    expectWord("NIL");
                }
                yield new ImapCommand.Id();
            }
            case "ENABLE" -> {
                List<String> caps = new ArrayList<>();
                while (peek() == ' ') {
                    sp();
                    caps.add(atom().toUpperCase(Locale.ROOT));
                }
                if (caps.isEmpty()) {
                    throw new ImapSyntaxException("ENABLE needs at least one capability");
                }
                yield new ImapCommand.Enable(caps);
            }
            case "COMPRESS" -> {
                sp();
                yield new ImapCommand.Compress(atom().toUpperCase(Locale.ROOT));
            }
            case "GETQUOTA" -> {
                sp();
                yield new ImapCommand.GetQuota(astring());
            }
            case "GETQUOTAROOT" -> {
                sp();
                yield new ImapCommand.GetQuotaRoot(mailbox());
            }
            case "SETQUOTA" -> { // RFC 9208 §4.1.3: SETQUOTA root (resource limit ...)
                sp();
                String root = astring();
                sp();
                if (peek() != '(') {
                    throw new ImapSyntaxException("SETQUOTA needs a list of limits, e.g. SETQUOTA \"\" (STORAGE 512)");
                }
                skipList(0);
                yield new ImapCommand.SetQuota(root);
            }
            default -> throw COMMANDS.contains(tag.toUpperCase(Locale.ROOT)) ? untagged(tag)
                    : new ImapSyntaxException("unknown command " + name);
        };
        end();
        return c;
    }

    private ImapCommand uid() throws ImapSyntaxException, IOException {
        sp();
        String sub = atom().toUpperCase(Locale.ROOT);
        return switch (sub) {
            case "FETCH" -> fetch(true);
            case "STORE" -> store(true);
            case "COPY" -> copy(true, false);
            case "MOVE" -> copy(true, true);
            case "SEARCH" -> search(true);
            case "SORT" -> sort(true);
            case "THREAD" -> thread(true);
            case "EXPUNGE" -> {
                sp();
                yield new ImapCommand.Expunge(Optional.of(sequenceSet()));
            }
            default -> throw new ImapSyntaxException("UID " + sub + " is not a command; use UID FETCH, STORE, COPY, MOVE, SEARCH, SORT, THREAD or EXPUNGE");
        };
    }

    // --- LIST (RFC 3501 §6.3.8, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS)

    private ImapCommand list() throws ImapSyntaxException, IOException {
        sp();
        boolean subscribedOnly = false;
        boolean specialUseOnly = false;
        boolean recursiveMatch = false;
        boolean extended = false;
        boolean returnSubscribed = false;
        if (peek() == '(') {
            extended = true;
            for (String opt : atomList()) {
                switch (opt.toUpperCase(Locale.ROOT)) {
                    case "SUBSCRIBED" -> {
                        subscribedOnly = true;
                        returnSubscribed = true;
                    }
                    case "SPECIAL-USE" -> specialUseOnly = true; // RFC 6154 §5.1
                    case "RECURSIVEMATCH" -> recursiveMatch = true;
                    case "REMOTE" -> { } // RFC 5258 §3: adds remote mailboxes, and there are none here
                    default -> throw new ImapSyntaxException("unknown LIST selection option " + opt);
                }
            }
            // RFC 5258 §3 and its list-select-opts ABNF (§6): RECURSIVEMATCH modifies a base option
            // and is BAD alone or with only independent ones (REMOTE, and SPECIAL-USE per RFC 6154 §6).
            // SUBSCRIBED is the only base option there is.
            if (recursiveMatch && !subscribedOnly) {
                throw new ImapSyntaxException("RECURSIVEMATCH must be used together with SUBSCRIBED");
            }
            sp();
        }
        String ref = mailbox();
        sp();
        List<String> patterns = new ArrayList<>();
        if (peek() == '(') {
            extended = true;
            pos++;
            patterns.add(listMailbox());
            while (peek() == ' ') {
                sp();
                patterns.add(listMailbox());
            }
            expect(')');
        } else {
            patterns.add(listMailbox());
        }
        boolean children = false;
        boolean specialUse = false;
        List<StatusItem> status = new ArrayList<>();
        if (peek() == ' ') {
            sp();
            expectWord("RETURN");
            extended = true;
            sp();
            expect('(');
            while (peek() != ')') {
                if (peek() == ' ') {
                    pos++;
                }
                String opt = atom().toUpperCase(Locale.ROOT);
                switch (opt) {
                    case "SUBSCRIBED" -> returnSubscribed = true;
                    case "CHILDREN" -> children = true;
                    case "SPECIAL-USE" -> specialUse = true;
                    case "STATUS" -> {
                        sp();
                        status.addAll(statusItems());
                    }
                    default -> throw new ImapSyntaxException("unknown LIST return option " + opt);
                }
            }
            expect(')');
        }
        return new ImapCommand.ListMailboxes(ref, patterns, false, subscribedOnly, specialUseOnly, recursiveMatch,
                returnSubscribed, children, specialUse, status, extended);
    }

    /** RFC 3501 §9 "(" status-att *(SP status-att) ")": at least one item, each one this server knows. */
    private List<StatusItem> statusItems() throws ImapSyntaxException {
        List<StatusItem> items = new ArrayList<>();
        for (String name : atomList()) {
            items.add(StatusItem.named(name).orElseThrow(() -> new ImapSyntaxException("unknown STATUS item " + name)));
        }
        if (items.isEmpty()) {
            throw new ImapSyntaxException("STATUS needs at least one item, e.g. (MESSAGES UNSEEN)");
        }
        return items;
    }

    // --- APPEND (RFC 3501 §6.3.11, RFC 3502 MULTIAPPEND)

    /**
     * RFC 3502 §6: append = "APPEND" SP mailbox 1*append-message, each message's options and literal
     * after a space. A message is spooled as its literal arrives; a failure anywhere in the command
     * (a bad date, a literal over the limit) drops those spooled before it, so nothing is appended.
     */
    private ImapCommand append() throws ImapSyntaxException, IOException {
        sp();
        String box = mailbox();
        List<ImapCommand.AppendMessage> messages = new ArrayList<>();
        try {
            do {
                sp();
                if (messages.size() == MAX_APPEND_MESSAGES) {
                    throw new ImapSyntaxException("too many messages in one APPEND (at most " + MAX_APPEND_MESSAGES + ")");
                }
                messages.add(appendMessage());
            } while (peek() == ' ');
        } catch (ImapSyntaxException | IOException | RuntimeException e) {
            new ImapCommand.Append(box, messages).discard();
            throw e;
        }
        return new ImapCommand.Append(box, messages);
    }

    /** RFC 3502 §6 append-message: [flag-list SP] [date-time SP] literal, or RFC 6855's UTF8 (literal8). */
    private ImapCommand.AppendMessage appendMessage() throws ImapSyntaxException, IOException {
        Flags flags = Flags.NONE;
        if (peek() == '(') {
            flags = flagList();
            sp();
        }
        Optional<Instant> date = Optional.empty();
        if (peek() == '"') {
            String text = quoted();
            try {
                date = Optional.of(ZonedDateTime.parse(text.strip(), DATE_TIME).toInstant());
            } catch (DateTimeParseException e) {
                throw new ImapSyntaxException("bad date-time \"" + text + "\"; expected e.g. \"7-Feb-2026 21:52:25 +0100\"");
            }
            sp();
        }
        // RFC 6855 §4: after ENABLE UTF8=ACCEPT, Thunderbird sends APPEND ... UTF8 (~{n+}).
        boolean utf8Data = line.regionMatches(true, pos, "UTF8 (", 0, 6);
        if (utf8Data) {
            pos += 6;
        }
        boolean literal8 = peek() == '~';
        if (literal8) {
            pos++; // RFC 3516 literal8: the octets may hold NUL; we store them as they come
        }
        if (peek() != '{') {
            throw new ImapSyntaxException("APPEND needs the message as a literal {size}");
        }
        long[] size = literalHeader();
        // RFC 6855's UTF8 (~{n}) borrows literal8's syntax for text, whose line ends are made CRLF like any other
        MessageSpool.Spooled message = source.messageLiteral(size[0], size[1] == 0, literal8 && !utf8Data);
        try {
            line = source.nextLine(); // the rest of the command line after the literal
        } catch (IOException e) {
            message.discard();
            throw e;
        }
        if (line == null) {
            message.discard();
            throw new IOException("connection closed inside APPEND");
        }
        pos = 0;
        if (utf8Data) {
            if (peek() != ')') {
                message.discard();
                throw new ImapSyntaxException("expected ')' after the UTF8 literal");
            }
            pos++;
        }
        return new ImapCommand.AppendMessage(flags, date, message);
    }

    // --- FETCH (RFC 3501 §6.4.5)

    private ImapCommand fetch(boolean uid) throws ImapSyntaxException, IOException {
        sp();
        SequenceSet set = sequenceSet();
        sp();
        List<FetchItem> items = new ArrayList<>();
        if (peek() == '(') {
            pos++;
            items.addAll(fetchItem());
            while (peek() == ' ') {
                pos++;
                items.addAll(fetchItem());
            }
            expect(')');
        } else {
            items.addAll(fetchItem());
        }
        Optional<Long> changedSince = Optional.empty();
        boolean vanished = false;
        if (peek() == ' ') { // RFC 4466 fetch-modifiers: CHANGEDSINCE n, VANISHED (RFC 7162)
            sp();
            expect('(');
            while (true) {
                String modifier = atom().toUpperCase(Locale.ROOT);
                switch (modifier) {
                    case "CHANGEDSINCE" -> {
                        sp();
                        changedSince = Optional.of(number());
                    }
                    case "VANISHED" -> vanished = true;
                    default -> throw new ImapSyntaxException("unknown FETCH modifier " + modifier);
                }
                if (peek() != ' ') {
                    break;
                }
                pos++;
            }
            expect(')');
            if (vanished && (!uid || changedSince.isEmpty())) {
                throw new ImapSyntaxException("VANISHED goes with UID FETCH and CHANGEDSINCE (RFC 7162 section 3.2.6)");
            }
        }
        if (uid && items.stream().noneMatch(i -> i instanceof FetchItem.Uid)) {
            items.add(0, new FetchItem.Uid()); // RFC 3501 §6.4.8: UID FETCH always returns UID
        }
        if (changedSince.isPresent() && items.stream().noneMatch(i -> i instanceof FetchItem.ModSeq)) {
            items.add(new FetchItem.ModSeq());
        }
        return new ImapCommand.Fetch(uid, set, items, changedSince, vanished);
    }

    /** RFC 7162 §3.2.5: "(" uidvalidity SP mod-sequence [SP known-uids [SP seq-match-data]] ")". */
    private ImapCommand.Qresync qresyncParam() throws ImapSyntaxException, IOException {
        expect('(');
        long uidValidity = number();
        sp();
        long modSeq = number();
        Optional<SequenceSet> known = Optional.empty();
        if (peek() == ' ') {
            sp();
            if (peek() != '(') {
                known = Optional.of(selectedSet());
                if (peek() == ' ') {
                    sp();
                }
            }
            if (peek() == '(') { // seq-match-data: a hint this server does not need
                expect('(');
                selectedSet();
                sp();
                selectedSet();
                expect(')');
            }
        }
        expect(')');
        return new ImapCommand.Qresync(uidValidity, modSeq, known);
    }

    /**
     * A set given with SELECT: "$" would name the result of a search in the mailbox selected
     * before, which SELECT forgets (RFC 5182 §2.1), so the client's QRESYNC would be answered
     * about nothing and it would take that for no change.
     */
    private SequenceSet selectedSet() throws ImapSyntaxException {
        SequenceSet set = sequenceSet();
        if (set.saved()) {
            throw new ImapSyntaxException("$ cannot be used in SELECT: it is emptied by the SELECT itself");
        }
        return set;
    }

    private List<FetchItem> fetchItem() throws ImapSyntaxException, IOException {
        String word = fetchWord().toUpperCase(Locale.ROOT);
        return switch (word) {
            case "ALL" -> List.of(new FetchItem.Flags(), new FetchItem.InternalDate(), new FetchItem.Size(), new FetchItem.Envelope());
            case "FAST" -> List.of(new FetchItem.Flags(), new FetchItem.InternalDate(), new FetchItem.Size());
            case "FULL" -> List.of(new FetchItem.Flags(), new FetchItem.InternalDate(), new FetchItem.Size(),
                    new FetchItem.Envelope(), new FetchItem.Structure(false));
            case "FLAGS" -> List.of(new FetchItem.Flags());
            case "UID" -> List.of(new FetchItem.Uid());
            case "INTERNALDATE" -> List.of(new FetchItem.InternalDate());
            case "RFC822.SIZE" -> List.of(new FetchItem.Size());
            case "ENVELOPE" -> List.of(new FetchItem.Envelope());
            case "BODYSTRUCTURE" -> List.of(new FetchItem.Structure(true));
            case "MODSEQ" -> List.of(new FetchItem.ModSeq());
            case "SAVEDATE" -> List.of(new FetchItem.SaveDate());
            case "EMAILID" -> List.of(new FetchItem.ObjectId(false));
            case "THREADID" -> List.of(new FetchItem.ObjectId(true));
            case "PREVIEW" -> List.of(new FetchItem.Preview(previewModifiers()));
            case "RFC822" -> List.of(new FetchItem.Section(List.of(), FetchItem.Text.ALL, List.of(), false,
                    FetchItem.Section.WHOLE, 0, "RFC822", false));
            case "RFC822.HEADER" -> List.of(new FetchItem.Section(List.of(), FetchItem.Text.HEADER, List.of(), true,
                    FetchItem.Section.WHOLE, 0, "RFC822.HEADER", false));
            case "RFC822.TEXT" -> List.of(new FetchItem.Section(List.of(), FetchItem.Text.TEXT, List.of(), false,
                    FetchItem.Section.WHOLE, 0, "RFC822.TEXT", false));
            case "BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK" -> {
                if (peek() != '[') {
                    if (!word.equals("BODY")) {
                        throw new ImapSyntaxException(word + " needs a [section]");
                    }
                    yield List.of(new FetchItem.Structure(false));
                }
                yield List.of(section(word.startsWith("BINARY") ? "BINARY" : "BODY", word.endsWith(".PEEK"),
                        word.startsWith("BINARY")));
            }
            case "BINARY.SIZE" -> {
                FetchItem.Section s = section("BINARY", true, true);
                if (s.offset() != FetchItem.Section.WHOLE) {
                    throw new ImapSyntaxException("BINARY.SIZE takes no <partial> (RFC 3516)");
                }
                yield List.of(new FetchItem.BinarySize(s.part()));
            }
            default -> throw new ImapSyntaxException("unknown FETCH item " + word);
        };
    }

    /**
     * RFC 8970 §5: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"], preview-mod = "LAZY".
     * Told from the fetch modifiers that may follow a lone item ("FETCH 1 PREVIEW (CHANGEDSINCE 5)")
     * by the word after the parenthesis. Returns whether LAZY was given.
     */
    private boolean previewModifiers() throws ImapSyntaxException {
        if (!line.regionMatches(true, pos, " (LAZY", 0, 6)) {
            return false;
        }
        pos += 2;
        while (true) {
            String mod = atom();
            if (!mod.equalsIgnoreCase("LAZY")) {
                throw new ImapSyntaxException("unknown PREVIEW modifier " + mod + " (RFC 8970 knows LAZY)");
            }
            if (peek() != ' ') {
                break;
            }
            pos++;
        }
        expect(')');
        return true;
    }

    private String fetchWord() throws ImapSyntaxException {
        int start = pos;
        while (pos < line.length() && (Character.isLetterOrDigit(line.charAt(pos)) || line.charAt(pos) == '.')) {
            pos++;
        }
        if (start == pos) {
            throw new ImapSyntaxException("expected a FETCH item at \"" + rest() + "\"");
        }
        return line.substring(start, pos);
    }

    private FetchItem.Section section(String label, boolean peek, boolean binary) throws ImapSyntaxException, IOException {
        expect('[');
        List<Integer> part = new ArrayList<>();
        FetchItem.Text text = FetchItem.Text.ALL;
        List<String> fields = new ArrayList<>();
        while (pos < line.length() && Character.isDigit(line.charAt(pos))) {
            long n = number();
            if (n == 0 || n > 10_000) {
                throw new ImapSyntaxException("bad part number " + n);
            }
            part.add((int) n);
            if (peek() == '.') {
                pos++;
            } else {
                break;
            }
        }
        if (peek() != ']') {
            String t = fetchWord().toUpperCase(Locale.ROOT);
            text = switch (t) {
                case "HEADER" -> FetchItem.Text.HEADER;
                case "HEADER.FIELDS" -> FetchItem.Text.HEADER_FIELDS;
                case "HEADER.FIELDS.NOT" -> FetchItem.Text.HEADER_FIELDS_NOT;
                case "TEXT" -> FetchItem.Text.TEXT;
                case "MIME" -> {
                    if (part.isEmpty()) {
                        throw new ImapSyntaxException("MIME needs a part number, e.g. BODY[1.MIME]");
                    }
                    yield FetchItem.Text.MIME;
                }
                default -> throw new ImapSyntaxException("unknown section " + t);
            };
            if (binary && text != FetchItem.Text.ALL) {
                throw new ImapSyntaxException("BINARY takes part numbers only (RFC 3516)");
            }
            if (text == FetchItem.Text.HEADER_FIELDS || text == FetchItem.Text.HEADER_FIELDS_NOT) {
                sp();
                expect('(');
                fields.add(astring().toUpperCase(Locale.ROOT));
                while (peek() == ' ') {
                    pos++;
                    fields.add(astring().toUpperCase(Locale.ROOT));
                }
                expect(')');
            }
        }
        expect(']');
        long offset = FetchItem.Section.WHOLE;
        long length = 0;
        if (peek() == '<') {
            pos++;
            offset = number();
            expect('.');
            length = number();
            if (length == 0) {
                throw new ImapSyntaxException("a partial length must be positive");
            }
            expect('>');
        }
        return new FetchItem.Section(part, text, fields, peek, offset, length, label, binary);
    }

    // --- STORE (RFC 3501 §6.4.6, RFC 7162 UNCHANGEDSINCE)

    private ImapCommand store(boolean uid) throws ImapSyntaxException, IOException {
        sp();
        SequenceSet set = sequenceSet();
        sp();
        Optional<Long> unchangedSince = Optional.empty();
        if (peek() == '(') {
            pos++;
            expectWord("UNCHANGEDSINCE");
            sp();
            unchangedSince = Optional.of(number());
            expect(')');
            sp();
        }
        ImapCommand.StoreMode mode = ImapCommand.StoreMode.REPLACE;
        if (peek() == '+') {
            mode = ImapCommand.StoreMode.ADD;
            pos++;
        } else if (peek() == '-') {
            mode = ImapCommand.StoreMode.REMOVE;
            pos++;
        }
        String what = fetchWord().toUpperCase(Locale.ROOT);
        boolean silent = what.endsWith(".SILENT");
        String base = silent ? what.substring(0, what.length() - 7) : what;
        if (!base.equals("FLAGS")) {
            throw new ImapSyntaxException("STORE takes FLAGS, +FLAGS or -FLAGS (optionally .SILENT)");
        }
        sp();
        Flags flags;
        if (peek() == '(') {
            flags = flagList();
        } else {
            Set<String> words = new LinkedHashSet<>();
            words.add(flagWord());
            while (peek() == ' ') {
                pos++;
                words.add(flagWord());
            }
            flags = toFlags(words);
        }
        return new ImapCommand.Store(uid, set, mode, silent, flags, unchangedSince);
    }

    private ImapCommand copy(boolean uid, boolean move) throws ImapSyntaxException, IOException {
        sp();
        SequenceSet set = sequenceSet();
        sp();
        return new ImapCommand.Copy(uid, set, mailbox(), move);
    }

    // --- SEARCH (RFC 3501 §6.4.4, RFC 4731 ESEARCH)

    private ImapCommand search(boolean uid) throws ImapSyntaxException, IOException {
        sp();
        Optional<List<String>> returnOptions = returnOptions();
        Optional<String> charset = Optional.empty();
        if (line.regionMatches(true, pos, "CHARSET ", 0, 8)) {
            pos += 8;
            // an unknown charset is not a syntax error: the session answers NO [BADCHARSET] (RFC 3501 §6.4.4)
            charset = Optional.of(astring());
            sp();
        }
        return new ImapCommand.Search(uid, charset, searchKeys(), returnOptions.isPresent(),
                returnOptions.orElse(List.of()));
    }

    /** All the return options there are here: RFC 4731's and SAVE (RFC 5182 SEARCHRES); not PARTIAL (RFC 9394). */
    private static final List<String> RETURN_OPTIONS = List.of("MIN", "MAX", "ALL", "COUNT", "SAVE");

    /**
     * RFC 4731 "RETURN (...)" before the search keys (and the sort criteria, RFC 5267 §3), if there.
     * RFC 4466 §2.6.1: a return option the server does not know makes the command BAD.
     */
    private Optional<List<String>> returnOptions() throws ImapSyntaxException {
        if (!line.regionMatches(true, pos, "RETURN ", 0, 7)) {
            return Optional.empty();
        }
        pos += 7;
        List<String> options = atomList().stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
        savesResult = options.contains("SAVE");
        for (String option : options) {
            if (!RETURN_OPTIONS.contains(option)) {
                throw new ImapSyntaxException("unknown return option " + option);
            }
        }
        sp();
        return Optional.of(options);
    }

    /** One or more search keys, which all must match. */
    private SearchKey searchKeys() throws ImapSyntaxException, IOException {
        List<SearchKey> keys = new ArrayList<>();
        keys.add(searchKey(0));
        while (peek() == ' ') {
            pos++;
            keys.add(searchKey(0));
        }
        return keys.size() == 1 ? keys.get(0) : new SearchKey.And(keys);
    }

    // --- SORT and THREAD (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO, RFC 5267 §3 ESORT)

    private ImapCommand sort(boolean uid) throws ImapSyntaxException, IOException {
        sp();
        Optional<List<String>> returnOptions = returnOptions();
        if (peek() != '(') {
            throw new ImapSyntaxException("SORT needs a list of sort criteria, e.g. SORT (REVERSE DATE) UTF-8 ALL");
        }
        List<SortCriterion> criteria = new ArrayList<>();
        pos++;
        while (true) {
            String word = atom().toUpperCase(Locale.ROOT);
            boolean reverse = word.equals("REVERSE");
            if (reverse) {
                sp();
                word = atom().toUpperCase(Locale.ROOT);
            }
            criteria.add(new SortCriterion(sortKey(word), reverse));
            if (peek() != ' ') {
                break;
            }
            pos++;
        }
        expect(')');
        String charset = charset("SORT (DATE) UTF-8 ALL");
        return new ImapCommand.Sort(uid, criteria, charset, searchKeys(), returnOptions.isPresent(),
                returnOptions.orElse(List.of()));
    }

    private static SortCriterion.Key sortKey(String word) throws ImapSyntaxException {
        for (SortCriterion.Key k : SortCriterion.Key.values()) {
            if (k.name().equals(word)) {
                return k;
            }
        }
        throw new ImapSyntaxException("unknown sort criterion " + word
                + "; use ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM or DISPLAYTO, each may follow REVERSE");
    }

    private ImapCommand thread(boolean uid) throws ImapSyntaxException, IOException {
        sp();
        String name = atom().toUpperCase(Locale.ROOT);
        ImapCommand.ThreadAlgorithm algorithm = switch (name) {
            case "ORDEREDSUBJECT" -> ImapCommand.ThreadAlgorithm.ORDEREDSUBJECT;
            case "REFERENCES" -> ImapCommand.ThreadAlgorithm.REFERENCES;
            default -> throw new ImapSyntaxException("unknown threading algorithm " + name
                    + "; use REFERENCES or ORDEREDSUBJECT");
        };
        String charset = charset("THREAD REFERENCES UTF-8 ALL");
        return new ImapCommand.ThreadMessages(uid, algorithm, charset, searchKeys());
    }

    /**
     * RFC 5256 §3: unlike SEARCH, SORT and THREAD always name the charset of their search keys. A
     * charset this server does not know parses, and the session answers NO [BADCHARSET].
     */
    private String charset(String example) throws ImapSyntaxException, IOException {
        String missing = "missing charset or search keys: e.g. " + example;
        if (peek() != ' ') {
            throw new ImapSyntaxException(missing);
        }
        sp();
        String charset = astring();
        if (peek() != ' ') {
            throw new ImapSyntaxException(missing);
        }
        sp();
        return charset;
    }

    private SearchKey searchKey(int depth) throws ImapSyntaxException, IOException {
        if (depth > MAX_DEPTH || ++searchKeys > MAX_SEARCH_KEYS) {
            throw new ImapSyntaxException("search too complex");
        }
        if (peek() == '(') {
            pos++;
            List<SearchKey> keys = new ArrayList<>();
            keys.add(searchKey(depth + 1));
            while (peek() == ' ') {
                pos++;
                keys.add(searchKey(depth + 1));
            }
            expect(')');
            return keys.size() == 1 ? keys.get(0) : new SearchKey.And(keys);
        }
        if (Character.isDigit(peek()) || peek() == '*' || peek() == '$') {
            return new SearchKey.Sequence(sequenceSet());
        }
        String word = atom().toUpperCase(Locale.ROOT);
        return switch (word) {
            case "ALL" -> new SearchKey.All();
            case "ANSWERED" -> new SearchKey.Flag(Flag.ANSWERED, true);
            case "DELETED" -> new SearchKey.Flag(Flag.DELETED, true);
            case "DRAFT" -> new SearchKey.Flag(Flag.DRAFT, true);
            case "FLAGGED" -> new SearchKey.Flag(Flag.FLAGGED, true);
            case "SEEN" -> new SearchKey.Flag(Flag.SEEN, true);
            case "UNANSWERED" -> new SearchKey.Flag(Flag.ANSWERED, false);
            case "UNDELETED" -> new SearchKey.Flag(Flag.DELETED, false);
            case "UNDRAFT" -> new SearchKey.Flag(Flag.DRAFT, false);
            case "UNFLAGGED" -> new SearchKey.Flag(Flag.FLAGGED, false);
            case "UNSEEN" -> new SearchKey.Flag(Flag.SEEN, false);
            case "RECENT" -> new SearchKey.Recent(true);
            case "OLD" -> new SearchKey.Recent(false);
            case "NEW" -> new SearchKey.And(List.of(new SearchKey.Recent(true), new SearchKey.Flag(Flag.SEEN, false)));
            case "KEYWORD", "UNKEYWORD" -> {
                sp();
                yield new SearchKey.Keyword(atom(), word.equals("KEYWORD"));
            }
            case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE" -> {
                sp();
                SearchKey.DateField field = word.startsWith("SENT") ? SearchKey.DateField.SENT
                        : word.startsWith("SAVED") ? SearchKey.DateField.SAVED : SearchKey.DateField.INTERNAL;
                String op = word.substring(field == SearchKey.DateField.INTERNAL ? 0 : field.name().length());
                yield new SearchKey.Date(SearchKey.DateOp.valueOf(op), date(), field);
            }
            case "SAVEDATESUPPORTED" -> new SearchKey.SaveDateSupported(); // RFC 8514 §4.3
            case "EMAILID", "THREADID" -> { // RFC 8474 §6: an objectid, no string or literal
                sp();
                yield new SearchKey.ObjectId(objectId(), word.equals("THREADID"));
            }
            case "LARGER", "SMALLER" -> {
                sp();
                yield new SearchKey.Size(word.equals("LARGER"), number());
            }
            case "OLDER", "YOUNGER" -> { // RFC 5032 §4: nz-number of seconds
                sp();
                long seconds = number();
                if (seconds == 0 || seconds > 0xFFFF_FFFFL) { // RFC 3501 §9: a number is 32-bit
                    throw new ImapSyntaxException(word + " takes a number of seconds from 1 to 4294967295 (RFC 5032)");
                }
                yield new SearchKey.Age(word.equals("OLDER"), seconds);
            }
            case "FROM", "TO", "CC", "BCC", "SUBJECT" -> {
                sp();
                yield new SearchKey.Header(word, astring());
            }
            case "HEADER" -> {
                sp();
                String field = astring();
                sp();
                yield new SearchKey.Header(field.toUpperCase(Locale.ROOT), astring());
            }
            case "BODY" -> {
                sp();
                yield new SearchKey.Body(astring());
            }
            case "TEXT" -> {
                sp();
                yield new SearchKey.Text(astring());
            }
            case "UID" -> {
                sp();
                yield new SearchKey.Uids(sequenceSet());
            }
            case "MODSEQ" -> {
                sp();
                if (peek() == '"') { // entry-name entry-type-req: ignored (RFC 7162 §3.1.5)
                    quoted();
                    sp();
                    atom();
                    sp();
                }
                yield new SearchKey.ModSeq(number());
            }
            case "NOT" -> {
                sp();
                yield new SearchKey.Not(searchKey(depth + 1));
            }
            case "OR" -> {
                sp();
                SearchKey a = searchKey(depth + 1);
                sp();
                yield new SearchKey.Or(a, searchKey(depth + 1));
            }
            default -> throw new ImapSyntaxException("unknown search key " + word);
        };
    }

    /** RFC 8474 §7 objectid = 1*255(ALPHA / DIGIT / "_" / "-"); anything else is BAD. */
    private String objectId() throws ImapSyntaxException {
        int start = pos;
        while (pos < line.length() && pos - start <= 255 && isObjectIdChar(line.charAt(pos))) {
            pos++;
        }
        if (pos == start || pos - start > 255 || (pos < line.length() && line.charAt(pos) != ' ' && line.charAt(pos) != ')')) {
            throw new ImapSyntaxException("bad object id at \"" + rest() + "\"; ids are 1 to 255 of A-Z a-z 0-9 _ -");
        }
        return line.substring(start, pos);
    }

    private static boolean isObjectIdChar(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }

    private LocalDate date() throws ImapSyntaxException, IOException {
        String text = peek() == '"' ? quoted() : atom();
        try {
            return LocalDate.parse(text, DATE);
        } catch (DateTimeParseException e) {
            throw new ImapSyntaxException("bad date " + text + "; expected e.g. 1-Feb-2026");
        }
    }

    // --- flags

    private Flags flagList() throws ImapSyntaxException {
        expect('(');
        Set<String> words = new LinkedHashSet<>();
        while (peek() != ')') {
            if (!words.isEmpty()) {
                sp();
            }
            words.add(flagWord());
        }
        expect(')');
        return toFlags(words);
    }

    private String flagWord() throws ImapSyntaxException {
        int start = pos;
        if (peek() == '\\') {
            pos++;
        }
        while (pos < line.length() && isAtomChar(line.charAt(pos))) {
            pos++;
        }
        if (pos == start || (pos == start + 1 && line.charAt(start) == '\\')) {
            throw new ImapSyntaxException("expected a flag at \"" + rest() + "\"");
        }
        return line.substring(start, pos);
    }

    static Flags toFlags(Set<String> words) throws ImapSyntaxException {
        EnumSet<Flag> system = EnumSet.noneOf(Flag.class);
        Set<String> keywords = new LinkedHashSet<>();
        for (String w : words) {
            if (w.startsWith("\\")) {
                if (w.equalsIgnoreCase("\\Recent")) {
                    continue; // RFC 3501 §2.3.2: \Recent cannot be stored
                }
                system.add(Flag.byWireName(w).orElseThrow(() -> new ImapSyntaxException("unknown system flag " + w)));
            } else if (Flags.isKeyword(w)) {
                keywords.add(w);
            } else {
                // an atom the store cannot keep (over MAX_KEYWORD characters): a syntax error, not a crash
                throw new ImapSyntaxException("keyword the store cannot keep: over " + Flags.MAX_KEYWORD + " characters");
            }
        }
        return new Flags(system, keywords);
    }

    // --- tokens

    SequenceSet sequenceSet() throws ImapSyntaxException {
        if (peek() == '$') { // RFC 5182 §3: sequence-set =/ seq-last-command, "$" on its own
            pos++;
            return SequenceSet.SAVED;
        }
        int start = pos;
        while (pos < line.length() && (Character.isDigit(line.charAt(pos)) || ":,*".indexOf(line.charAt(pos)) >= 0)) {
            pos++;
        }
        return SequenceSet.parse(line.substring(start, pos));
    }

    String mailbox() throws ImapSyntaxException, IOException {
        return astring();
    }

    private String listMailbox() throws ImapSyntaxException, IOException {
        char c = peek();
        if (c == '"' || c == '{') {
            return string();
        }
        int start = pos;
        while (pos < line.length() && (isAtomChar(line.charAt(pos)) || "%*]".indexOf(line.charAt(pos)) >= 0)) {
            pos++;
        }
        if (start == pos) {
            throw new ImapSyntaxException("expected a mailbox pattern");
        }
        return line.substring(start, pos);
    }

    String astring() throws ImapSyntaxException, IOException {
        char c = peek();
        if (c == '"' || c == '{') {
            return string();
        }
        int start = pos;
        while (pos < line.length() && (isAtomChar(line.charAt(pos)) || line.charAt(pos) == ']')) {
            pos++;
        }
        if (start == pos) {
            throw new ImapSyntaxException("expected a string at \"" + rest() + "\"");
        }
        return line.substring(start, pos);
    }

    private String string() throws ImapSyntaxException, IOException {
        if (peek() == '"') {
            return quoted();
        }
        long[] header = literalHeader();
        if (header[0] > 64 * 1024) {
            throw new ImapSyntaxException("literal too long for a string (max 65536)");
        }
        byte[] bytes = source.literal(header[0], header[1] == 0);
        // The rest of the line is read before the literal's octets are judged: a refusal then leaves the
        // parser on that line, so only a literal it announces is still to be skipped (RFC 7888 §4), not
        // the one just read, and nothing of it is left to be read as a command.
        line = source.nextLine();
        if (line == null) {
            throw new IOException("connection closed inside a command");
        }
        pos = 0;
        if (indexOf(bytes, (byte) 0) >= 0) {
            throw new ImapSyntaxException("NUL in a literal string"); // RFC 3501 §9: CHAR8 excludes NUL
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        // U+FFFD marks bytes that were not UTF-8 (or one that was sent): only then a strict look
        if (text.indexOf('\uFFFD') >= 0 && !dev.mailstack.mime.MailCharset.isUtf8(bytes, 0, bytes.length)) {
            literalNotUtf8 = true;
        }
        return text;
    }

    private static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** Reads "{n}" or "{n+}" ending the line: {size, 1 if non-synchronising (RFC 7888)}. */
    private long[] literalHeader() throws ImapSyntaxException {
        expect('{');
        long n = number();
        boolean plus = peek() == '+';
        if (plus) {
            pos++;
        }
        expect('}');
        if (pos != line.length()) {
            throw new ImapSyntaxException("a literal {n} must end the line");
        }
        return new long[]{n, plus ? 1 : 0};
    }

    private String quoted() throws ImapSyntaxException {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= line.length()) {
                throw new ImapSyntaxException("unterminated quoted string");
            }
            char c = line.charAt(pos++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                if (pos >= line.length() || (line.charAt(pos) != '"' && line.charAt(pos) != '\\')) {
                    throw new ImapSyntaxException("only \\\" and \\\\ may be escaped in a quoted string");
                }
                c = line.charAt(pos++);
            } else if (c == 0 || c == '\r' || c == '\n') {
                throw new ImapSyntaxException("control character in a quoted string");
            }
            sb.append(c);
        }
    }

    String atom() throws ImapSyntaxException {
        int start = pos;
        while (pos < line.length() && isAtomChar(line.charAt(pos))) {
            pos++;
        }
        if (start == pos) {
            throw new ImapSyntaxException(pos >= line.length() ? "missing argument" : "unexpected \"" + rest() + "\"");
        }
        return line.substring(start, pos);
    }

    private List<String> atomList() throws ImapSyntaxException {
        expect('(');
        List<String> out = new ArrayList<>();
        while (peek() != ')') {
            if (!out.isEmpty()) {
                sp();
            }
            out.add(atom());
        }
        expect(')');
        return out;
    }

    /** Skips a parenthesised list of any content (ID parameters, CREATE options), depth-limited. */
    private void skipList(int depth) throws ImapSyntaxException, IOException {
        if (depth > MAX_DEPTH) {
            throw new ImapSyntaxException("lists nested too deep");
        }
        expect('(');
        while (peek() != ')') {
            char c = peek();
            if (c == ' ') {
                pos++;
            } else if (c == '(') {
                skipList(depth + 1);
            } else if (c == '"' || c == '{') {
                string();
            } else if (c == 0) {
                throw new ImapSyntaxException("unterminated list");
            } else {
                astring();
            }
        }
        expect(')');
    }

    long number() throws ImapSyntaxException {
        int start = pos;
        while (pos < line.length() && line.charAt(pos) >= '0' && line.charAt(pos) <= '9' && pos - start < 20) {
            pos++;
        }
        if (start == pos) {
            throw new ImapSyntaxException("expected a number at \"" + rest() + "\"");
        }
        try {
            return Long.parseLong(line.substring(start, pos));
        } catch (NumberFormatException e) {
            throw new ImapSyntaxException("number too large");
        }
    }

    private void expectWord(String word) throws ImapSyntaxException {
        String a = atom();
        if (!a.equalsIgnoreCase(word)) {
            throw new ImapSyntaxException("expected " + word + ", got " + a);
        }
    }

    void sp() throws ImapSyntaxException {
        expect(' ');
    }

    private void expect(char c) throws ImapSyntaxException {
        if (peek() != c) {
            throw new ImapSyntaxException(pos >= line.length() ? "missing argument (expected '" + c + "')"
                    : "expected '" + c + "' at \"" + rest() + "\"");
        }
        pos++;
    }

    char peek() {
        return pos < line.length() ? line.charAt(pos) : 0;
    }

    void end() throws ImapSyntaxException {
        if (pos != line.length()) {
            throw new ImapSyntaxException("unexpected extra text \"" + rest() + "\"");
        }
    }

    private String rest() {
        String r = line.substring(Math.min(pos, line.length()));
        return r.length() > 40 ? r.substring(0, 40) + "..." : r;
    }

    static boolean isTagChar(int c) {
        return isAtomChar(c) && c != '+';
    }

    /** RFC 3501 ATOM-CHAR: any CHAR except atom-specials. */
    static boolean isAtomChar(int c) {
        return c > 0x20 && c < 0x7f && "(){%*\"\\]".indexOf(c) < 0;
    }
}

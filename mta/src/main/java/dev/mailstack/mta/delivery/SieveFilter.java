package dev.mailstack.mta.delivery;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.sieve.AdminScripts;
import dev.mailstack.sieve.MessageBody;
import dev.mailstack.sieve.SieveAction;
import dev.mailstack.sieve.SieveException;
import dev.mailstack.sieve.SieveEnvironment;
import dev.mailstack.sieve.SieveMessage;
import dev.mailstack.sieve.SieveOutcome;
import dev.mailstack.sieve.SieveScript;
import dev.mailstack.store.Account;
import dev.mailstack.store.Flag;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxInfo;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.SieveDuplicates;
import dev.mailstack.store.SieveScripts;
import dev.mailstack.store.SpecialUse;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreSession;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Runs an account's active Sieve script (RFC 5228; set with {@code mailstack user sieve} or over
 * ManageSieve) on a message being delivered to it, between the administrator's before- and
 * after-scripts ({@link AdminScripts}, config sieve.before and sieve.after), and says where the
 * message goes: the
 * account's mailboxes with their flags, addresses to redirect it to, a vacation reply to send. An
 * account without any script to run, and a script that fails, get the implicit keep (§2.10.6), so mail is
 * never lost to a filter. Reads the message's header, up to {@link #HEADER_LIMIT}, and its body only
 * when a script's body test asks for it.
 */
public final class SieveFilter {
    private static final Logger LOG = System.getLogger(SieveFilter.class.getName());
    /** What of a header the tests see: a header longer than this is matched on its start. */
    static final int HEADER_LIMIT = 64 * 1024;
    /** Scripts parsed once and kept by their text: a script runs for every message its account gets. */
    private static final int PARSED_SCRIPTS = 256;
    /** RFC 3501 §9 atom-specials and '\' and ']': what a keyword may not hold. */
    private static final String NOT_IN_KEYWORDS = "(){ %*\"\\]";

    /**
     * Where one copy goes: {@code mailbox} empty for the keep's place (INBOX, or Junk for quarantined
     * mail). {@code specialUse}: the attribute a mailbox made by {@code create} gets (RFC 8579 §4).
     */
    public record Placement(Optional<MailboxName> mailbox, Flags flags, boolean create, Optional<SpecialUse> specialUse) {
        public Placement(Optional<MailboxName> mailbox, Flags flags, boolean create) {
            this(mailbox, flags, create, Optional.empty());
        }
    }

    /**
     * What becomes of a message for one account. No placements: the script discarded it, or
     * refused it with {@code rejection}'s reason (RFC 5429), which no other action goes with.
     * {@code duplicates}: the IDs the duplicate test looked at, to record once the message is
     * delivered (RFC 7352 §3), their periods already capped by sieve.duplicate_max_period_seconds.
     * {@code notifications}: the script's notify actions (RFC 5435), sent once the message is in.
     * {@code edited}: the message as editheader left it (RFC 5293), what the placements store and
     * the redirects send; empty: the queued message itself.
     */
    public record Disposition(List<Placement> placements, List<String> redirects,
                              Optional<SieveAction.Vacation> vacation, Optional<String> rejection,
                              List<SieveDuplicates.Mark> duplicates, List<SieveAction.Notify> notifications,
                              Optional<EditedCopy> edited) {
        public Disposition {
            placements = List.copyOf(placements);
            redirects = List.copyOf(redirects);
            duplicates = List.copyOf(duplicates);
            notifications = List.copyOf(notifications);
            java.util.Objects.requireNonNull(edited, "edited");
        }

        public Disposition(List<Placement> placements, List<String> redirects, Optional<SieveAction.Vacation> vacation,
                Optional<String> rejection, List<SieveDuplicates.Mark> duplicates, List<SieveAction.Notify> notifications) {
            this(placements, redirects, vacation, rejection, duplicates, notifications, Optional.empty());
        }

        /** The implicit keep alone, of the message as the script edited it: what a full mailbox still takes. */
        Disposition keepOnly() {
            return new Disposition(KEEP.placements(), List.of(), Optional.empty(), Optional.empty(), List.of(), List.of(),
                    edited);
        }

        public Disposition(List<Placement> placements, List<String> redirects, Optional<SieveAction.Vacation> vacation,
                Optional<String> rejection) {
            this(placements, redirects, vacation, rejection, List.of(), List.of());
        }

        static final Disposition KEEP = new Disposition(
                List.of(new Placement(Optional.empty(), Flags.NONE, false)), List.of(), Optional.empty(), Optional.empty());
    }

    private final MailboxStore store;
    /** This server's name, for the environment test (RFC 5183 "host"). */
    private final String hostname;
    /** Replaced whole on SIGHUP; a delivery uses the settings it read at its start. */
    private volatile SieveSettings settings = SieveSettings.NONE;
    private final Map<String, SieveScript> parsed = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, SieveScript> eldest) {
            return size() > PARSED_SCRIPTS;
        }
    };

    public SieveFilter(MailboxStore store, String hostname) {
        this.store = store;
        this.hostname = hostname;
    }

    /** The site's Sieve settings for the deliveries from now on (at start and on SIGHUP). */
    public void use(SieveSettings settings) {
        this.settings = java.util.Objects.requireNonNull(settings, "settings");
    }

    /**
     * Where {@code message}, sent to {@code recipient}, goes for {@code account}. Throws when the
     * message or the store cannot be read just now: the delivery is tried again, unfiltered never.
     */
    public Disposition decide(QueuedMessage message, Account account, String recipient, StoreSession session)
            throws IOException {
        return decide(message, account, recipient, session, Map.of());
    }

    /**
     * {@link #decide(QueuedMessage, Account, String, StoreSession)}, where the duplicate test also
     * finds the IDs in {@code earlier} ({@link #duplicateKey}): those of messages delivered in the
     * same batch, not recorded yet, each with the messages that had it; the message's own entries
     * (it reaches the account through two of its addresses) are not earlier ones (RFC 7352 §3).
     */
    public Disposition decide(QueuedMessage message, Account account, String recipient, StoreSession session,
                              Map<String, Set<QueueId>> earlier) throws IOException {
        SieveSettings site = settings;
        AdminScripts admin = site.adminScripts();
        Optional<SieveScripts.ActiveScript> active = store.sieveScripts().activeScript(account.id());
        // a user script that does not parse is left out; the administrator's still run around it
        Optional<SieveScript> script = active.flatMap(t -> parse(t.content(), account));
        if (script.isEmpty() && admin.isEmpty()) {
            return Disposition.KEEP;
        }
        byte[] header;
        try (InputStream in = new BufferedInputStream(store.openContent(message.contentKey(), 0), 8192)) {
            header = header(in);
        }
        // RFC 5183: the queue keeps no record of the SMTP client, so remote-host and remote-ip are unknown
        String domain = account.address().substring(account.address().lastIndexOf('@') + 1);
        boolean needsBody = script.filter(SieveFilter::needsBody).isPresent()
                || admin.before().stream().anyMatch(SieveFilter::needsBody)
                || admin.after().stream().anyMatch(SieveFilter::needsBody);
        SieveOutcome outcome;
        Recipient asked = new Recipient(account, session, site.globalDir(), message.id(), earlier);
        try {
            outcome = admin.run(script, active.map(SieveScripts.ActiveScript::name), sieveMessage(needsBody, message, header, recipient),
                    asked,
                    new SieveEnvironment(Clock.systemDefaultZone(), domain, hostname, "", "", "")
                            .withScanners(site.spamTest(), site.virusTest()).withEditHeader(site.editHeader()));
        } catch (UncheckedIOException e) {
            throw e.getCause(); // a body test could not read the content now: tried again, as for the header
        }
        for (String error : outcome.errors()) {
            LOG.log(Level.WARNING, "sieve: script failed, message kept queue={0} user={1}: {2}", message.id(),
                    account.address(), error);
        }
        LOG.log(Level.INFO, "sieve queue={0} user={1} actions={2}", message.id(), account.address(), describe(outcome));
        Disposition d = disposition(outcome);
        List<SieveDuplicates.Mark> duplicates = outcome.duplicates().stream().map(c -> new SieveDuplicates.Mark(c.handle(),
                c.id(), c.period().compareTo(site.duplicateMaxPeriod()) > 0 ? site.duplicateMaxPeriod() : c.period(),
                c.last(), asked.answered(c.handle(), c.id()))).toList();
        if (message.envelope().junk() && (!d.redirects().isEmpty() || d.rejection().isPresent()
                || d.placements().stream().anyMatch(p -> p.mailbox().isPresent()))) {
            // Quarantined because its From fails DMARC (a forgery, likely phishing): a rule matching its
            // subject must not lift it out of Junk, nor send it on from our address, nor send a
            // rejection to a sender who most likely never wrote it (backscatter).
            LOG.log(Level.INFO, "sieve: quarantined mail stays in Junk, not filed, redirected or rejected queue={0} user={1}",
                    message.id(), account.address());
            d = new Disposition(d.placements().isEmpty() && d.rejection().isEmpty() ? List.of()
                    : Disposition.KEEP.placements(), List.of(), d.vacation(), Optional.empty());
        }
        if (message.envelope().junk() && !d.notifications().isEmpty()) {
            // nor tell anyone of it: a notification is an invitation to open a phishing mail
            LOG.log(Level.INFO, "sieve: quarantined mail notifies nobody queue={0} user={1}", message.id(), account.address());
            d = new Disposition(d.placements(), d.redirects(), d.vacation(), d.rejection(), List.of(), List.of());
        }
        if (!d.redirects().isEmpty() && redirectedBefore(header, account.address(), recipient)) {
            // RFC 5228 §4.2 loop control: this account sent it on once already (our Received field
            // of a redirect names it). Not again: kept instead, so a loop ends with the mail in a mailbox.
            LOG.log(Level.WARNING, "sieve: redirect loop, kept instead queue={0} user={1}", message.id(), account.address());
            d = new Disposition(d.placements().isEmpty() ? Disposition.KEEP.placements() : d.placements(), List.of(),
                    d.vacation(), Optional.empty(), List.of(), d.notifications());
        }
        return new Disposition(d.placements(), d.redirects(), d.vacation(), d.rejection(), duplicates, d.notifications(),
                edited(outcome, header, message, account));
    }

    /**
     * The message as the scripts' editheader actions left it (RFC 5293), when they changed it:
     * its new header section before the queued body. Not when the header was longer than the
     * scripts saw ({@link #HEADER_LIMIT}): what lay past it would be lost, so the edits are
     * dropped (logged) and the message stored as it came.
     */
    private static Optional<EditedCopy> edited(SieveOutcome outcome, byte[] header, QueuedMessage message, Account account) {
        if (outcome.header().isEmpty()) {
            return Optional.empty();
        }
        boolean whole = header.length == message.size() || header.length >= 2 && header[header.length - 1] == '\n'
                && (header[header.length - 2] == '\n' || header.length >= 3 && header[header.length - 2] == '\r'
                && header[header.length - 3] == '\n');
        if (!whole) {
            LOG.log(Level.WARNING, "sieve: header longer than {0} octets, editheader changes dropped queue={1} user={2}",
                    HEADER_LIMIT, message.id(), account.address());
            return Optional.empty();
        }
        byte[] edited = outcome.header().get().write(header);
        if (java.util.Arrays.equals(edited, header)) {
            return Optional.empty(); // edits that undo each other: the queued content itself, no copy to make
        }
        return Optional.of(new EditedCopy(edited, header.length));
    }

    /**
     * The message as the script sees it. A script that may test the body (RFC 5173) gets it through
     * the MIME summary parsed at delivery and the queued content: read only if a body test runs,
     * only the parts it asks for, bounded per part and per message by the sieve module.
     */
    private SieveMessage sieveMessage(boolean needsBody, QueuedMessage message, byte[] header, String recipient) {
        String from = message.envelope().returnPath();
        if (!needsBody) {
            return SieveMessage.of(header, message.size(), from, recipient);
        }
        MessageSummary summary = MessageSummary.decode(store.facts(message.content()).summary());
        return SieveMessage.of(header, message.size(), from, recipient,
                new MessageBody(summary, offset -> store.openContent(message.contentKey(), offset)));
    }

    /**
     * Whether a run of {@code script} may test the body: it requires "body", or may turn it on
     * while it runs (ihave, RFC 5463) or reach a script that requires it (include, RFC 6609).
     */
    private static boolean needsBody(SieveScript script) {
        return script.required().contains("body") || script.required().contains("ihave")
                || script.required().contains("include");
    }

    /**
     * Whether a delivery to {@code account} may run a duplicate test (RFC 7352): its active script
     * or the administrator's require it, or may reach one through include or ihave.
     */
    boolean mayTestDuplicates(Account account) {
        AdminScripts admin = settings.adminScripts();
        if (admin.before().stream().anyMatch(SieveFilter::testsDuplicates)
                || admin.after().stream().anyMatch(SieveFilter::testsDuplicates)) {
            return true;
        }
        return store.sieveScripts().activeSieveScript(account.id()).flatMap(t -> parse(t, account))
                .filter(SieveFilter::testsDuplicates).isPresent();
    }

    private static boolean testsDuplicates(SieveScript script) {
        return script.required().contains("duplicate") || script.required().contains("include")
                || script.required().contains("ihave");
    }

    /** A duplicate test's handle and ID as one key, for the IDs of a batch's earlier messages. */
    static String duplicateKey(String handle, String id) {
        return handle + "\0" + id;
    }

    /**
     * Whether a Received field of our redirects ("Received: by HOST (mailstack) id Q ... for <ADDRESS>",
     * as QueueRunner writes it) names the account or the address it came through.
     */
    static boolean redirectedBefore(byte[] header, String account, String recipient) throws IOException {
        for (String field : HeaderFields.read(new ByteArrayInputStream(header), HEADER_LIMIT + 1)) {
            if (!HeaderFields.name(field).equals("received")) {
                continue;
            }
            String value = field.substring(field.indexOf(':') + 1).replaceAll("\\s+", " ").strip().toLowerCase(Locale.ROOT);
            if (value.startsWith("by ") && value.contains(" (mailstack) id ")
                    && (value.contains(" for <" + account.toLowerCase(Locale.ROOT) + ">")
                    || value.contains(" for <" + recipient.toLowerCase(Locale.ROOT) + ">"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The account as its scripts see it: its mailboxes, and the scripts include finds (RFC 6609
     * §3.2): its own stored scripts by name, and the site's NAME.sieve files in sieve.global_dir.
     */
    private final class Recipient implements dev.mailstack.sieve.SieveAccount {
        private final Account account;
        private final StoreSession session;
        private final Optional<java.nio.file.Path> globalDir;
        private final QueueId delivering;
        private final Map<String, Set<QueueId>> earlier;
        /** Lookups of one run, each asked of the store once however often (and from however many includes) a test asks. */
        private final Map<String, Boolean> exists = new HashMap<>();
        /** The duplicate tests' answers of this run ({@link #duplicateKey}). */
        private final Map<String, Boolean> answers = new HashMap<>();
        private List<MailboxInfo> mailboxes;

        Recipient(Account account, StoreSession session, Optional<java.nio.file.Path> globalDir, QueueId delivering,
                  Map<String, Set<QueueId>> earlier) {
            this.account = account;
            this.session = session;
            this.globalDir = globalDir;
            this.delivering = delivering;
            this.earlier = earlier;
        }

        @Override
        public boolean mailboxExists(String name) {
            return exists.computeIfAbsent(name, n -> exists(session, n));
        }

        private List<MailboxInfo> mailboxes() {
            if (mailboxes == null) {
                mailboxes = session.list();
            }
            return mailboxes;
        }

        @Override
        public Optional<String> mailboxWithSpecialUse(String attribute) {
            Optional<SpecialUse> use = specialUse(attribute);
            if (use.isEmpty()) {
                return Optional.empty();
            }
            return mailboxes().stream().filter(m -> m.specialUse().equals(use)).map(m -> m.name().path()).findFirst();
        }

        @Override
        public boolean hasSpecialUse(String mailbox, String attribute) {
            Optional<SpecialUse> use = specialUse(attribute);
            if (use.isEmpty()) {
                return false;
            }
            try {
                return session.find(new MailboxName(mailbox)).filter(m -> m.specialUse().equals(use)).isPresent();
            } catch (StoreException e) {
                if (e.failure() == dev.mailstack.store.StoreFailure.TEMPORARY) {
                    throw e;
                }
                return false; // not a name a mailbox can have
            }
        }

        @Override
        public boolean seenBefore(String handle, String id) {
            // the message's own earlier answer first: copies that came meanwhile, in this batch or
            // before it, must not turn a retry of the first copy into a duplicate of the later ones
            boolean seen = store.sieveDuplicates().answered(account.id(), handle, id, delivering).orElseGet(() ->
                    earlier.getOrDefault(duplicateKey(handle, id), Set.of()).stream().anyMatch(q -> !q.equals(delivering))
                    || store.sieveDuplicates().seen(account.id(), handle, id, java.time.Instant.now(), delivering));
            answers.put(duplicateKey(handle, id), seen);
            return seen;
        }

        /** What {@link #seenBefore} answered for the ID in this run, kept with its mark for a retry to get again. */
        boolean answered(String handle, String id) {
            return answers.getOrDefault(duplicateKey(handle, id), false);
        }

        @Override
        public Optional<SieveScript> personalScript(String name) throws SieveException {
            Optional<String> text;
            try {
                text = store.sieveScripts().get(account.id(), name);
            } catch (StoreException e) {
                if (e.failure() == dev.mailstack.store.StoreFailure.TEMPORARY) {
                    throw e; // the delivery is tried again
                }
                return Optional.empty(); // not a name a script can have
            }
            return text.isEmpty() ? Optional.empty() : Optional.of(parsed(text.get()));
        }

        @Override
        public Optional<SieveScript> globalScript(String name) throws SieveException {
            // a plain file name only: "../x" or "a/b" must not reach outside the directory
            if (globalDir.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")
                    || name.indexOf(0) >= 0) {
                return Optional.empty();
            }
            java.nio.file.Path file = globalDir.get().resolve(name + ".sieve");
            if (!java.nio.file.Files.isRegularFile(file)) {
                return Optional.empty();
            }
            try {
                return Optional.of(parsed(java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new UncheckedIOException(e); // unreadable now: the delivery is tried again, as for the message
            }
        }
    }

    /** A script parsed once and kept by its text. */
    private SieveScript parsed(String text) throws SieveException {
        synchronized (parsed) {
            SieveScript known = parsed.get(text);
            if (known != null) {
                return known;
            }
        }
        SieveScript script = SieveScript.parse(text);
        synchronized (parsed) {
            parsed.put(text, script);
        }
        return script;
    }

    private Optional<SieveScript> parse(String text, Account account) {
        try {
            return Optional.of(parsed(text));
        } catch (SieveException e) {
            // checked when it was stored; a script an older version took may fail a newer one's checks
            LOG.log(Level.WARNING, "sieve: the active script of {0} does not parse, mail is kept: {1}",
                    account.address(), e.getMessage());
            return Optional.empty();
        }
    }

    private static boolean exists(StoreSession session, String name) {
        MailboxName mailbox;
        try {
            mailbox = new MailboxName(name);
        } catch (StoreException e) {
            return false; // not a name a mailbox can have
        }
        // a store that cannot answer now fails the delivery, to be tried again: an "else discard"
        // must not run on a busy database
        return session.find(mailbox).isPresent();
    }

    static Disposition disposition(SieveOutcome outcome) {
        List<Placement> placements = new ArrayList<>();
        List<String> redirects = new ArrayList<>();
        Optional<SieveAction.Vacation> vacation = Optional.empty();
        Optional<String> rejection = Optional.empty();
        List<SieveAction.Notify> notifications = new ArrayList<>();
        for (SieveAction action : outcome.actions()) {
            switch (action) {
                case SieveAction.Keep k -> placements.add(new Placement(Optional.empty(), flags(k.flags()), false));
                case SieveAction.FileInto f -> {
                    Optional<MailboxName> name = mailboxName(f.mailbox());
                    // RFC 5228 §4.1: a name no mailbox can have is an error, and the copy goes where keep would
                    placements.add(new Placement(name, flags(f.flags()), f.create() && name.isPresent(),
                            f.specialUse().flatMap(SieveFilter::specialUse)));
                }
                case SieveAction.Redirect r -> redirects.add(r.address());
                case SieveAction.Vacation v -> vacation = Optional.of(v);
                case SieveAction.Reject r -> rejection = Optional.of(r.reason());
                case SieveAction.Notify n -> notifications.add(n);
            }
        }
        return new Disposition(placements, redirects, vacation, rejection, List.of(), notifications);
    }

    /** The store's special-use role for an RFC 6154 attribute, whatever its case; empty for one the store lacks. */
    static Optional<SpecialUse> specialUse(String attribute) {
        for (SpecialUse u : SpecialUse.values()) {
            if (u.attribute().equalsIgnoreCase(attribute)) {
                return Optional.of(u);
            }
        }
        return Optional.empty();
    }

    private static Optional<MailboxName> mailboxName(String name) {
        try {
            return Optional.of(new MailboxName(name));
        } catch (StoreException e) {
            LOG.log(Level.WARNING, "sieve: fileinto \"{0}\": {1}; kept instead", name, e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * RFC 5232 flags as the store keeps them: system flags by name, keywords as IMAP atoms. A name
     * that is neither (\Recent, which no one may set, or one with spaces or specials) is left out.
     */
    static Flags flags(List<String> names) {
        Set<Flag> system = EnumSet.noneOf(Flag.class);
        Set<String> keywords = new TreeSet<>(String.CASE_INSENSITIVE_ORDER); // RFC 3501 §2.3.2: one keyword, whatever its case
        for (String name : names) {
            if (name.startsWith("\\")) {
                Flag.byWireName(name).ifPresent(system::add);
            } else if (!name.isEmpty() && name.length() <= 100 && name.chars().allMatch(c -> c > 0x20 && c < 0x7f
                    && NOT_IN_KEYWORDS.indexOf(c) < 0)) {
                keywords.add(name);
            }
        }
        return new Flags(system, keywords);
    }

    private static String describe(SieveOutcome outcome) {
        if (outcome.actions().isEmpty()) {
            return "discard";
        }
        List<String> out = new ArrayList<>();
        for (SieveAction action : outcome.actions()) {
            out.add(switch (action) {
                case SieveAction.Keep k -> outcome.implicitKeep() ? "implicit-keep" : "keep";
                case SieveAction.FileInto f -> "fileinto:\"" + f.mailbox() + "\"";
                case SieveAction.Redirect r -> "redirect:<" + r.address() + ">";
                case SieveAction.Vacation v -> "vacation";
                case SieveAction.Reject r -> r.extended() ? "ereject" : "reject";
                case SieveAction.Notify n -> "notify";
            });
        }
        return String.join(",", out);
    }

    /** The header section's octets, through its blank line, or the first {@link #HEADER_LIMIT} of them. */
    static byte[] header(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        int previous = -1;
        int beforePrevious = -1;
        for (int b; out.size() < HEADER_LIMIT && (b = in.read()) >= 0; ) {
            out.write(b);
            // CRLF CRLF, or LF LF from a sloppier source
            if (b == '\n' && (previous == '\n' || previous == '\r' && beforePrevious == '\n')) {
                break;
            }
            beforePrevious = previous;
            previous = b;
        }
        return out.toByteArray();
    }
}

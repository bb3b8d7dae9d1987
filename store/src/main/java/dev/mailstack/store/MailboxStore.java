package dev.mailstack.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The mail store: accounts, mailboxes, messages and the outbound queue over one SQL database,
 * with message octets in content-addressed files under {@code <data>/contents}. One instance per
 * process; every protocol front-end shares it.
 */
public final class MailboxStore implements AutoCloseable {
    private final Database db;
    /** What its opener holds while the store is open, closed after it ({@link #closingAlso}). */
    private volatile AutoCloseable after;
    private final ContentFiles contents;
    private final ChangeBus changes = new ChangeBus();
    private final OpenViews openViews = new OpenViews();
    private final ContentKeys contentKeys = new ContentKeys();
    private final ReentrantReadWriteLock contentUse = new ReentrantReadWriteLock();
    private final AccountWriters accountWriters = new AccountWriters();
    /** Contents the previous {@link #sweepContents} found unused; the next one removes those still unused. */
    private BitSet unusedAtLastSweep = new BitSet();
    /**
     * Contents a writer found stored already and named again since the last sweep: unused then, they
     * may be unused again at the next one without having been unused all the interval between (a
     * POP3 session, which never refreshes, may list the new message). The sweep takes them out of
     * {@link #unusedAtLastSweep}.
     */
    private final java.util.Set<Integer> reusedSinceSweep = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Accounts accounts;
    private final MailQueue queue;
    private final DomainPolicies domainPolicies;
    private final SieveScripts sieveScripts;
    private final SieveDuplicates sieveDuplicates;
    private final Greylist greylist;
    private final Deliveries deliveries = new Deliveries();
    private final EmailIds emailIds;
    private final DiskSpace diskSpace;
    /** Far more folders than a person keeps; Thunderbird lists every one at start. */
    private volatile int maxMailboxes = 10_000;
    private final ContentOctets octets;

    private MailboxStore(Database db, ContentFiles contents, DiskSpace diskSpace) {
        this.db = db;
        this.contents = contents;
        this.octets = new ContentOctets(db);
        this.diskSpace = diskSpace;
        this.accounts = new Accounts(db, accountWriters, changes);
        this.queue = new MailQueue(this);
        this.domainPolicies = new DomainPolicies(db);
        this.sieveScripts = new SieveScripts(db, accountWriters);
        this.sieveDuplicates = new SieveDuplicates(db, accountWriters);
        this.greylist = new Greylist(db);
        this.emailIds = EmailIds.load(db);
    }

    /** Opens the store in {@code dataDir}; {@code jdbcUrl} null means the embedded H2 file there. */
    public static MailboxStore open(Path dataDir, String jdbcUrl) {
        return open(dataDir, jdbcUrl, Database::open);
    }

    /** The store of a database whose schema another process owns: not migrated ({@link Database#openAsItIs}). */
    public static MailboxStore openAsItIs(Path dataDir, String jdbcUrl) {
        return open(dataDir, jdbcUrl, Database::openAsItIs);
    }

    private static MailboxStore open(Path dataDir, String jdbcUrl, java.util.function.Function<String, Database> opening) {
        try {
            Files.createDirectories(dataDir);
            ContentFiles files = new ContentFiles(dataDir.resolve("contents"));
            DiskSpace space = new DiskSpace(dataDir.resolve("contents"));
            Database db = opening.apply(jdbcUrl == null ? Database.defaultUrl(dataDir) : jdbcUrl);
            try {
                return new MailboxStore(db, files, space);
            } catch (RuntimeException e) {
                db.close();
                throw e;
            }
        } catch (IOException e) {
            throw new StoreException(StoreFailure.TEMPORARY, "cannot use data folder " + dataDir + ": " + e.getMessage(), e);
        }
    }

    public Accounts accounts() {
        return accounts;
    }

    public MailQueue queue() {
        return queue;
    }

    /** Policies destination domains published for mail to them, kept across restarts. */
    public DomainPolicies domainPolicies() {
        return domainPolicies;
    }

    /** Accounts' Sieve scripts, managed with ManageSieve and the CLI, run by local delivery. */
    public SieveScripts sieveScripts() {
        return sieveScripts;
    }

    /** What the Sieve duplicate test (RFC 7352) remembers per account. */
    public SieveDuplicates sieveDuplicates() {
        return sieveDuplicates;
    }

    /** The triplets and client networks greylisting (smtp.greylist) has seen. */
    public Greylist greylist() {
        return greylist;
    }

    public ChangeBus changes() {
        return changes;
    }

    OpenViews openViews() {
        return openViews;
    }

    /** Each content's size and file key, for reading messages without their contents rows. */
    ContentKeys contentKeys() {
        return contentKeys;
    }

    /** The per-user context every mailbox operation goes through. */
    public StoreSession open(AccountId account) {
        return new StoreSession(this, account);
    }

    /**
     * The most mailboxes an account may have, and the most names it may subscribe to (config
     * store.max_mailboxes): a LIST reads them all, so they are bounded as every read is.
     */
    public void limitMailboxes(int most) {
        if (most < 1) {
            throw new IllegalArgumentException("at least one mailbox (INBOX): " + most);
        }
        maxMailboxes = most;
    }

    int maxMailboxes() {
        return maxMailboxes;
    }

    /** The free space message files are written to, and the part of it new mail leaves alone. */
    public DiskSpace diskSpace() {
        return diskSpace;
    }

    /** Where a message is received before it is appended or queued: memory when small, else a temporary file. */
    public MessageSpool spool() {
        return contents.spool();
    }

    /** The message octets from {@code offset}; the caller closes the stream. */
    public InputStream openContent(String contentKey, long offset) throws IOException {
        return openContent(contentKey, offset, Long.MAX_VALUE);
    }

    /** At most {@code length} bytes of the content from {@code offset}: reading stops there without asking the file. */
    public InputStream openContent(String contentKey, long offset, long length) throws IOException {
        Optional<InputStream> kept = octets.open(contentKey, offset, length);
        return kept.isPresent() ? kept.get() : contents.open(contentKey, offset, length);
    }

    /**
     * At most {@code length} bytes of a mailbox message's content from {@code offset}. Only a spool
     * held in memory is kept in the database, so a message past {@link MessageSpool#IN_MEMORY_MAX}
     * is read from its file without a query (nor one of the connections readers share), unless it
     * has none: a build with a higher limit (128 KiB for a while) kept it in the database.
     */
    public InputStream openContent(MessageRef message, long offset, long length) throws IOException {
        if (message.size() > MessageSpool.IN_MEMORY_MAX) {
            try {
                return contents.open(message.contentKey(), offset, length);
            } catch (java.nio.file.NoSuchFileException e) {
                // in the database, or gone: the query says which
            }
        }
        Optional<InputStream> kept = octets.open(message.content(), offset, length);
        return kept.isPresent() ? kept.get() : contents.open(message.contentKey(), offset, length);
    }

    /** The message's RFC 8474 EMAILID: the same for all its copies, kept across restarts (see {@link EmailIds}). */
    public String emailId(MessageRef message) {
        return emailIds.of(message.contentKey());
    }

    public MessageFacts facts(ContentId content) {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT size, header_size, body_lines, summary FROM contents WHERE id = ?")) {
            ps.setLong(1, content.value());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(StoreFailure.EXPUNGED, "message content is gone");
                }
                return new MessageFacts(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getBytes(4));
            }
        } catch (SQLException e) {
            throw db.failure(e, "read message facts");
        }
    }

    /**
     * Ids per query of {@link #facts(java.util.Collection)}. H2 checks each row it finds against
     * every parameter of an IN list, so the work of a query grows with the square of its size: at
     * 500 that was a fifth of a cold FETCH 1:* BODYSTRUCTURE of 100,000 messages. Ids written into
     * the statement would be matched by hash, but each list would be a statement text of its own,
     * crowding the delivery path's out of H2's per-connection statement cache.
     */
    private static final int FACTS_PER_QUERY = 100;

    /** Facts of many contents, in queries of {@link #FACTS_PER_QUERY} (a FETCH 1:* BODYSTRUCTURE, a SEARCH). */
    public java.util.Map<ContentId, MessageFacts> facts(java.util.Collection<ContentId> contents) {
        java.util.Map<ContentId, MessageFacts> out = new java.util.HashMap<>();
        List<ContentId> all = new ArrayList<>(new java.util.LinkedHashSet<>(contents));
        if (all.isEmpty()) {
            return out;
        }
        String marks = String.join(",", java.util.Collections.nCopies(FACTS_PER_QUERY, "?"));
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT id, size, header_size, body_lines, summary FROM contents WHERE id IN (" + marks + ")")) {
            for (int from = 0; from < all.size(); from += FACTS_PER_QUERY) {
                for (int i = 0; i < FACTS_PER_QUERY; i++) {
                    // the last query's list filled up with its last id: one statement for all
                    ps.setLong(i + 1, all.get(Math.min(all.size() - 1, from + i)).value());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(new ContentId(rs.getLong(1)),
                                new MessageFacts(rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getBytes(5)));
                    }
                }
            }
        } catch (SQLException e) {
            throw db.failure(e, "read message facts");
        }
        return out;
    }

    /**
     * Expunges every message that was put into a mailbox of special use {@code use} (any account's
     * Trash, say) before {@code savedBefore}; returns how many went. Dovecot's {@code autoexpunge}.
     */
    public int autoexpunge(SpecialUse use, Instant savedBefore) {
        return new Autoexpunge(this).run(use, savedBefore);
    }

    /**
     * Deletes the vacation replies and Sieve duplicate IDs that lapsed before {@code now}, of every
     * account (each account prunes its own when it next gets mail, this is for those that get none),
     * the greylist's lapsed triplets and client networks (a greylist check never deletes), and the
     * delivery records of queue entries that are gone ({@link Deliveries}).
     */
    public int pruneExpiredTracking(Instant now) {
        try (Connection c = db.connect()) {
            int pruned = 0;
            SQLException failed = null;
            for (String sql : List.of("DELETE FROM sieve_duplicates WHERE expires_at <= ?",
                    "DELETE FROM vacation_replies WHERE lapses_at <= ?")) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    pruned += ps.executeUpdate(); // each its own commit: an expired row is no one's
                } catch (SQLException e) {
                    failed = e; // one table's trouble does not keep the others' rows
                }
            }
            try {
                pruned += greylist.prune(c, now);
            } catch (SQLException e) {
                failed = e;
            }
            try {
                pruned += deliveries.prune(c);
            } catch (SQLException e) {
                failed = e;
            }
            if (failed != null) {
                throw failed;
            }
            return pruned;
        } catch (SQLException e) {
            throw db.failure(e, "prune lapsed vacation replies, duplicate IDs, greylist entries and delivery records");
        }
    }

    /**
     * Deletes contents that no mailbox and no queue entry points at any more, and their files.
     * Only contents older than {@code minAge} go. For a store no session uses yet (at start): an
     * open session may still hold a message it has not seen expunged; {@link #sweepContents} is
     * the variant for a running server.
     */
    public int collectGarbage(Duration minAge) {
        contentUse.writeLock().lock();
        try {
            return remove(unusedContents(Instant.now().minus(minAge)));
        } finally {
            contentUse.writeLock().unlock();
        }
    }

    /**
     * Removes the files a crash or a refused write left behind, older than {@code minAge}: spool
     * files, and content files no content row names (a process killed between writing a message's
     * file and committing the rows that point at it; an APPEND refused at its commit). Files newer
     * than that are left, as another process (the CLI) may be between its write and its commit.
     * Runs with the writers of this process held off, as {@link #sweepContents} does (a writer may
     * be reusing an old unnamed file it is about to commit a row for); waits at most {@code
     * lockWait} for those in flight and returns -1 when it gave up.
     */
    public int removeLeftovers(Duration minAge, Duration lockWait) {
        if (!holdOffWriters(lockWait)) {
            return -1;
        }
        try {
            return removeLeftoversHolding(minAge);
        } finally {
            contentUse.writeLock().unlock();
        }
    }

    private int removeLeftoversHolding(Duration minAge) {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT sha256 FROM contents WHERE sha256 >= ? AND sha256 < ?")) {
            return contents.removeLeftovers(Instant.now().minus(minAge), prefix -> {
                java.util.Set<String> known = new java.util.HashSet<>();
                try {
                    ps.setString(1, prefix);
                    ps.setString(2, prefix + "g"); // every sha256 of the prefix sorts before it: hex digits < 'g'
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            known.add(rs.getString(1).trim());
                        }
                    }
                } catch (SQLException e) {
                    throw new java.io.UncheckedIOException(new IOException("read the contents of " + prefix + ": " + e.getMessage(), e));
                }
                return known;
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new StoreException(StoreFailure.TEMPORARY, "remove leftover files: " + e.getMessage(), e);
        } catch (SQLException e) {
            throw db.failure(e, "remove leftover files");
        }
    }

    /**
     * The content sweep of a running server: removes the contents that were unused at the previous
     * sweep and still are. Run at intervals longer than a session can go without refreshing its
     * view (the IMAP idle timeout), so that no session can still be about to read one. Waits at
     * most {@code lockWait} for the writers in flight (each holds {@link #contentWriters()} from
     * writing a content file until its rows commit); returns -1 when it gave up, to try again at
     * the next interval.
     */
    public int sweepContents(Duration lockWait) {
        if (!holdOffWriters(lockWait)) {
            return -1;
        }
        try {
            Map<Integer, String> due = new HashMap<>();
            BitSet stillUnused = new BitSet();
            for (java.util.Iterator<Integer> reused = reusedSinceSweep.iterator(); reused.hasNext(); ) {
                unusedAtLastSweep.clear(reused.next());
                reused.remove();
            }
            unusedContents(Instant.now()).forEach((id, key) -> {
                if (unusedAtLastSweep.get(id)) {
                    due.put(id, key);
                } else {
                    stillUnused.set(id);
                }
            });
            unusedAtLastSweep = stillUnused;
            return remove(due);
        } finally {
            contentUse.writeLock().unlock();
        }
    }

    /** Takes {@link #contentUse} exclusively once the writers in flight are done, waiting at most {@code lockWait}. */
    private boolean holdOffWriters(Duration lockWait) {
        try {
            return contentUse.writeLock().tryLock(lockWait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    AccountWriters accountWriters() {
        return accountWriters;
    }

    /** Taken (shared) by every writer from storing a content file until the rows pointing at it commit. */
    Lock contentWriters() {
        return contentUse.readLock();
    }

    /** Contents created before {@code createdBefore} that no message or queue entry points at: id → file key. */
    private Map<Integer, String> unusedContents(Instant createdBefore) {
        Map<Integer, String> unused = new HashMap<>();
        try (Connection c = db.connect()) {
            BitSet used = usedContents(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT id, sha256 FROM contents WHERE created_at < ?")) {
                ps.setTimestamp(1, Timestamp.from(createdBefore));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(1);
                        if (id <= Integer.MAX_VALUE && !used.get((int) id)) {
                            unused.put((int) id, rs.getString(2).trim());
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw db.failure(e, "find unused contents");
        }
        return unused;
    }

    /** Deletes these content rows in one batch, then their files; returns how many went. */
    private int remove(Map<Integer, String> contentKeys) {
        if (contentKeys.isEmpty()) {
            return 0;
        }
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement del = c.prepareStatement("DELETE FROM contents WHERE id = ?")) {
                for (int id : contentKeys.keySet()) {
                    del.setLong(1, id);
                    del.addBatch();
                }
                del.executeBatch();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw db.failure(e, "collect garbage");
        }
        contentKeys.keySet().forEach(id -> this.contentKeys.forget(id));
        for (String key : contentKeys.values()) {
            try {
                contents.delete(key);
            } catch (IOException e) {
                System.getLogger(MailboxStore.class.getName()).log(System.Logger.Level.WARNING,
                        "cannot delete content file sha256=" + key + ": " + e.getMessage());
            }
        }
        return contentKeys.size();
    }

    /**
     * The contents some message or queue entry points at, read in one pass over each table: no
     * index on content_id is kept for this (each index slows every flag change). Identifiers past
     * the bit set's range are never collected.
     */
    private static BitSet usedContents(Connection c) throws SQLException {
        BitSet used = new BitSet();
        for (String table : List.of("messages", "queue_messages")) {
            try (PreparedStatement ps = c.prepareStatement("SELECT content_id FROM " + table);
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    if (id <= Integer.MAX_VALUE) {
                        used.set((int) id);
                    }
                }
            }
        }
        return used;
    }

    @Override
    public void close() {
        try {
            db.close();
        } finally {
            AutoCloseable then = after;
            after = null;
            if (then != null) {
                try {
                    then.close();
                } catch (Exception e) {
                    System.getLogger(MailboxStore.class.getName()).log(System.Logger.Level.WARNING,
                            "releasing what the store's opener held failed error=\"{0}\"", e.getMessage());
                }
            }
        }
    }

    /**
     * Closes {@code then} once this store is closed: what its opener holds for as long as the store
     * is open (a command's hold on the data folder, so that no server starts on it meanwhile).
     */
    public MailboxStore closingAlso(AutoCloseable then) {
        this.after = then;
        return this;
    }

    // --- shared with Transaction and MailQueue

    Database db() {
        return db;
    }

    ContentFiles contents() {
        return contents;
    }

    /**
     * The content row for {@code source}, inserted if new, with its octets when it is small
     * ({@link ContentOctets}); a larger one's file must already be in place.
     */
    ContentId ensureContent(Connection c, MessageSource source, MessageFacts facts) throws SQLException {
        String sha256 = source.sha256();
        for (int attempt = 0; ; attempt++) {
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM contents WHERE sha256 = ?")) {
                ps.setString(1, sha256);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        long id = rs.getLong(1);
                        reusedSinceSweep.add((int) id);
                        return new ContentId(id);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO contents"
                    + " (sha256, size, header_size, body_lines, summary, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, sha256);
                ps.setLong(2, facts.size());
                ps.setLong(3, facts.headerSize());
                ps.setLong(4, facts.bodyLines());
                ps.setBytes(5, facts.summary());
                ps.setTimestamp(6, Timestamp.from(Instant.now()));
                ps.executeUpdate();
                ContentId id;
                try (ResultSet rs = ps.getGeneratedKeys()) {
                    rs.next();
                    id = new ContentId(rs.getLong(1));
                }
                if (source instanceof MessageSpool.Spooled.InMemory m) {
                    ContentOctets.insert(c, id, m.octets());
                }
                return id;
            } catch (SQLException e) {
                // Another writer stored the same content meanwhile: use its row.
                if (!db.dialect().isUniqueViolation(e) || attempt > 0) {
                    throw e;
                }
            }
        }
    }

    String contentKey(Connection c, ContentId content) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT sha256 FROM contents WHERE id = ?")) {
            ps.setLong(1, content.value());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(StoreFailure.EXPUNGED, "message content is gone");
                }
                return rs.getString(1).trim();
            }
        }
    }
}

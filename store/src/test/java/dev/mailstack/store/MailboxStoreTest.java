package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MailboxStoreTest {
    @TempDir
    Path dir;
    StoreFixture f;

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir);
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void newAccountsHaveTheSpecialUseMailboxesSubscribed() {
        List<MailboxInfo> boxes = f.session().list();
        assertEquals(List.of("Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"),
                boxes.stream().map(b -> b.name().path()).toList());
        assertTrue(boxes.stream().allMatch(MailboxInfo::subscribed));
        assertEquals(Optional.of(SpecialUse.SENT), f.session().require(new MailboxName("Sent")).specialUse());
    }

    @Test
    void eightConcurrentWritersGetUniqueStrictlyIncreasingUids() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        int writers = 8;
        int perWriter = 25;
        List<List<Uid>> seen = Collections.synchronizedList(new ArrayList<>());
        inParallel(writers, 60, writer -> {
            List<Uid> mine = new ArrayList<>();
            for (int i = 0; i < perWriter; i++) {
                mine.add(TestMessages.append(s, inbox, "Subject: " + writer + "/" + i + "\r\n\r\nbody\r\n"));
            }
            seen.add(mine);
        });
        List<Long> all = seen.stream().flatMap(List::stream).map(Uid::value).sorted().toList();
        assertEquals(writers * perWriter, all.stream().distinct().count(), "no UID handed out twice");
        assertEquals(1L, all.get(0));
        assertEquals((long) writers * perWriter, all.get(all.size() - 1), "no gaps: every commit used its UID");
        for (List<Uid> mine : seen) {
            for (int i = 1; i < mine.size(); i++) {
                assertTrue(mine.get(i).compareTo(mine.get(i - 1)) > 0, "each writer sees increasing UIDs");
            }
        }
        assertEquals(writers * perWriter + 1, s.require(MailboxName.INBOX).uidNext());
    }

    /**
     * H2 (2.3.232 to 2.5.252) can lose a committed update of a row when the transaction that waited
     * for its lock was held up by one that then rolled back ({@link AccountWriters}). Every commit
     * here raises the mailbox's modseq by one and every rollback leaves it, so nothing may go missing.
     */
    @Test
    void writersThatRollBackNeverUndoAnotherWritersCommit() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        int writers = 32;
        int perWriter = 300;
        List<Uid> own = oneMessageEach(s, inbox, writers);
        long before = s.require(MailboxName.INBOX).highestModSeq();
        java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong();
        inParallel(writers, 120, writer -> {
            boolean flagged = false;
            for (int i = 0; i < perWriter; i++) {
                try (Transaction t = s.begin()) { // each writer flips the flag of its own message
                    t.setFlags(inbox, List.of(own.get(writer)), new FlagChange(FlagChange.Mode.REPLACE,
                            flagged ? Flags.NONE : Flags.of(Flag.FLAGGED)));
                    if ((writer + i) % 7 != 0) { // one in seven ends without a commit
                        t.commit();
                        commits.incrementAndGet();
                        flagged = !flagged;
                    }
                }
            }
        });
        assertEquals(before + commits.get(), s.require(MailboxName.INBOX).highestModSeq(), "one new modseq per commit");
        assertEquals(0, f.store().accountWriters().busy(), "every writer's turn given back, committed or not");
    }

    /** More writers of one account than the database has connections: none may wait on another's connection. */
    @Test
    void writersOfOneAccountBeyondTheConnectionLimitAllFinish() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        int writers = Database.DEFAULT_CONNECTIONS * 3;
        List<Uid> own = oneMessageEach(s, inbox, writers);
        inParallel(writers, 60, writer -> {
            for (int i = 0; i < 30; i++) {
                s.claimRecent(inbox, own.get(writer).value(), true); // a StoreSession write
                try (Transaction t = s.begin()) {
                    t.setFlags(inbox, List.of(own.get(writer)), new FlagChange(FlagChange.Mode.REPLACE,
                            i % 2 == 0 ? Flags.of(Flag.FLAGGED) : Flags.NONE));
                    t.commit();
                }
            }
        });
        assertEquals(writers, s.status(MailboxName.INBOX).messages());
        assertEquals(0, f.store().accountWriters().busy(), "every writer's turn given back");
    }

    /** The writer's turn is the account's: a long transaction of one user never holds up another's mail. */
    @Test
    void aWriterOfOneAccountNeverHoldsUpAnother() throws Exception {
        StoreSession alice = f.session();
        List<Uid> own = oneMessageEach(alice, f.inbox(), 1);
        List<StoreSession> others = new ArrayList<>();
        for (int i = 0; i < 70; i++) { // more accounts than a striped lock would have had stripes
            String address = "other" + i + "@example.org";
            f.store().accounts().addUser(address, PasswordScheme.hash("x"));
            others.add(f.store().open(f.store().accounts().find(address).orElseThrow().id()));
        }
        try (Transaction held = alice.begin(); ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            held.setFlags(f.inbox(), own, new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED)));
            for (StoreSession other : others) {
                pool.submit(() -> TestMessages.append(other, other.require(MailboxName.INBOX).id(), "Subject: mine\r\n\r\nx\r\n"))
                        .get(AccountWriters.WAIT.toSeconds() / 2, TimeUnit.SECONDS);
            }
            held.commit();
        }
        for (StoreSession other : others) {
            assertEquals(1, other.status(MailboxName.INBOX).messages());
        }
        assertEquals(0, f.store().accountWriters().busy());
    }

    /** Small contents are kept in the database, larger ones in a file: either way once. */
    @Test
    void identicalContentIsStoredOnce() throws Exception {
        f.store().accounts().addUser("bob@example.org", PasswordScheme.hash("x"));
        StoreSession bob = f.store().open(f.store().accounts().find("bob@example.org").orElseThrow().id());
        String small = "Subject: same\r\n\r\nthe very same bytes\r\n";
        String large = "Subject: same and large\r\n\r\n" + pastMemory();
        for (String text : List.of(small, large)) {
            TestMessages.append(f.session(), f.inbox(), text);
            TestMessages.append(bob, bob.require(MailboxName.INBOX).id(), text);
        }
        List<MessageRef> mine = f.session().select(MailboxName.INBOX).messages();
        List<MessageRef> bobs = bob.select(MailboxName.INBOX).messages();
        assertEquals(mine.get(0).content(), bobs.get(0).content());
        assertEquals(mine.get(1).content(), bobs.get(1).content());
        try (var files = Files.walk(dir.resolve("contents"))) {
            assertEquals(List.of(mine.get(1).contentKey()), files.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[0-9a-f]{64}")).toList(), "the large one in a file");
        }
        assertEquals(1, keptOctets(), "the small one in the database");
        for (int i = 0; i < 2; i++) {
            try (InputStream in = bob.openContent(bobs.get(i))) {
                assertEquals(i == 0 ? small : large, new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            try (InputStream in = f.store().openContent(bobs.get(i).contentKey(), 6, 4)) {
                assertEquals("t: s", new String(in.readAllBytes(), StandardCharsets.UTF_8), "a range of either");
            }
        }
    }

    /**
     * A message too large to be kept in the database is read from its file without a connection:
     * while readers hold every one, it is still served (a small one would wait for a connection).
     */
    @Test
    void aLargeMessageIsReadWithoutADatabaseConnection() throws Exception {
        String large = "Subject: large\r\n\r\n" + pastMemory();
        TestMessages.append(f.session(), f.inbox(), large);
        MessageRef ref = f.session().select(MailboxName.INBOX).messages().getFirst();
        List<java.sql.Connection> held = new ArrayList<>();
        try {
            for (int i = 0; i < Database.DEFAULT_CONNECTIONS; i++) {
                held.add(f.store().db().connect());
            }
            try (InputStream in = f.session().openContent(ref, 9)) {
                assertEquals(large.substring(9), new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        } finally {
            for (java.sql.Connection c : held) {
                c.close();
            }
        }
    }

    /**
     * A build whose limit was higher kept messages of up to 128 KiB in the database: one past
     * today's limit with no file is still read, from there.
     */
    @Test
    void aMessagePastTheLimitThatAnEarlierBuildKeptInTheDatabaseIsRead() throws Exception {
        String large = "Subject: kept by an earlier build\r\n\r\n" + pastMemory();
        TestMessages.append(f.session(), f.inbox(), large);
        MessageRef ref = f.session().select(MailboxName.INBOX).messages().getFirst();
        try (java.sql.Connection c = f.store().db().connect();
             java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO content_octets (content_id, octets) VALUES (?, ?)")) {
            ps.setLong(1, ref.content().value());
            ps.setBytes(2, large.getBytes(StandardCharsets.UTF_8));
            ps.executeUpdate();
        }
        Files.delete(f.store().contents().pathOf(ref.contentKey()));
        try (InputStream in = f.session().openContent(ref, 9)) {
            assertEquals(large.substring(9), new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    /** The sweep removes a small content's octets with its row; nothing of it is left to read. */
    @Test
    void aSmallContentsOctetsGoWithItsRow() throws Exception {
        StoreSession s = f.session();
        Uid gone = TestMessages.append(s, f.inbox(), "Subject: small and gone\r\n\r\nx\r\n");
        TestMessages.append(s, f.inbox(), "Subject: small and kept\r\n\r\ny\r\n");
        MessageRef goneRef = s.select(MailboxName.INBOX).messages().getFirst();
        try (Transaction t = s.begin()) {
            t.expunge(f.inbox(), List.of(gone));
            t.commit();
        }
        assertEquals(2, keptOctets());
        assertEquals(0, f.store().sweepContents(Duration.ofSeconds(5)), "the first look only notes it");
        assertEquals(1, f.store().sweepContents(Duration.ofSeconds(5)));
        assertEquals(1, keptOctets(), "the kept message's octets stay");
        assertThrows(IOException.class, () -> f.store().openContent(goneRef.contentKey(), 0).close());
    }

    /** Contents kept in the database, as rows of content_octets. */
    private long keptOctets() throws Exception {
        try (java.sql.Connection c = f.store().db().connect();
             java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM content_octets")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void changesReachListenersAndViewsSeeThemOnRefresh() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        Uid first = TestMessages.append(s, inbox, "Subject: 1\r\n\r\n1\r\n");
        LinkedBlockingQueue<List<MailboxChange>> events = new LinkedBlockingQueue<>();
        try (MailboxView view = s.select(MailboxName.INBOX);
             AutoCloseable sub = f.store().changes().subscribe(inbox, events::add)) {
            assertEquals(1, view.size());
            Uid second = TestMessages.append(s, inbox, "Subject: 2\r\n\r\n2\r\n");
            assertInstanceOf(MailboxChange.Added.class, events.poll(5, TimeUnit.SECONDS).get(0));
            assertTrue(view.hasPendingChanges());
            assertEquals(1, view.size(), "a view changes only when refreshed");
            try (Transaction t = s.begin()) {
                t.setFlags(inbox, List.of(first), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED)));
                t.commit();
            }
            assertInstanceOf(MailboxChange.FlagsChanged.class, events.poll(5, TimeUnit.SECONDS).get(0));
            try (Transaction t = s.begin()) {
                t.expunge(inbox, List.of(first));
                t.commit();
            }
            assertInstanceOf(MailboxChange.Expunged.class, events.poll(5, TimeUnit.SECONDS).get(0));
            List<MailboxChange> changes = view.refresh();
            assertEquals(2, changes.size(), changes.toString());
            assertInstanceOf(MailboxChange.Expunged.class, changes.get(0));
            assertEquals(first, changes.get(0).uid());
            assertInstanceOf(MailboxChange.Added.class, changes.get(1));
            assertEquals(second, changes.get(1).uid());
            assertEquals(List.of(second), view.messages().stream().map(MessageRef::uid).toList());
            assertEquals(List.of(), view.refresh());
        }
    }

    @Test
    void quotaRefusesAppendsBeyondItAndExpungeFreesSpace() throws Exception {
        f.store().accounts().setQuota("alice@example.org", 100L);
        StoreSession s = f.session();
        String fifty = "Subject: q\r\n\r\n" + "x".repeat(50 - 16) + "\r\n";
        assertEquals(50, fifty.length());
        Uid one = TestMessages.append(s, f.inbox(), fifty);
        TestMessages.append(s, f.inbox(), fifty.replace('x', 'y'));
        StoreException e = assertThrows(StoreException.class, () -> TestMessages.append(s, f.inbox(), fifty.replace('x', 'z')));
        assertEquals(StoreFailure.OVER_QUOTA, e.failure());
        assertEquals(2, s.status(MailboxName.INBOX).messages(), "the refused append left nothing behind");
        try (Transaction t = s.begin()) {
            t.expunge(f.inbox(), List.of(one));
            t.commit();
        }
        Uid three = TestMessages.append(s, f.inbox(), fifty.replace('x', 'z'));
        assertEquals(100, f.store().accounts().find("alice@example.org").orElseThrow().usedBytes());

        // At the quota a copy needs room, a move does not: it stays within the account.
        MailboxId work = s.create(new MailboxName("Work"), Optional.empty()).id();
        try (Transaction t = s.begin()) {
            assertEquals(StoreFailure.OVER_QUOTA,
                    assertThrows(StoreException.class, () -> t.copy(f.inbox(), List.of(three), work)).failure());
        }
        try (Transaction t = s.begin()) {
            t.move(f.inbox(), List.of(three), work);
            t.commit();
        }
        assertEquals(1, s.status(new MailboxName("Work")).messages());
        assertEquals(100, f.store().accounts().find("alice@example.org").orElseThrow().usedBytes());
    }

    /**
     * What local delivery judges a quota warning from: the use before and with the transaction's
     * changes, read as the account's writer; and the warning itself, counted but never refused.
     */
    @Test
    void aTransactionTellsItsQuotaChangeAndAppendsPastTheQuotaOnlyWhenAsked() throws Exception {
        f.store().accounts().setQuota("alice@example.org", 100L);
        StoreSession s = f.session();
        String fifty = "Subject: q\r\n\r\n" + "x".repeat(50 - 16) + "\r\n";
        Uid one = TestMessages.append(s, f.inbox(), fifty);
        MessageSpool.Spooled second = TestMessages.spool(f.store(), fifty.replace('x', 'y'));
        MessageSpool.Spooled notice = TestMessages.spool(f.store(), fifty.replace('x', 'n'));
        try (Transaction t = s.begin()) {
            assertEquals(new QuotaChange(java.util.OptionalLong.of(100), 50, 50), t.quotaChange());
            t.append(f.inbox(), second, TestMessages.facts(second), Flags.NONE, Instant.now(), Optional.empty());
            assertEquals(new QuotaChange(java.util.OptionalLong.of(100), 50, 100), t.quotaChange());
            t.appendPastQuota(f.inbox(), notice, TestMessages.facts(notice), Flags.NONE, Instant.now());
            assertEquals(new QuotaChange(java.util.OptionalLong.of(100), 50, 150), t.quotaChange());
            t.expunge(f.inbox(), List.of(one));
            assertEquals(new QuotaChange(java.util.OptionalLong.of(100), 50, 100), t.quotaChange());
            t.commit();
        } finally {
            second.discard();
            notice.discard();
        }
        assertEquals(100, f.store().accounts().find("alice@example.org").orElseThrow().usedBytes());
        assertEquals(2, s.status(MailboxName.INBOX).messages());
        StoreException e = assertThrows(StoreException.class, () -> TestMessages.append(s, f.inbox(), "Subject: z\r\n\r\nz\r\n"));
        assertEquals(StoreFailure.OVER_QUOTA, e.failure(), "an ordinary append is still refused");
        f.store().accounts().setQuota("alice@example.org", null);
        try (Transaction t = s.begin()) {
            assertEquals(new QuotaChange(java.util.OptionalLong.empty(), 100, 100), t.quotaChange());
        }
    }

    @Test
    void deliveryKeyMakesARetryANoOp() throws Exception {
        StoreSession s = f.session();
        MessageSpool.Spooled m = TestMessages.spool(f.store(), "Subject: once\r\n\r\nx\r\n");
        DeliveryKey key = new DeliveryKey(new QueueId(42), "alice@example.org");
        for (int attempt = 0; attempt < 2; attempt++) {
            try (Transaction t = s.begin()) {
                Optional<Uid> uid = t.append(f.inbox(), m, TestMessages.facts(m), Flags.NONE, Instant.now(), Optional.of(key));
                assertEquals(attempt == 0, uid.isPresent());
                t.commit();
            }
        }
        assertEquals(1, s.status(MailboxName.INBOX).messages());
    }

    @Test
    void rollbackLeavesNoTrace() throws Exception {
        StoreSession s = f.session();
        MessageSpool.Spooled m = TestMessages.spool(f.store(), "Subject: no\r\n\r\nx\r\n");
        try (Transaction t = s.begin()) {
            t.append(f.inbox(), m, TestMessages.facts(m), Flags.NONE, Instant.now(), Optional.empty());
        }
        assertEquals(0, s.status(MailboxName.INBOX).messages());
        assertEquals(1, s.require(MailboxName.INBOX).uidNext());
        assertEquals(0, keptOctets(), "its octets were to go in with its content row");
        assertThrows(java.nio.file.NoSuchFileException.class, () -> f.store().openContent(m.sha256(), 0));
    }

    @Test
    void copyMoveAndFlagsReportUidsForUidplus() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        MailboxId archive = s.require(new MailboxName("Archive")).id();
        Uid a = TestMessages.append(s, inbox, "Subject: a\r\n\r\na\r\n");
        Uid b = TestMessages.append(s, inbox, "Subject: b\r\n\r\nb\r\n");
        CommitResult result;
        try (Transaction t = s.begin()) {
            t.setFlags(inbox, List.of(a), new FlagChange(FlagChange.Mode.ADD,
                    new Flags(java.util.EnumSet.of(Flag.SEEN), java.util.Set.of("$Label1"))));
            t.move(inbox, List.of(a, b), archive);
            result = t.commit();
        }
        CommitResult.Assigned moved = result.assigned().get(0);
        assertEquals(List.of(a, b), moved.sourceUids());
        assertEquals(List.of(new Uid(1), new Uid(2)), moved.uids());
        assertEquals(0, s.status(MailboxName.INBOX).messages());
        MessageRef first = s.select(new MailboxName("Archive")).messages().get(0);
        assertTrue(first.flags().has(Flag.SEEN));
        assertEquals(java.util.Set.of("$Label1"), first.flags().keywords());
        assertEquals(1, s.status(new MailboxName("Archive")).unseen());
    }

    @Test
    void aRenameThatWouldMakeAChildNameTooLongIsRefusedWhole() {
        StoreSession s = f.session();
        s.create(new MailboxName("a/b"), Optional.empty());
        MailboxName longName = new MailboxName("x".repeat(MailboxName.MAX_LENGTH - 1)); // fits; "…/b" does not
        StoreException e = assertThrows(StoreException.class, () -> s.rename(new MailboxName("a"), longName));
        assertEquals(StoreFailure.INVALID_NAME, e.failure());
        // nothing moved, and the account's mailboxes can still all be listed
        List<String> names = s.list().stream().map(m -> m.name().path()).toList();
        assertTrue(names.containsAll(List.of("a", "a/b")), names.toString());
        assertTrue(names.stream().noneMatch(n -> n.startsWith("x")), names.toString());
        s.rename(new MailboxName("a"), new MailboxName("x".repeat(MailboxName.MAX_LENGTH - 2)));
        assertTrue(s.find(new MailboxName("x".repeat(MailboxName.MAX_LENGTH - 2) + "/b")).isPresent());
    }

    /** RFC 3501 §6.3.6: the server must not remove a subscription because its mailbox is gone. */
    @Test
    void aSubscriptionOutlivesItsMailboxUntilTheUserUnsubscribes() {
        StoreSession s = f.session();
        MailboxName work = new MailboxName("工作/2026");
        s.create(work, Optional.empty());
        assertFalse(s.require(work).subscribed(), "a new mailbox is not subscribed on its own");
        s.subscribe(work, true);
        s.subscribe(work, true); // twice is once
        assertTrue(s.require(work).subscribed());
        s.delete(work);
        assertTrue(s.subscriptions().contains(work), s.subscriptions().toString());
        assertFalse(s.subscriptions().contains(new MailboxName("工作")), "the parent was never subscribed");
        s.create(work, Optional.empty());
        assertTrue(s.require(work).subscribed(), "made again under its old name, it is subscribed again");
        s.delete(work);
        s.subscribe(work, false); // a subscription whose mailbox is gone can be dropped
        assertFalse(s.subscriptions().contains(work));
        assertEquals(StoreFailure.NOT_FOUND,
                assertThrows(StoreException.class, () -> s.subscribe(work, false)).failure());
        assertEquals(StoreFailure.NOT_FOUND,
                assertThrows(StoreException.class, () -> s.subscribe(work, true)).failure(), "only a mailbox is subscribed to");
        s.subscribe(new MailboxName("工作"), false); // a mailbox that was not subscribed: nothing to do, no error
    }

    /** store.max_mailboxes: a LIST reads every mailbox and LSUB every subscription, so both are bounded. */
    @Test
    void anAccountsMailboxesAndSubscriptionsAreBounded() {
        StoreSession s = f.session();
        f.store().limitMailboxes(9); // the six every account starts with, and three
        s.create(new MailboxName("a/b"), Optional.empty()); // its parent counts: 8
        StoreException parents = assertThrows(StoreException.class, () -> s.create(new MailboxName("c/d"), Optional.empty()));
        assertEquals(StoreFailure.LIMIT, parents.failure());
        assertTrue(parents.getMessage().contains("store.max_mailboxes"), parents.getMessage());
        assertTrue(s.find(new MailboxName("c")).isEmpty(), "refused whole, its parent too");
        s.create(new MailboxName("c"), Optional.empty()); // 9
        assertEquals(StoreFailure.LIMIT,
                assertThrows(StoreException.class, () -> s.create(new MailboxName("e"), Optional.empty())).failure());
        assertEquals(StoreFailure.LIMIT, assertThrows(StoreException.class,
                () -> s.rename(new MailboxName("c"), new MailboxName("x/c"))).failure(), "a new parent counts");
        s.rename(new MailboxName("c"), new MailboxName("a/c")); // no new parent
        for (String name : List.of("a", "a/b", "a/c")) {
            s.subscribe(new MailboxName(name), true); // 9 subscriptions
        }
        s.subscribe(new MailboxName("a"), true); // one already there takes no room
        s.delete(new MailboxName("a/c"));
        s.create(new MailboxName("w"), Optional.empty());
        StoreException subscriptions = assertThrows(StoreException.class, () -> s.subscribe(new MailboxName("w"), true));
        assertEquals(StoreFailure.LIMIT, subscriptions.failure());
        s.subscribe(new MailboxName("a/c"), false); // the one whose mailbox is gone, dropped: room again
        s.subscribe(new MailboxName("w"), true);
        assertTrue(s.require(new MailboxName("w")).subscribed());
        assertThrows(IllegalArgumentException.class, () -> f.store().limitMailboxes(0));
    }

    /** A mailbox's subscription goes with it; one whose mailbox is gone is the user's and stays (RFC 3501 §6.3.6). */
    @Test
    void aRenameTakesTheSubscriptionsOfTheMailboxesItMovesAlong() {
        StoreSession s = f.session();
        for (String name : List.of("a/b/c", "a/b/gone", "ab", "y")) {
            s.create(new MailboxName(name), Optional.empty());
            s.subscribe(new MailboxName(name), true);
        }
        s.subscribe(new MailboxName("a/b"), true);
        s.delete(new MailboxName("a/b/gone"));
        s.delete(new MailboxName("y"));
        s.rename(new MailboxName("a/b"), new MailboxName("z"));
        s.rename(new MailboxName("ab"), new MailboxName("y")); // onto a name still subscribed from before
        assertEquals(List.of("Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash", "a/b/gone", "y", "z", "z/c"),
                s.subscriptions().stream().map(MailboxName::path).toList());
        assertTrue(s.require(new MailboxName("z/c")).subscribed());
        assertTrue(s.require(new MailboxName("y")).subscribed());
        assertFalse(s.require(new MailboxName("a")).subscribed());
        s.rename(MailboxName.INBOX, new MailboxName("Old mail"));
        assertTrue(s.require(MailboxName.INBOX).subscribed(), "INBOX stays, and so does its subscription");
        assertFalse(s.require(new MailboxName("Old mail")).subscribed());
    }

    @Test
    void mailboxesCreateRenameDeleteWithHierarchyAndUnicode() {
        StoreSession s = f.session();
        s.create(new MailboxName("工作/项目"), Optional.empty());
        assertTrue(s.find(new MailboxName("工作")).isPresent(), "parents are created too");
        s.rename(new MailboxName("工作"), new MailboxName("Work"));
        assertTrue(s.find(new MailboxName("Work/项目")).isPresent(), "children follow a rename");
        StoreException hasChildren = assertThrows(StoreException.class, () -> s.delete(new MailboxName("Work")));
        assertEquals(StoreFailure.HAS_CHILDREN, hasChildren.failure());
        s.delete(new MailboxName("Work/项目"));
        s.delete(new MailboxName("Work"));
        assertFalse(s.find(new MailboxName("Work")).isPresent());
        assertEquals(StoreFailure.ALREADY_EXISTS,
                assertThrows(StoreException.class, () -> s.create(new MailboxName("inbox"), Optional.empty())).failure());
        assertEquals(StoreFailure.NO_PERMISSION,
                assertThrows(StoreException.class, () -> s.delete(MailboxName.INBOX)).failure());
        assertEquals(StoreFailure.INVALID_NAME,
                assertThrows(StoreException.class, () -> new MailboxName("a//b")).failure());
    }

    @Test
    void renamingInboxMovesItsMessagesAndLeavesItEmpty() throws Exception {
        StoreSession s = f.session();
        TestMessages.append(s, f.inbox(), "Subject: old\r\n\r\nx\r\n");
        long before = s.require(MailboxName.INBOX).uidValidity();
        s.rename(MailboxName.INBOX, new MailboxName("Old"));
        assertEquals(0, s.status(MailboxName.INBOX).messages());
        assertEquals(1, s.status(new MailboxName("Old")).messages());
        assertEquals(before, s.require(MailboxName.INBOX).uidValidity());
    }

    @Test
    void statusCountsFollowEveryKindOfChange() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        MailboxId archive = s.require(new MailboxName("Archive")).id();
        Uid a = TestMessages.append(s, inbox, "Subject: a\r\n\r\naaaa\r\n");
        Uid b = TestMessages.append(s, inbox, "Subject: b\r\n\r\nbbbbbbbb\r\n");
        Uid c = TestMessages.append(s, inbox, "Subject: c\r\n\r\nc\r\n");
        assertStatusMatchesContent(s, MailboxName.INBOX);
        try (Transaction t = s.begin()) {
            t.setFlags(inbox, List.of(a, b), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.SEEN)));
            t.setFlags(inbox, List.of(b), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.DELETED)));
            t.setFlags(inbox, List.of(a), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.SEEN))); // no change
            t.commit();
        }
        MailboxStatus flagged = s.status(MailboxName.INBOX);
        assertEquals(List.of(3L, 1L, 1L), List.of(flagged.messages(), flagged.unseen(), flagged.deleted()));
        assertStatusMatchesContent(s, MailboxName.INBOX);
        try (Transaction t = s.begin()) {
            t.copy(inbox, List.of(a), archive);
            t.move(inbox, List.of(c), archive);
            t.expunge(inbox, List.of(b));
            t.commit();
        }
        assertStatusMatchesContent(s, MailboxName.INBOX);
        assertStatusMatchesContent(s, new MailboxName("Archive"));
        assertEquals(1, s.status(MailboxName.INBOX).messages());
        assertEquals(2, s.status(new MailboxName("Archive")).messages());
        try (Transaction t = s.begin()) {
            t.expunge(archive, List.of(new Uid(1), new Uid(2)));
            // no commit: the counts stay as they were
        }
        assertEquals(2, s.status(new MailboxName("Archive")).messages());
        s.rename(MailboxName.INBOX, new MailboxName("Old"));
        assertStatusMatchesContent(s, MailboxName.INBOX);
        assertStatusMatchesContent(s, new MailboxName("Old"));
    }

    @Test
    void flagChangesTouchExactlyTheRequestedMessagesThatChange() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            uids.add(TestMessages.append(s, inbox, "Subject: " + i + "\r\n\r\nx\r\n"));
        }
        try (Transaction t = s.begin()) {
            t.setFlags(inbox, List.of(uids.get(2), uids.get(5)), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED)));
            t.setFlags(inbox, List.of(uids.get(3)), new FlagChange(FlagChange.Mode.ADD,
                    new Flags(java.util.EnumSet.of(Flag.SEEN), java.util.Set.of("$Label1"))));
            t.commit();
        }
        long before;
        try (MailboxView view = s.select(MailboxName.INBOX)) {
            before = view.highestModSeq();
        }
        // every other message, some already flagged: runs break at gaps and at unchanged messages
        List<Uid> odd = List.of(uids.get(1), uids.get(2), uids.get(3), uids.get(5), uids.get(7), uids.get(8), uids.get(9));
        List<MessageRef> changed;
        try (Transaction t = s.begin()) {
            changed = t.setFlags(inbox, odd, new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED, Flag.DELETED)));
            t.commit();
        }
        assertEquals(odd.size(), changed.size(), "each gains \\Deleted at least");
        try (Transaction t = s.begin()) {
            changed = t.setFlags(inbox, uids, new FlagChange(FlagChange.Mode.REMOVE, Flags.of(Flag.FLAGGED)));
            t.commit();
        }
        assertEquals(odd.size(), changed.size(), "only the flagged ones change");
        try (MailboxView view = s.select(MailboxName.INBOX)) {
            for (MessageRef r : view.messages()) {
                int i = uids.indexOf(r.uid());
                boolean inOdd = odd.contains(r.uid());
                assertEquals(inOdd, r.flags().has(Flag.DELETED), "deleted " + i);
                assertTrue(!r.flags().has(Flag.FLAGGED), "flagged " + i);
                assertEquals(i == 3, r.flags().has(Flag.SEEN), "seen " + i);
                assertEquals(i == 3 ? java.util.Set.of("$Label1") : java.util.Set.of(), r.flags().keywords(), "keywords " + i);
                assertEquals(inOdd, r.modSeq() > before, "modseq moves only where flags changed: " + i);
            }
        }
        assertStatusMatchesContent(s, MailboxName.INBOX);
        long highest = s.require(MailboxName.INBOX).highestModSeq();
        try (Transaction t = s.begin()) { // RFC 7162 §3.2: a STORE that changes nothing is no new modseq
            assertEquals(List.of(), t.setFlags(inbox, odd, new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.DELETED))));
            t.commit();
        }
        assertEquals(highest, s.require(MailboxName.INBOX).highestModSeq());
    }

    /** One message per writer, for writers that each change only their own. */
    private static List<Uid> oneMessageEach(StoreSession s, MailboxId inbox, int writers) throws Exception {
        List<Uid> own = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            own.add(TestMessages.append(s, inbox, "Subject: " + w + "\r\n\r\nbody\r\n"));
        }
        return own;
    }

    /** Runs {@code task} on {@code n} threads started together; fails with the first task's failure. */
    private static void inParallel(int n, int seconds, WriterTask task) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < n; w++) {
                int writer = w;
                futures.add(pool.submit(() -> {
                    start.await();
                    task.run(writer);
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> future : futures) {
                future.get(seconds, TimeUnit.SECONDS); // a writer's StoreException (e.g. a timed-out wait) fails here
            }
        }
    }

    private interface WriterTask {
        void run(int writer) throws Exception;
    }

    /** The kept counts equal a count of the messages themselves. */
    private static void assertStatusMatchesContent(StoreSession s, MailboxName name) {
        MailboxStatus status = s.status(name);
        try (MailboxView view = s.select(name)) {
            List<MessageRef> all = view.messages();
            assertEquals(all.size(), status.messages(), name + " messages");
            assertEquals(all.stream().filter(m -> !m.flags().has(Flag.SEEN)).count(), status.unseen(), name + " unseen");
            assertEquals(all.stream().filter(m -> m.flags().has(Flag.DELETED)).count(), status.deleted(), name + " deleted");
            assertEquals(all.stream().mapToLong(MessageRef::size).sum(), status.totalSize(), name + " size");
        }
    }

    @Test
    void recreatedMailboxGetsANewUidValidity() {
        StoreSession s = f.session();
        long first = s.create(new MailboxName("Temp"), Optional.empty()).uidValidity();
        s.delete(new MailboxName("Temp"));
        long second = s.create(new MailboxName("Temp"), Optional.empty()).uidValidity();
        assertTrue(first != second);
    }

    @Test
    void aFiftyMegabyteMessageStreamsInAndOutWithFlatMemory() throws Exception {
        long size = 50L * 1024 * 1024;
        byte[] line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n".getBytes(StandardCharsets.US_ASCII);
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();
        MessageSpool.Spooled m;
        try (MessageSpool spool = f.store().spool()) {
            spool.write("Subject: big\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            TestMessages.writeRepeated(spool, line, size - spool.size());
            m = spool.finish();
        }
        try (Transaction t = f.session().begin()) {
            t.append(f.inbox(), m, TestMessages.facts(m), Flags.NONE, Instant.now(), Optional.empty());
            t.commit();
        }
        MessageRef ref = f.session().select(MailboxName.INBOX).messages().get(0);
        assertEquals(size, ref.size());
        long read = 0;
        byte[] buf = new byte[8192];
        try (InputStream in = f.session().openContent(ref)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                read += n;
            }
        }
        long heapAfter = rt.totalMemory() - rt.freeMemory();
        assertEquals(size, read);
        assertTrue(heapAfter - heapBefore < 20L * 1024 * 1024,
                "heap grew by " + (heapAfter - heapBefore) + " bytes for a 50 MB message");
        m.discard();
    }

    @Test
    void partialContentReadsSeek() throws Exception {
        TestMessages.append(f.session(), f.inbox(), "Subject: seek\r\n\r\n0123456789");
        MessageRef ref = f.session().select(MailboxName.INBOX).messages().get(0);
        try (InputStream in = f.session().openContent(ref, 17)) {
            assertArrayEquals("0123456789".getBytes(StandardCharsets.US_ASCII), in.readAllBytes());
        }
    }

    @Test
    void viewsFindOtherSessionsFlagChangesThroughTheLogWhichKeepsOnlyWhatOpenViewsNeed() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = appendNumbered(s, inbox, 80);
        FlagChange flag = new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED));
        try (MailboxView behind = s.select(MailboxName.INBOX); MailboxView other = s.select(MailboxName.INBOX)) {
            List<Uid> everyOther = new ArrayList<>();
            for (int i = 0; i < uids.size(); i += 2) {
                everyOther.add(uids.get(i));
            }
            setFlags(s, inbox, everyOther, flag); // 40 runs, logged as one span
            setFlags(s, inbox, List.of(uids.get(1), uids.get(79)), flag); // two runs, two rows
            Uid late = TestMessages.append(s, inbox, "Subject: late\r\n\r\nx\r\n");
            setFlags(s, inbox, List.of(late), flag);
            assertEquals(4, logRows(inbox));

            List<MailboxChange> changes = behind.refresh();
            List<Uid> flagged = changes.stream().filter(c -> c instanceof MailboxChange.FlagsChanged).map(MailboxChange::uid).toList();
            List<Uid> expected = new ArrayList<>(everyOther);
            expected.add(1, uids.get(1));
            expected.add(uids.get(79));
            assertEquals(expected, flagged, "each changed message once, in UID order, and no other");
            assertTrue(behind.messages().stream().filter(r -> expected.contains(r.uid())).allMatch(r -> r.flags().has(Flag.FLAGGED)));
            assertEquals(List.of(new MailboxChange.Added(behind.messages().get(80))), changes.subList(changes.size() - 1, changes.size()));
            assertEquals(late, changes.get(changes.size() - 1).uid());
            assertTrue(behind.messages().get(80).flags().has(Flag.FLAGGED), "a new message arrives with its current flags");

            setFlags(s, inbox, List.of(uids.get(3)), flag);
            assertEquals(5, logRows(inbox), "the other view has not caught up: nothing is pruned");
            other.refresh();
            setFlags(s, inbox, List.of(uids.get(5)), flag);
            assertEquals(2, logRows(inbox), "rows both views have read are gone");
            assertEquals(List.of(uids.get(3), uids.get(5)), behind.refresh().stream().map(MailboxChange::uid).toList());
        }
        setFlags(s, inbox, List.of(uids.get(7)), flag);
        assertEquals(1, logRows(inbox), "with no view open only the newest change stays");
    }

    @Test
    void aViewThatTookInItsOwnCommitReadsNothingBackButStillReadsAnotherWritersChange() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = appendNumbered(s, inbox, 20);
        FlagChange seen = new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.SEEN));
        try (MailboxView mine = s.select(MailboxName.INBOX); MailboxView other = s.select(MailboxName.INBOX)) {
            List<MessageRef> changed;
            try (Transaction t = s.begin()) {
                changed = t.setFlags(inbox, uids, seen);
                t.commit();
            }
            assertEquals(20, changed.size());
            long committedAt = changed.get(0).modSeq();
            assertTrue(changed.stream().allMatch(r -> r.modSeq() == committedAt), "one STORE, one modseq (RFC 7162 §3.1.3)");
            mine.committed(changed);
            assertEquals(committedAt, mine.highestModSeq());
            assertEquals(List.of(), mine.refresh(), "its own change is not read back");
            assertTrue(mine.messages().stream().allMatch(r -> r.flags().has(Flag.SEEN) && r.modSeq() == committedAt));
            List<MailboxChange> told = other.refresh();
            assertEquals(uids, told.stream().map(MailboxChange::uid).toList(), "every other view reads each message once");
            assertTrue(other.messages().stream().allMatch(r -> r.flags().has(Flag.SEEN) && r.modSeq() == committedAt));

            setFlags(s, inbox, List.of(uids.get(4)), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED)));
            try (Transaction t = s.begin()) {
                changed = t.setFlags(inbox, List.of(uids.get(2)), new FlagChange(FlagChange.Mode.REMOVE, Flags.of(Flag.SEEN)));
                t.commit();
            }
            mine.committed(changed);
            assertTrue(mine.highestModSeq() < changed.get(0).modSeq(), "another commit came between: not caught up");
            List<MailboxChange> caught = mine.refresh();
            assertEquals(List.of(uids.get(2), uids.get(4)), caught.stream().map(MailboxChange::uid).toList());
            assertEquals(changed.get(0).modSeq(), mine.highestModSeq());
        }
    }

    @Test
    void messagesAreReadWholeWhenTheSharedContentKeysHoldFewerThanTheMailbox() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = appendNumbered(s, inbox, 400);
        List<MessageRef> expected;
        try (MailboxView view = s.select(MailboxName.INBOX)) {
            expected = view.messages();
        }
        assertEquals(400, expected.size());
        ContentKeys small = new ContentKeys(16); // evicts while a read of 400 fills it
        try (var c = f.store().db().connect()) {
            List<MessageRef> read = Mailboxes.readMessages(c, small, Mailboxes.messageKey(inbox, 1),
                    Mailboxes.messageKey(inbox, uids.get(399).value()), Long.MIN_VALUE);
            assertEquals(expected, read, "cold: one pass with the join");
            read = Mailboxes.readMessages(c, small, Mailboxes.messageKey(inbox, 1),
                    Mailboxes.messageKey(inbox, uids.get(99).value()), Long.MIN_VALUE);
            assertEquals(expected.subList(0, 100), read, "partly kept: the rest by id");
        }
        for (MessageRef r : expected) {
            try (InputStream in = s.openContent(r)) {
                assertEquals(r.size(), in.readAllBytes().length);
            }
        }
    }

    @Test
    void aLargeMailboxOpensFromTheLastClosedViewAndCatchesUpWithWhatChangedSince() throws Exception {
        f.store().openViews().minSnapshotMessages = 20; // as a mailbox of thousands would
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = appendNumbered(s, inbox, 30);
        FlagChange flagged = new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED));
        try (MailboxView first = s.select(MailboxName.INBOX)) {
            assertEquals(30, first.size());
        }
        assertEquals(java.util.Set.of(inbox), f.store().openViews().snapshotted());

        expunge(s, inbox, uids.get(2));
        setFlags(s, inbox, List.of(uids.get(4), uids.get(5)), flagged);
        setFlags(s, inbox, List.of(uids.get(9)), flagged);
        Uid late = TestMessages.append(s, inbox, "Subject: late\r\n\r\nx\r\n");
        assertEquals(2, logRows(inbox), "no view is open, but the snapshot still needs the log");
        assertEquals(1, rows("expunged", inbox));

        List<MessageRef> expected;
        try (var c = f.store().db().connect()) {
            expected = Mailboxes.readMessages(c, new ContentKeys(), Mailboxes.messageKey(inbox, 1),
                    Mailboxes.keyAfter(inbox) - 1, Long.MIN_VALUE);
        }
        assertEquals(30, expected.size());
        long resumedBefore = f.store().openViews().resumed();
        try (MailboxView second = s.select(MailboxName.INBOX)) {
            assertEquals(resumedBefore + 1, f.store().openViews().resumed(), "started from the snapshot, not read whole");
            assertEquals(expected, second.messages(), "what the snapshot had, less the expunge, with the flags, and the new one");
            assertEquals(late, second.messages().get(29).uid());
            assertEquals(s.require(MailboxName.INBOX).highestModSeq(), second.highestModSeq());
            assertEquals(List.of(), second.refresh());
            setFlags(s, inbox, List.of(uids.get(0)), flagged);
            assertEquals(3, logRows(inbox), "the first view's snapshot still holds the log from its modseq");
        }
        setFlags(s, inbox, List.of(uids.get(1)), flagged);
        assertEquals(2, logRows(inbox), "the second view's snapshot, which replaced it, needs only the change it had not read");
        s.delete(new MailboxName("Trash")); // another mailbox's deletion leaves this one's snapshot
        assertEquals(java.util.Set.of(inbox), f.store().openViews().snapshotted());
    }

    /**
     * A refresh that fails half-way changes nothing: the expunge it had read before the failure is
     * returned by the next one. It used to be applied to the view and lost, so the session never
     * told its client and went on numbering a message that was gone.
     */
    @Test
    void aRefreshThatFailsHalfWayLosesNoExpunge() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = appendNumbered(s, inbox, 3);
        try (MailboxView view = s.select(MailboxName.INBOX)) {
            expunge(s, inbox, uids.get(1));
            setFlags(s, inbox, List.of(uids.get(2)), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED)));
            try (var c = f.store().db().connect(); var st = c.createStatement()) {
                st.execute("ALTER TABLE flag_changes RENAME TO flag_changes_away"); // the read after the expunges fails
            }
            try {
                assertThrows(StoreException.class, view::refresh);
            } finally {
                try (var c = f.store().db().connect(); var st = c.createStatement()) {
                    st.execute("ALTER TABLE flag_changes_away RENAME TO flag_changes");
                }
            }
            assertEquals(3, view.size(), "nothing applied");
            List<MailboxChange> changes = view.refresh();
            assertEquals(List.of(uids.get(1), uids.get(2)), changes.stream().map(MailboxChange::uid).toList());
            assertTrue(changes.get(0) instanceof MailboxChange.Expunged && changes.get(1) instanceof MailboxChange.FlagsChanged);
            assertEquals(2, view.size());
        }
    }

    /**
     * A snapshot holds its mailbox's logs, so it must end: when a newer view closes with the
     * mailbox shrunk below the size worth one (it would otherwise never be replaced), and when it
     * is older than its maximum age (a mailbox nobody opens).
     */
    @Test
    void aSnapshotEndsWhenItsMailboxShrinksOrItGrowsOld() throws Exception {
        f.store().openViews().minSnapshotMessages = 20;
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = appendNumbered(s, inbox, 25);
        try (MailboxView v = s.select(MailboxName.INBOX)) {
            assertEquals(25, v.size());
        }
        assertEquals(java.util.Set.of(inbox), f.store().openViews().snapshotted());
        for (int i = 0; i < 10; i++) {
            expunge(s, inbox, uids.get(i));
        }
        assertEquals(10, rows("expunged", inbox), "the snapshot holds the expunge log");
        try (MailboxView v = s.select(MailboxName.INBOX)) {
            assertEquals(15, v.size());
        }
        assertEquals(java.util.Set.of(), f.store().openViews().snapshotted(), "15 < 20: the old snapshot went, none replaced it");
        expunge(s, inbox, uids.get(10));
        assertEquals(1, rows("expunged", inbox), "nothing holds the log now");

        appendNumbered(s, inbox, 10);
        try (MailboxView v = s.select(MailboxName.INBOX)) {
            assertEquals(24, v.size());
        }
        assertEquals(java.util.Set.of(inbox), f.store().openViews().snapshotted());
        f.store().openViews().maxAge = java.time.Duration.ZERO; // as an hour later
        expunge(s, inbox, uids.get(11));
        assertEquals(java.util.Set.of(), f.store().openViews().snapshotted(), "too old: dropped at the next prune");
        assertEquals(1, rows("expunged", inbox));
    }

    @Test
    void theLeastRecentlyOpenedSnapshotGoesFirstAndNoLongerHoldsItsLog() throws Exception {
        f.store().openViews().minSnapshotMessages = 5;
        f.store().openViews().snapshotCapacity = 25;
        StoreSession s = f.session();
        List<MailboxName> names = List.of(MailboxName.INBOX, new MailboxName("Archive"), new MailboxName("Sent"));
        List<MailboxId> ids = new ArrayList<>();
        for (MailboxName name : names) {
            ids.add(s.require(name).id());
            appendNumbered(s, ids.get(ids.size() - 1), 10);
        }
        try (MailboxView v = s.select(names.get(0))) {
            assertEquals(10, v.size());
        }
        try (MailboxView v = s.select(names.get(1))) {
            assertEquals(10, v.size());
        }
        try (MailboxView v = s.select(names.get(0))) { // INBOX opened again: Archive is now the older
            assertEquals(10, v.size());
        }
        assertEquals(java.util.Set.of(ids.get(0), ids.get(1)), f.store().openViews().snapshotted());
        FlagChange flagged = new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED));
        setFlags(s, ids.get(1), List.of(new Uid(1)), flagged);
        setFlags(s, ids.get(1), List.of(new Uid(2)), flagged);
        assertEquals(2, logRows(ids.get(1)), "Archive's snapshot holds its log");

        try (MailboxView v = s.select(names.get(2))) {
            assertEquals(10, v.size());
        }
        assertEquals(java.util.Set.of(ids.get(0), ids.get(2)), f.store().openViews().snapshotted(), "30 > 25: Archive's went");
        setFlags(s, ids.get(1), List.of(new Uid(3)), flagged);
        assertEquals(1, logRows(ids.get(1)), "nothing holds Archive's log now");
        try (MailboxView v = s.select(names.get(1))) {
            assertEquals(List.of(true, true, true, false), v.messages().subList(0, 4).stream()
                    .map(r -> r.flags().has(Flag.FLAGGED)).toList(), "read whole again");
        }
    }

    @Test
    void theExpungeLogKeepsOnlyWhatOpenViewsHaveNotRead() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> uids = appendNumbered(s, inbox, 4);
        try (MailboxView view = s.select(MailboxName.INBOX)) {
            expunge(s, inbox, uids.get(0));
            expunge(s, inbox, uids.get(1));
            assertEquals(2, rows("expunged", inbox), "the view has read neither");
            assertEquals(List.of(uids.get(0), uids.get(1)), view.refresh().stream().map(MailboxChange::uid).toList());
            expunge(s, inbox, uids.get(2));
            assertEquals(1, rows("expunged", inbox));
            assertEquals(List.of(uids.get(2)), view.refresh().stream().map(MailboxChange::uid).toList());
        }
    }

    @Test
    void viewsRefreshedWhileOthersWriteEndUpEqualToAFreshView() throws Exception {
        StoreSession s = f.session();
        MailboxId inbox = f.inbox();
        List<Uid> initial = appendNumbered(s, inbox, 120);
        try (MailboxView often = s.select(MailboxName.INBOX); MailboxView seldom = s.select(MailboxName.INBOX);
             ExecutorService pool = Executors.newFixedThreadPool(3)) {
            Future<?> flagger = pool.submit(() -> {
                java.util.Random r = new java.util.Random(1);
                for (int i = 0; i < 300; i++) {
                    List<Uid> some = new ArrayList<>();
                    int from = r.nextInt(initial.size());
                    for (int k = from; k < Math.min(initial.size(), from + 1 + r.nextInt(40)); k += 1 + r.nextInt(3)) {
                        some.add(initial.get(k));
                    }
                    Flags flags = r.nextInt(4) == 0 ? new Flags(java.util.Set.of(), java.util.Set.of("$K" + r.nextInt(3)))
                            : Flags.of(r.nextBoolean() ? Flag.FLAGGED : Flag.SEEN);
                    setFlags(s, inbox, some, new FlagChange(r.nextBoolean() ? FlagChange.Mode.ADD : FlagChange.Mode.REMOVE, flags));
                }
                return null;
            });
            Future<?> mover = pool.submit(() -> {
                java.util.Random r = new java.util.Random(2);
                for (int i = 0; i < 60; i++) {
                    Uid added = TestMessages.append(s, inbox, "Subject: new " + i + "\r\n\r\n" + i + "\r\n");
                    if (r.nextBoolean()) {
                        setFlags(s, inbox, List.of(added), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.DRAFT)));
                    }
                    expunge(s, inbox, r.nextBoolean() ? added : initial.get(r.nextInt(initial.size())));
                }
                return null;
            });
            Future<?> reader = pool.submit(() -> {
                for (int i = 0; !(flagger.isDone() && mover.isDone()); i++) {
                    often.refresh();
                    if (i % 25 == 0) {
                        seldom.refresh();
                    }
                }
                return null;
            });
            flagger.get(60, TimeUnit.SECONDS);
            mover.get(60, TimeUnit.SECONDS);
            reader.get(60, TimeUnit.SECONDS);
            often.refresh();
            seldom.refresh();
            try (MailboxView fresh = s.select(MailboxName.INBOX)) {
                assertEquals(state(fresh), state(often), "a view refreshed after every change");
                assertEquals(state(fresh), state(seldom), "a view refreshed now and then");
            }
        }
    }

    /** UID, modseq and flags of every message: what a view's refreshes must have kept up with. */
    private static List<String> state(MailboxView view) {
        return view.messages().stream().map(r -> r.uid().value() + " " + r.modSeq() + " " + r.flags().system()
                + r.flags().keywords()).toList();
    }

    /** Messages "Subject: 0" to "Subject: n-1", each with its own content. */
    private static List<Uid> appendNumbered(StoreSession s, MailboxId mailbox, int n) throws Exception {
        List<Uid> uids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            uids.add(TestMessages.append(s, mailbox, "Subject: " + i + "\r\n\r\n" + i + "\r\n"));
        }
        return uids;
    }

    private static void expunge(StoreSession s, MailboxId mailbox, Uid uid) {
        try (Transaction t = s.begin()) {
            t.expunge(mailbox, List.of(uid));
            t.commit();
        }
    }

    private static void setFlags(StoreSession s, MailboxId mailbox, List<Uid> uids, FlagChange change) {
        try (Transaction t = s.begin()) {
            t.setFlags(mailbox, uids, change);
            t.commit();
        }
    }

    private long logRows(MailboxId mailbox) throws Exception {
        return rows("flag_changes", mailbox);
    }

    private long rows(String table, MailboxId mailbox) throws Exception {
        try (var c = f.store().db().connect();
             var ps = c.prepareStatement("SELECT COUNT(*) FROM " + table + " WHERE mailbox_id = ?")) {
            ps.setLong(1, mailbox.value());
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void removingAUserRemovesTheMessagesOfEveryMailboxAndFreesTheirContents() throws Exception {
        StoreSession s = f.session();
        TestMessages.append(s, f.inbox(), "Subject: a\r\n\r\na\r\n");
        TestMessages.append(s, f.inbox(), "Subject: b\r\n\r\nb\r\n");
        TestMessages.append(s, s.require(new MailboxName("Sent")).id(), "Subject: c\r\n\r\nc\r\n");
        Account bob = f.store().accounts().addUser("bob@example.org", PasswordScheme.hash("pw"));
        StoreSession b = f.store().open(bob.id());
        TestMessages.append(b, b.require(MailboxName.INBOX).id(), "Subject: bob's\r\n\r\nd\r\n");
        f.store().accounts().removeUser("alice@example.org");
        try (var c = f.store().db().connect(); var st = c.createStatement();
             var rs = st.executeQuery("SELECT COUNT(*) FROM messages")) {
            rs.next();
            assertEquals(1, rs.getLong(1), "only bob's message is left");
        }
        assertEquals(3, f.store().collectGarbage(Duration.ZERO));
        assertEquals(1, b.status(MailboxName.INBOX).messages());
    }

    /**
     * A content unused at one look, named again by a new message and unused again by the next look
     * was not unused the whole interval between: a session that listed the new message (POP3 never
     * refreshes) may still read it. It goes at the look after.
     */
    @Test
    void aContentUsedAgainBetweenTwoLooksIsNotTakenAtTheSecondEvenIfUnusedByThen() throws Exception {
        StoreSession s = f.session();
        String text = "Subject: twice\r\n\r\n" + pastMemory();
        Uid first = TestMessages.append(s, f.inbox(), text);
        MessageRef ref = s.select(MailboxName.INBOX).messages().getFirst();
        try (Transaction t = s.begin()) {
            t.expunge(f.inbox(), List.of(first));
            t.commit();
        }
        assertEquals(0, f.store().sweepContents(Duration.ofSeconds(5)), "the first look only notes it");
        Uid again = TestMessages.append(s, f.inbox(), text); // the same octets: its content again
        try (Transaction t = s.begin()) {
            t.expunge(f.inbox(), List.of(again));
            t.commit();
        }
        assertEquals(0, f.store().sweepContents(Duration.ofSeconds(5)), "used again since the first look");
        assertTrue(Files.exists(contentFile(ref)));
        assertEquals(1, f.store().sweepContents(Duration.ofSeconds(5)), "unused at two looks with no use between");
        assertTrue(Files.notExists(contentFile(ref)));
    }

    @Test
    void theLiveSweepRemovesAContentAtTheSecondLookThatFindsItUnused() throws Exception {
        StoreSession s = f.session();
        Uid gone = TestMessages.append(s, f.inbox(), "Subject: gone\r\n\r\n" + pastMemory());
        Uid back = TestMessages.append(s, f.inbox(), "Subject: back\r\n\r\n" + pastMemory());
        TestMessages.append(s, f.inbox(), "Subject: kept\r\n\r\nz\r\n");
        List<MessageRef> before = s.select(MailboxName.INBOX).messages();
        try (Transaction t = s.begin()) {
            t.expunge(f.inbox(), List.of(gone, back));
            t.commit();
        }
        assertEquals(0, f.store().sweepContents(Duration.ofSeconds(5)), "the first look only notes them");
        assertTrue(Files.exists(contentFile(before.get(0))));
        TestMessages.append(s, f.inbox(), "Subject: back\r\n\r\n" + pastMemory()); // the same octets: the content is used again
        assertEquals(1, f.store().sweepContents(Duration.ofSeconds(5)));
        assertTrue(Files.notExists(contentFile(before.get(0))), "unused at both looks");
        assertTrue(Files.exists(contentFile(before.get(1))), "used again between the looks");
        assertEquals(0, f.store().sweepContents(Duration.ofSeconds(5)));
        for (MessageRef r : s.select(MailboxName.INBOX).messages()) {
            try (InputStream in = s.openContent(r)) {
                assertEquals(r.size(), in.readAllBytes().length);
            }
        }
    }

    @Test
    void theLiveSweepWaitsForWritersInFlightAndGivesUpAfterItsWait() throws Exception {
        StoreSession s = f.session();
        Uid gone = TestMessages.append(s, f.inbox(), "Subject: gone\r\n\r\nx\r\n");
        try (Transaction t = s.begin()) {
            t.expunge(f.inbox(), List.of(gone));
            t.commit();
        }
        try (Transaction open = s.begin()) {
            assertEquals(-1, f.store().sweepContents(Duration.ofMillis(50)), "a transaction is open");
        }
        assertEquals(0, f.store().sweepContents(Duration.ofSeconds(5)));
        assertEquals(1, f.store().sweepContents(Duration.ofSeconds(5)));
    }

    /**
     * StoreSession.append makes a set's contents durable before its transaction: meanwhile the contents
     * are held (a sweep gives up) but the mailbox and the account are not (another writer appends).
     */
    @Test
    void aSetAppendedTogetherHoldsTheContentsButNotTheMailboxWhileItsContentsSync() throws Exception {
        StoreSession s = f.session();
        MessageSpool.Spooled one = TestMessages.spool(f.store(), "Subject: one\r\n\r\n1\r\n");
        // past the memory limit: a file of its own, linked and synced into place while the set waits
        MessageSpool.Spooled two = TestMessages.spool(f.store(), "Subject: two\r\n\r\n" + pastMemory());
        CompletableFuture<Void> syncing = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        f.slowContentSync(two.sha256(), syncing, release);
        ExecutorService writer = Executors.newVirtualThreadPerTaskExecutor();
        try {
            Future<CommitResult> appended = writer.submit(() -> s.append(f.inbox(), List.of(
                    new NewMessage(one, TestMessages.facts(one), Flags.of(Flag.SEEN), Instant.now()),
                    new NewMessage(two, TestMessages.facts(two), Flags.NONE, Instant.now()))));
            syncing.get(10, TimeUnit.SECONDS);
            assertEquals(-1, f.store().sweepContents(Duration.ofMillis(50)), "the set's contents are held from the sweep");
            assertEquals(-1, f.store().removeLeftovers(Duration.ZERO, Duration.ofMillis(50)),
                    "and from the sweep of leftovers (one of them may be an old file no row names yet)");
            assertEquals(new Uid(1), TestMessages.append(s, f.inbox(), "Subject: meanwhile\r\n\r\nm\r\n"),
                    "the mailbox and the account are free while the set's contents sync");
            release.complete(null);
            CommitResult result = appended.get(10, TimeUnit.SECONDS);
            assertEquals(List.of(new Uid(2), new Uid(3)),
                    result.assigned().stream().flatMap(a -> a.uids().stream()).toList());
        } finally {
            release.complete(null);
            writer.close();
            one.discard();
            two.discard();
        }
        assertEquals(3, s.status(MailboxName.INBOX).messages());
    }

    /** A content that does not reach the disk appends none of its set, and holds nothing after. */
    @Test
    void aSetWithAContentThatFailsToSyncAppendsNothing() throws Exception {
        StoreSession s = f.session();
        MessageSpool.Spooled one = TestMessages.spool(f.store(), "Subject: one\r\n\r\n1\r\n");
        // past the memory limit: a file of its own, linked and synced into place while the set waits
        MessageSpool.Spooled two = TestMessages.spool(f.store(), "Subject: two\r\n\r\n" + pastMemory());
        CompletableFuture<Void> release = new CompletableFuture<>();
        release.completeExceptionally(new java.io.IOException("device gone"));
        f.slowContentSync(two.sha256(), new CompletableFuture<>(), release);
        StoreException e = assertThrows(StoreException.class, () -> s.append(f.inbox(), List.of(
                new NewMessage(one, TestMessages.facts(one), Flags.NONE, Instant.now()),
                new NewMessage(two, TestMessages.facts(two), Flags.NONE, Instant.now()))));
        assertEquals(StoreFailure.TEMPORARY, e.failure());
        assertEquals(0, s.status(MailboxName.INBOX).messages());
        assertEquals(0, f.store().sweepContents(Duration.ofMillis(50)), "no hold is left behind");
        assertEquals(0, keptOctets(), "nor the small one's octets");
        one.discard();
        two.discard();
    }

    /**
     * Keywords past what a message's row holds are the client's doing: TOO_BIG, for a NO it will
     * not retry, not a database error it would take for a passing failure; the message keeps its flags.
     */
    @Test
    void keywordsPastWhatAMessageHoldsAreRefusedAsTooBig() throws Exception {
        StoreSession s = f.session();
        Uid uid = TestMessages.append(s, f.inbox(), "Subject: k\r\n\r\nk\r\n");
        java.util.Set<String> many = new java.util.TreeSet<>();
        for (int i = 0; i < 41; i++) {
            many.add(String.format("k%02d", i) + "x".repeat(Flags.MAX_KEYWORD - 3));
        }
        Flags tooMany = new Flags(java.util.Set.of(), many);
        try (Transaction t = s.begin()) {
            StoreException e = assertThrows(StoreException.class,
                    () -> t.setFlags(f.inbox(), List.of(uid), new FlagChange(FlagChange.Mode.ADD, tooMany)));
            assertEquals(StoreFailure.TOO_BIG, e.failure(), e.getMessage());
        }
        assertEquals(Flags.NONE, s.select(MailboxName.INBOX).messages().getFirst().flags());
        MessageSpool.Spooled m = TestMessages.spool(f.store(), "Subject: k2\r\n\r\nk\r\n");
        try {
            StoreException e = assertThrows(StoreException.class, () -> s.append(f.inbox(),
                    List.of(new NewMessage(m, TestMessages.facts(m), tooMany, Instant.now()))));
            assertEquals(StoreFailure.TOO_BIG, e.failure(), e.getMessage());
        } finally {
            m.discard();
        }
    }

    private Path contentFile(MessageRef r) {
        return dir.resolve("contents").resolve(r.contentKey().substring(0, 2)).resolve(r.contentKey());
    }

    @Test
    void garbageCollectionRemovesOnlyUnreferencedContent() throws Exception {
        StoreSession s = f.session();
        Uid gone = TestMessages.append(s, f.inbox(), "Subject: gone\r\n\r\nx\r\n");
        TestMessages.append(s, f.inbox(), "Subject: kept\r\n\r\ny\r\n");
        MessageSpool.Spooled queued = TestMessages.spool(f.store(), "Subject: queued only\r\n\r\nz\r\n");
        f.store().queue().enqueue(new MailEnvelope("alice@example.org",
                List.of(MailEnvelope.Recipient.of("bob@remote.test")), Optional.empty(), Optional.empty(),
                false, false, Instant.now()), queued, TestMessages.facts(queued));
        try (Transaction t = s.begin()) {
            t.expunge(f.inbox(), List.of(gone));
            t.commit();
        }
        assertEquals(1, f.store().collectGarbage(Duration.ZERO), "the expunged message's content, not the queued one");
        assertEquals(0, f.store().collectGarbage(Duration.ZERO));
        MessageRef kept = s.select(MailboxName.INBOX).messages().get(0);
        try (InputStream in = s.openContent(kept)) {
            assertTrue(new String(in.readAllBytes(), StandardCharsets.US_ASCII).contains("kept"));
        }
    }

    /**
     * RFC 8474 §5.1: COPY and MOVE keep a message's EMAILID, other content gets another, and the id
     * stays after a restart; RFC 8514 §3: the copy's save date is when it was copied, not the source's.
     */
    @Test
    void copiesAndMovesKeepTheEmailIdAndAreSavedAnew() throws Exception {
        StoreSession s = f.session();
        MailboxId archive = s.require(new MailboxName("Archive")).id();
        MailboxId trash = s.require(new MailboxName("Trash")).id();
        Uid first = TestMessages.append(s, f.inbox(), "Subject: one\r\n\r\nbody\r\n");
        TestMessages.append(s, f.inbox(), "Subject: two\r\n\r\nbody\r\n");
        Instant longAgo = Instant.parse("2020-01-02T03:04:05Z");
        try (var c = f.store().db().connect();
             var ps = c.prepareStatement("UPDATE messages SET saved_at = ? WHERE mailbox_id = ? AND uid = ?")) {
            ps.setTimestamp(1, java.sql.Timestamp.from(longAgo));
            ps.setLong(2, f.inbox().value());
            ps.setLong(3, first.value());
            assertEquals(1, ps.executeUpdate());
        }
        List<MessageRef> inbox = messages(s, "INBOX");
        assertEquals(longAgo, inbox.get(0).savedAt(), "read with the rest of the row");
        String id = f.store().emailId(inbox.get(0));
        assertTrue(id.matches("[A-Za-z0-9_-]{1,255}"), id);
        assertFalse(id.contains(inbox.get(0).contentKey().substring(0, 8)), "the content's hash is not shown");
        assertFalse(id.equals(f.store().emailId(inbox.get(1))), "other octets, another message");

        Instant beforeCopy = Instant.now().minusSeconds(1);
        try (Transaction t = s.begin()) {
            t.copy(f.inbox(), List.of(first), archive);
            t.move(f.inbox(), List.of(first), trash);
            t.commit();
        }
        MessageRef copied = messages(s, "Archive").get(0);
        MessageRef moved = messages(s, "Trash").get(0);
        assertEquals(id, f.store().emailId(copied));
        assertEquals(id, f.store().emailId(moved));
        assertTrue(copied.savedAt().isAfter(beforeCopy) && moved.savedAt().isAfter(beforeCopy),
                copied.savedAt() + " " + moved.savedAt());

        f.close();
        f = new StoreFixture(MailboxStore.open(dir, null), f.user());
        assertEquals(id, f.store().emailId(messages(f.session(), "Trash").get(0)), "the same after a restart");
    }

    /** RFC 8474 §4: a MAILBOXID is the mailbox's for life, through RENAME and restarts, and never another's. */
    @Test
    void aMailboxKeepsItsIdThroughRenameAndRestart() {
        StoreSession s = f.session();
        String id = s.create(new MailboxName("Projects"), Optional.empty()).objectId();
        assertTrue(id.matches("[A-Za-z0-9_-]{1,255}"), id);
        s.rename(new MailboxName("Projects"), new MailboxName("Work/Projects"));
        assertEquals(id, s.require(new MailboxName("Work/Projects")).objectId());
        String inbox = s.require(MailboxName.INBOX).objectId();
        s.rename(MailboxName.INBOX, new MailboxName("Old"));
        assertEquals(inbox, s.require(MailboxName.INBOX).objectId(), "INBOX stays; its messages move to a new mailbox");
        assertFalse(inbox.equals(s.require(new MailboxName("Old")).objectId()));
        s.create(new MailboxName("Projects"), Optional.empty());
        assertFalse(id.equals(s.require(new MailboxName("Projects")).objectId()), "a new mailbox under the old name");
        assertEquals(s.list().size(), s.list().stream().map(MailboxInfo::objectId).distinct().count());

        f.close();
        f = new StoreFixture(MailboxStore.open(dir, null), f.user());
        assertEquals(id, f.session().require(new MailboxName("Work/Projects")).objectId());
    }

    private static List<MessageRef> messages(StoreSession s, String mailbox) {
        try (MailboxView view = s.select(new MailboxName(mailbox))) {
            return view.messages();
        }
    }

    /**
     * A content file at a message's address that is shorter than the message (its sync cut off by a
     * power cut: the set of files not yet synced was lost with the process) is not taken for the
     * message, but written again; a whole one is taken, and its time made new, so the sweep of
     * leftovers does not take it for one.
     */
    @Test
    void aContentFileCutShortIsWrittenAgainAndAWholeOneIsTakenAsNew() throws Exception {
        String text = "Subject: again\r\n\r\nthe same bytes as before the power cut\r\n" + pastMemory();
        String key = TestMessages.spool(f.store(), text).sha256();
        Path file = Files.createDirectories(dir.resolve("contents").resolve(key.substring(0, 2))).resolve(key);
        Files.writeString(file, "");
        TestMessages.append(f.session(), f.inbox(), text);
        try (var in = f.session().openContent(f.session().select(MailboxName.INBOX).messages().getFirst())) {
            assertEquals(text, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        Files.setLastModifiedTime(file, old);
        TestMessages.append(f.session(), f.inbox(), text);
        assertTrue(Files.getLastModifiedTime(file).compareTo(old) > 0, "a reused file's time is made new");
    }

    /**
     * What a killed writer or a refused APPEND leaves (a spool file, a content file no row names) goes
     * once it is older than the age a writer may take; referenced files and young files stay.
     */
    @Test
    void leftoverFilesGoOnceOldAndReferencedOrYoungOnesStay() throws Exception {
        String text = "Subject: kept\r\n\r\n" + pastMemory();
        TestMessages.append(f.session(), f.inbox(), text);
        String keptKey = TestMessages.spool(f.store(), text).sha256();
        Path contents = dir.resolve("contents");
        Path kept = contents.resolve(keptKey.substring(0, 2)).resolve(keptKey);
        String orphanKey = "ab" + "0".repeat(62);
        Path orphan = Files.createDirectories(contents.resolve("ab")).resolve(orphanKey);
        Files.writeString(orphan, "Subject: nobody's\r\n\r\n");
        Path young = contents.resolve("ab").resolve("ab" + "1".repeat(62));
        Files.writeString(young, "Subject: being written\r\n\r\n");
        var oldSpool = (MessageSpool.Spooled.OnDisk) TestMessages.spool(f.store(), "Subject: killed mid-DATA\r\n\r\n" + pastMemory());
        java.nio.file.attribute.FileTime twoHoursAgo = java.nio.file.attribute.FileTime.from(Instant.now().minus(Duration.ofHours(2)));
        for (Path p : List.of(kept, orphan, oldSpool.file())) {
            Files.setLastModifiedTime(p, twoHoursAgo);
        }
        Path youngSpool = ((MessageSpool.Spooled.OnDisk) TestMessages.spool(f.store(), "Subject: arriving\r\n\r\n" + pastMemory())).file();

        assertEquals(2, f.store().removeLeftovers(Duration.ofHours(1), Duration.ofSeconds(5)));
        assertFalse(Files.exists(orphan));
        assertFalse(Files.exists(oldSpool.file()));
        assertTrue(Files.exists(kept), "a content a message points at stays, however old");
        assertTrue(Files.exists(young) && Files.exists(youngSpool), "a writer may be between its file and its commit");
        try (var in = f.session().openContent(f.session().select(MailboxName.INBOX).messages().getFirst())) {
            assertEquals(text, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** A body too large to be kept in memory and the database: the message gets a file. */
    private static String pastMemory() {
        return "x".repeat(70).concat("\r\n").repeat(MessageSpool.IN_MEMORY_MAX / 72 + 1);
    }
}

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutoexpungeTest {
    private static final Instant LONG_AGO = Instant.parse("2020-01-02T03:04:05Z");

    @TempDir
    Path dir;

    @Test
    void expungesWhatWasPutIntoTrashBeforeTheCutOffAndNothingElse() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            MailboxStore store = f.store();
            StoreSession alice = f.session();
            Account bob = store.accounts().addUser("bob@example.org", PasswordScheme.hash("pw"));
            StoreSession bobs = store.open(bob.id());
            MailboxId aliceTrash = alice.require(new MailboxName("Trash")).id();
            MailboxId bobTrash = bobs.require(new MailboxName("Trash")).id();
            MailboxId aliceJunk = alice.require(new MailboxName("Junk")).id();

            Uid oldInTrash = TestMessages.append(alice, aliceTrash, "Subject: old\r\n\r\nx\r\n");
            Uid newInTrash = TestMessages.append(alice, aliceTrash, "Subject: new\r\n\r\ny\r\n");
            Uid bobsOld = TestMessages.append(bobs, bobTrash, "Subject: bob's\r\n\r\nz\r\n");
            Uid oldInInbox = TestMessages.append(alice, f.inbox(), "Subject: inbox\r\n\r\nw\r\n");
            Uid oldInJunk = TestMessages.append(alice, aliceJunk, "Subject: junk\r\n\r\nv\r\n");
            for (var m : List.of(new Object[]{aliceTrash, oldInTrash}, new Object[]{bobTrash, bobsOld},
                    new Object[]{f.inbox(), oldInInbox}, new Object[]{aliceJunk, oldInJunk})) {
                saved(store, (MailboxId) m[0], (Uid) m[1], Instant.now().minus(Duration.ofDays(40)));
            }
            long usedBefore = alice.quota().usedBytes();
            List<MailboxChange> seen = new CopyOnWriteArrayList<>();
            try (AutoCloseable sub = store.changes().subscribe(aliceTrash, seen::addAll)) {
                assertEquals(2, store.autoexpunge(SpecialUse.TRASH, Instant.now().minus(Duration.ofDays(30))));
            }
            assertEquals(List.of(newInTrash), uids(alice, "Trash"), "what was put there 40 days ago went, today's stayed");
            assertEquals(List.of(), uids(bobs, "Trash"), "every account's Trash");
            assertEquals(List.of(oldInInbox), uids(alice, "INBOX"), "other mailboxes are left alone");
            assertEquals(List.of(oldInJunk), uids(alice, "Junk"), "Junk has its own period");
            assertTrue(seen.stream().anyMatch(c -> c instanceof MailboxChange.Expunged e && e.uid().equals(oldInTrash)),
                    "open sessions are told, as of any expunge: " + seen);
            assertTrue(alice.quota().usedBytes() < usedBefore, "the expunged message no longer counts against the quota");
            assertEquals(1, alice.status(new MailboxName("Trash")).messages());
        }
    }

    @Test
    void countsFromWhenTheMessageWasMovedThereNotFromItsInternalDate() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            StoreSession s = f.session();
            MessageSpool.Spooled spooled = TestMessages.spool(f.store(), "Subject: from 2020\r\n\r\nx\r\n");
            Uid uid;
            try (Transaction t = s.begin()) {
                uid = t.append(f.inbox(), spooled, TestMessages.facts(spooled), Flags.NONE, LONG_AGO, Optional.empty())
                        .orElseThrow();
                t.commit();
            } finally {
                spooled.discard();
            }
            MailboxId trash = s.require(new MailboxName("Trash")).id();
            try (Transaction t = s.begin()) {
                t.move(f.inbox(), List.of(uid), trash);
                t.commit();
            }
            assertEquals(0, f.store().autoexpunge(SpecialUse.TRASH, Instant.now().minus(Duration.ofDays(30))));
            assertEquals(1, uids(s, "Trash").size(), "moved today: kept for the whole period");
            assertEquals(1, f.store().autoexpunge(SpecialUse.TRASH, Instant.now().plusSeconds(1)));
        }
    }

    /** A clock that ran ahead stamped one message "in the future": the due ones after it still go. */
    @Test
    void aMessageSavedInTheFutureDoesNotHoldBackTheDueOnesAfterIt() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            StoreSession s = f.session();
            MailboxId trash = s.require(new MailboxName("Trash")).id();
            Uid future = TestMessages.append(s, trash, "Subject: stamped 2100\r\n\r\nx\r\n");
            Uid old = TestMessages.append(s, trash, "Subject: old\r\n\r\ny\r\n");
            Uid fresh = TestMessages.append(s, trash, "Subject: today\r\n\r\nz\r\n");
            saved(f.store(), trash, future, Instant.parse("2100-01-01T00:00:00Z"));
            saved(f.store(), trash, old, Instant.now().minus(Duration.ofDays(40)));
            assertEquals(1, f.store().autoexpunge(SpecialUse.TRASH, Instant.now().minus(Duration.ofDays(30))));
            assertEquals(List.of(future, fresh), uids(s, "Trash"));
        }
    }

    @Test
    void aFullMailboxGoesInSeveralTransactions() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            StoreSession s = f.session();
            MailboxId junk = s.require(new MailboxName("Junk")).id();
            int count = 2 * Autoexpunge.BATCH + 1;
            MessageSpool.Spooled spooled = TestMessages.spool(f.store(), "Subject: spam\r\n\r\nbuy\r\n");
            try (Transaction t = s.begin()) {
                for (int i = 0; i < count; i++) {
                    t.append(junk, spooled, TestMessages.facts(spooled), Flags.NONE, Instant.now(), Optional.empty());
                }
                t.commit();
            } finally {
                spooled.discard();
            }
            List<Long> commits = new ArrayList<>();
            try (AutoCloseable sub = f.store().changes().subscribe(junk, changes -> commits.add((long) changes.size()))) {
                assertEquals(count, f.store().autoexpunge(SpecialUse.JUNK, Instant.now().plusSeconds(1)));
            }
            assertEquals(List.of((long) Autoexpunge.BATCH, (long) Autoexpunge.BATCH, 1L), commits);
            assertEquals(0, s.status(new MailboxName("Junk")).messages());
        }
    }

    @Test
    void lapsedVacationRepliesAndDuplicateIdsOfAnyAccountArePruned() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            MailboxStore store = f.store();
            Instant now = Instant.now();
            // each account prunes its own lapsed rows when it writes: the lapsed ones are written last
            assertTrue(store.accounts().claimVacationReply(f.user().id(), "new@remote.test", "", now, Duration.ofDays(7)));
            assertTrue(store.accounts().claimVacationReply(f.user().id(), "old@remote.test", "", now.minus(Duration.ofDays(8)),
                    Duration.ofDays(7)));
            store.sieveDuplicates().record(f.user().id(), List.of(
                    new SieveDuplicates.Mark("", "<new@x>", Duration.ofDays(1), false)), now, new QueueId(2));
            store.sieveDuplicates().record(f.user().id(), List.of(
                    new SieveDuplicates.Mark("", "<old@x>", Duration.ofDays(1), false)), now.minus(Duration.ofDays(2)), new QueueId(1));
            assertEquals(2, store.pruneExpiredTracking(now));
            assertEquals(0, store.pruneExpiredTracking(now), "nothing more has lapsed");
            assertTrue(store.accounts().claimVacationReply(f.user().id(), "old@remote.test", "", now, Duration.ofDays(7)),
                    "a lapsed reply no longer counts");
            assertTrue(store.sieveDuplicates().seen(f.user().id(), "", "<new@x>", now, new QueueId(3)));
        }
    }

    private static void saved(MailboxStore store, MailboxId mailbox, Uid uid, Instant at) throws Exception {
        try (Connection c = store.db().connect();
             PreparedStatement ps = c.prepareStatement("UPDATE messages SET saved_at = ? WHERE mailbox_id = ? AND uid = ?")) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.setLong(2, mailbox.value());
            ps.setLong(3, uid.value());
            assertEquals(1, ps.executeUpdate());
        }
    }

    private static List<Uid> uids(StoreSession s, String mailbox) {
        try (MailboxView view = s.select(new MailboxName(mailbox))) {
            return view.messages().stream().map(MessageRef::uid).toList();
        }
    }
}

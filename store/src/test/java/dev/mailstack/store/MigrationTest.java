package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationTest {
    @TempDir
    Path dir;

    @Test
    void freshDatabaseRoundTripsEveryTable() throws Exception {
        try (StoreFixture f = StoreFixture.create(dir)) {
            MailboxStore store = f.store();
            store.accounts().addAlias("postmaster@example.org", "alice@example.org");
            StoreSession s = f.session();
            Uid uid = TestMessages.append(s, f.inbox(), "Subject: hi\r\n\r\nbody\r\n");
            try (Transaction t = s.begin()) {
                t.expunge(f.inbox(), List.of(uid));
                t.commit();
            }
            MessageSpool.Spooled spooled = TestMessages.spool(store, "Subject: queued\r\n\r\nx\r\n");
            QueueId q = store.queue().enqueue(new MailEnvelope("bob@remote.test",
                    List.of(MailEnvelope.Recipient.of("carol@remote.test")), Optional.of("env-1"), Optional.of("HDRS"),
                    false, false, Instant.now()), spooled, TestMessages.facts(spooled));
            MessageSpool.Spooled other = TestMessages.spool(store, "Subject: delivered\r\n\r\ny\r\n");
            try (Transaction t = s.begin()) {
                t.append(f.inbox(), other, TestMessages.facts(other), Flags.of(Flag.SEEN), Instant.now(),
                        Optional.of(new DeliveryKey(q, "alice@example.org")));
                t.commit();
            }
            // a Sieve redirect's mark (V20), written with the redirect it keeps to one
            MessageSpool.Spooled redirect = TestMessages.spool(store, "Subject: redirected\r\n\r\nz\r\n");
            assertTrue(store.queue().recordSome(q, List.of(), List.of(new MailQueue.FollowUp(q, false,
                    new MailEnvelope("bob@remote.test", List.of(MailEnvelope.Recipient.of("carol@remote.test")),
                            Optional.empty(), Optional.empty(), false, false, Instant.now()), redirect,
                    TestMessages.facts(redirect), List.of(new MailQueue.Guard.Once(f.user().id(), "redirect\0carol@remote.test")))))
                    .orElseThrow().getFirst().isPresent());
            store.sieveDuplicates().record(f.user().id(), List.of(new SieveDuplicates.Mark("", "<dup@x>",
                    Duration.ofDays(1), false, true)), Instant.now(), q);
            store.domainPolicies().put(new DomainPolicy("example.net", "1", "version: STSv1\nmode: enforce\n",
                    Instant.now(), Instant.now().plus(Duration.ofDays(1))));
            store.accounts().setVacation("alice@example.org", Optional.of(new Vacation("Away", "Back on Monday.",
                    Optional.of(Instant.now().plus(Duration.ofDays(2))))));
            assertTrue(store.accounts().claimVacationReply(f.user().id(), "bob@remote.test", Instant.now(), Duration.ofDays(7)));
            store.sieveScripts().put(f.user().id(), "过滤", "# 中文\r\nkeep;\r\n", SieveLimits.defaults());
            store.sieveScripts().activate(f.user().id(), "过滤");
            try (Connection c = store.db().connect(); Statement st = c.createStatement()) {
                for (String table : List.of("domains", "accounts", "aliases", "mailboxes", "contents", "messages",
                        "queue_messages", "queue_recipients", "expunged", "deliveries", "domain_policies",
                        "vacations", "vacation_replies", "sieve_scripts", "server_keys", "follow_ups_sent", "sieve_duplicates",
                        "content_octets", "subscriptions")) {
                    try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
                        rs.next();
                        assertTrue(rs.getLong(1) > 0, table + " holds the row written through the API");
                    }
                }
            }
            assertEquals("carol@remote.test", store.queue().claimDue(Instant.now(), Duration.ofMinutes(1))
                    .orElseThrow().pending().get(0).recipient().address());
            assertEquals(List.of(new Alias("postmaster@example.org", "alice@example.org")), store.accounts().aliases());
            assertEquals("Back on Monday.", store.accounts().vacation(f.user().id()).orElseThrow().body());
            assertEquals(Optional.of("# 中文\r\nkeep;\r\n"), store.sieveScripts().activeSieveScript(f.user().id()));
            assertEquals(List.of(new SieveScriptEntry("过滤", true)), store.sieveScripts().list(f.user().id()));
        }
    }

    /** What a command beside a running server does: the schema is the server's, so it is checked, never migrated. */
    @Test
    void openedAsItIsADatabaseOfAnotherSchemaIsRefusedAndLeftAsItIs() throws Exception {
        String url = Database.defaultUrl(dir);
        Database.open(url, "18").close();
        StoreException older = assertThrows(StoreException.class, () -> Database.openAsItIs(url));
        assertTrue(older.getMessage().startsWith("the database is at schema version 18, older than this mailstack's"),
                older.getMessage());
        assertEquals("18", schemaVersion(url), "not migrated");
        Database.open(url).close();
        assertFalse(schemaVersion(url).equals("18"), "migrated by an open that may");
        Database.openAsItIs(url).close(); // this build's schema: opened
        try (Connection c = java.sql.DriverManager.getConnection(url, "mailstack", ""); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO \"flyway_schema_history\" (\"installed_rank\", \"version\", \"description\","
                    + " \"type\", \"script\", \"checksum\", \"installed_by\", \"installed_on\", \"execution_time\", \"success\")"
                    + " VALUES (1000, '999', 'from a newer mailstack', 'SQL', 'V999__newer.sql', 0, 'mailstack',"
                    + " CURRENT_TIMESTAMP, 0, TRUE)");
        }
        StoreException newer = assertThrows(StoreException.class, () -> Database.openAsItIs(url));
        assertTrue(newer.getMessage().contains("newer than this mailstack knows"), newer.getMessage());
    }

    private static String schemaVersion(String url) throws Exception {
        try (Connection c = java.sql.DriverManager.getConnection(url, "mailstack", ""); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT \"version\" FROM \"flyway_schema_history\" WHERE \"success\""
                     + " ORDER BY \"installed_rank\" DESC LIMIT 1")) {
            assertTrue(rs.next());
            return rs.getString(1);
        }
    }

    @Test
    void messagesOfVersion15CountAsSavedOnTheDayOfTheUpgrade() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "15"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq, special_use,"
                    + " message_count, unseen_count, total_size) SELECT id, 'Trash', 7, 2, 1, 'TRASH', 1, 1, 100 FROM accounts");
            addContents(st);
            st.executeUpdate("INSERT INTO messages (id, mailbox_id, uid, content_id, modseq, internal_date, flags)"
                    + " SELECT mb.id * 4294967296 + 1, mb.id, 1, ct.id, 1, TIMESTAMP WITH TIME ZONE '2020-01-02 03:04:05+00', 0"
                    + " FROM mailboxes mb JOIN contents ct ON ct.sha256 = REPEAT('a', 64)");
            st.executeUpdate("UPDATE accounts SET used_bytes = 100");
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            assertEquals(0, store.autoexpunge(SpecialUse.TRASH, Instant.now().minus(Duration.ofDays(1))),
                    "mail older than the period but stored before the upgrade is not removed at once");
            assertEquals(1, store.autoexpunge(SpecialUse.TRASH, Instant.now().plusSeconds(1)));
        }
    }

    @Test
    void mailboxesOfVersion17GetMailboxIdsThatStay() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "17"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq)"
                    + " SELECT id, v.name, v.validity, 1, 1 FROM accounts, (VALUES ('INBOX', 7), ('Old', 8)) v(name, validity)");
        }
        List<String> ids;
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            StoreSession s = store.open(store.accounts().authenticate("u@old.test", "pw").orElseThrow().id());
            List<MailboxInfo> old = s.list();
            ids = old.stream().map(MailboxInfo::objectId).toList();
            assertEquals(2, ids.stream().distinct().count(), ids.toString());
            // random, as a new mailbox's: 'F' and 128 bits of base64url, nothing made from the row id or UIDVALIDITY
            String fresh = s.create(new MailboxName("New"), Optional.empty()).objectId();
            for (String id : List.of(fresh, ids.get(0), ids.get(1))) {
                assertTrue(id.matches("F[A-Za-z0-9_-]{22}"), id);
            }
            for (MailboxInfo m : old) {
                assertFalse(m.objectId().equals("F" + m.id().value() + "-" + m.uidValidity()), m.objectId());
                assertFalse(m.objectId().startsWith("F" + m.id().value() + "-"), m.objectId());
            }
            try (Connection c = store.db().connect(); var st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS"
                         + " WHERE TABLE_NAME = 'MAILBOXES' AND COLUMN_NAME = 'OBJECT_ID'")) {
                rs.next();
                assertEquals("NO", rs.getString(1), "every mailbox has an id, so the column takes no NULL");
            }
            s.rename(new MailboxName("Old"), new MailboxName("Older"));
            assertEquals(ids.get(1), s.require(new MailboxName("Older")).objectId());
            assertEquals(ids.get(0), s.require(MailboxName.INBOX).objectId());
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            StoreSession s = store.open(store.accounts().authenticate("u@old.test", "pw").orElseThrow().id());
            assertEquals(ids, s.list().stream().filter(m -> !m.name().path().equals("New"))
                    .map(MailboxInfo::objectId).toList(), "the same after a restart");
        }
    }

    /**
     * RFC 6855 §3: names stored before version 22.1 become Net-Unicode and at most 255 characters
     * (a RENAME could store a longer child), children stay under their parent, and every name can
     * be listed again.
     */
    @Test
    void mailboxNamesOfVersion22AreMadeNfcWithoutControlCharactersAndShortEnough() throws Exception {
        String url = Database.defaultUrl(dir);
        String decomposed = "Cafe\u0301";
        String longParent = "x".repeat(250);
        try (Database old = Database.open(url, "22"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            int n = 0;
            for (String name : List.of("INBOX", "Café", decomposed, decomposed + "/Menu", "Né" + "e\u0301",
                    "a\u0085b\u2028c", longParent, longParent + "/" + "y".repeat(10))) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO mailboxes (account_id, name, uid_validity,"
                        + " uid_next, highest_modseq, object_id) SELECT id, ?, 7, 1, 1, ? FROM accounts")) {
                    ps.setString(1, name);
                    ps.setString(2, "F" + String.valueOf(n++).repeat(22));
                    ps.executeUpdate();
                }
            }
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            StoreSession s = store.open(store.accounts().authenticate("u@old.test", "pw").orElseThrow().id());
            List<String> names = s.list().stream().map(m -> m.name().path()).toList();
            String twin = names.stream().filter(m -> m.startsWith("Café (") && !m.contains("/")).findFirst()
                    .orElseThrow(() -> new AssertionError(names.toString()));
            assertEquals(java.util.Set.of("INBOX", "Café", twin, twin + "/Menu", "Néé", "a\uFFFDb\uFFFDc", longParent,
                    longParent + "/yyyy"), java.util.Set.copyOf(names));
            assertEquals("Café", s.find(new MailboxName(decomposed)).orElseThrow().name().path(),
                    "a decomposed name finds the composed mailbox");
        }
    }

    /** Version 23 keeps subscriptions apart from mailboxes; those of version 22 lived on the rows. */
    @Test
    void subscriptionsOfVersion22AreKeptAndNowOutliveTheirMailboxes() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "22.1"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            int n = 0;
            for (String name : List.of("INBOX", "订阅", "Not subscribed")) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO mailboxes (account_id, name, uid_validity,"
                        + " uid_next, highest_modseq, subscribed, object_id) SELECT id, ?, 7, 1, 1, ?, ? FROM accounts")) {
                    ps.setString(1, name);
                    ps.setBoolean(2, !name.startsWith("Not"));
                    ps.setString(3, "F" + String.valueOf(n++).repeat(22));
                    ps.executeUpdate();
                }
            }
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            StoreSession s = store.open(store.accounts().authenticate("u@old.test", "pw").orElseThrow().id());
            assertEquals(List.of("INBOX", "订阅"), s.subscriptions().stream().map(MailboxName::path).toList());
            assertTrue(s.require(new MailboxName("订阅")).subscribed());
            assertFalse(s.require(new MailboxName("Not subscribed")).subscribed());
            s.delete(new MailboxName("订阅"));
            assertEquals(List.of("INBOX", "订阅"), s.subscriptions().stream().map(MailboxName::path).toList());
        }
    }

    @Test
    void deliveryRecordsOfVersion18KeepThoseOfQueuedEntriesWithTheirQueueIdsUntilTheEntryIsGone() throws Exception {
        String url = Database.defaultUrl(dir);
        long queued;
        long gone;
        try (Database old = Database.open(url, "18.1"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq, object_id)"
                    + " SELECT id, 'INBOX', 7, 4, 1, 'F" + "x".repeat(22) + "' FROM accounts");
            addContents(st);
            for (int i = 0; i < 12; i++) { // ids past 9, so that their keys are in hex
                st.executeUpdate("INSERT INTO queue_messages (content_id, return_path, received_at, next_attempt_at)"
                        + " SELECT id, 'bob@remote.test', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM contents"
                        + " WHERE sha256 = REPEAT('a', 64)");
            }
            try (ResultSet rs = st.executeQuery("SELECT MIN(id) + 10, MAX(id) FROM queue_messages")) {
                rs.next();
                queued = rs.getLong(1);
                gone = rs.getLong(2);
            }
            st.executeUpdate("DELETE FROM queue_messages WHERE id <> " + queued); // delivered to all
            // keys as DeliveryKey.text() wrote them; the last one no key makes (matched by no check)
            st.executeUpdate("INSERT INTO deliveries (mailbox_id, delivery_key, uid) SELECT mb.id, v.k, v.uid"
                    + " FROM mailboxes mb, (VALUES ('" + new QueueId(queued) + ":u@old.test', 1),"
                    + " ('" + new QueueId(gone) + ":u@old.test', 2), ('odd', 3)) v(k, uid)");
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            try (Connection c = store.db().connect(); var st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT queue_id, uid FROM deliveries")) {
                    assertTrue(rs.next());
                    assertEquals(List.of(queued, 1L), List.of(rs.getLong(1), rs.getLong(2)),
                            "the record of the entry still queued, with its queue id");
                    assertFalse(rs.next(), "those of the entry that is gone and of the odd key are deleted");
                }
                try (ResultSet rs = st.executeQuery("SELECT IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS"
                        + " WHERE TABLE_NAME = 'DELIVERIES' AND COLUMN_NAME = 'QUEUE_ID'")) {
                    rs.next();
                    assertEquals("NO", rs.getString(1));
                }
            }
            StoreSession s = store.open(store.accounts().authenticate("u@old.test", "pw").orElseThrow().id());
            MessageSpool.Spooled m = TestMessages.spool(store, "Subject: retried\r\n\r\nx\r\n");
            try (Transaction t = s.begin()) {
                assertEquals(Optional.empty(), t.append(s.require(MailboxName.INBOX).id(), m, TestMessages.facts(m),
                        Flags.NONE, Instant.now(), Optional.of(new DeliveryKey(new QueueId(queued), "U@old.test"))),
                        "a retry of the entry still queued stores nothing");
                t.commit();
            }
            assertEquals(0, store.pruneExpiredTracking(Instant.now()), "its entry is still queued");
            assertTrue(store.queue().delete(new QueueId(queued)));
            assertEquals(1, store.pruneExpiredTracking(Instant.now()), "its entry is gone now");
        }
    }

    @Test
    void repliesOfVersion13AreTrackedPerHandleAfterTheUpgrade() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "13"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO vacations (account_id, subject, body) SELECT id, 'Away', 'Gone.' FROM accounts");
            st.executeUpdate("INSERT INTO vacation_replies (account_id, sender, replied_at) SELECT id, 'bob@remote.test',"
                    + " CURRENT_TIMESTAMP FROM accounts");
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            Account u = store.accounts().authenticate("u@old.test", "pw").orElseThrow();
            assertEquals("Gone.", store.accounts().vacationSetting("u@old.test").orElseThrow().body());
            assertTrue(store.accounts().claimVacationReply(u.id(), "bob@remote.test", "h", Instant.now(), Duration.ofDays(7)));
            assertFalse(store.accounts().claimVacationReply(u.id(), "bob@remote.test", "h", Instant.now(), Duration.ofDays(7)));
        }
    }

    @Test
    void accountsOfVersion12GetSieveScriptsAfterTheUpgrade() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "12"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO vacations (account_id, subject, body) SELECT id, 'Away', 'Gone.' FROM accounts");
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            Account u = store.accounts().authenticate("u@old.test", "pw").orElseThrow();
            assertEquals(List.of(), store.sieveScripts().list(u.id()));
            assertEquals(Optional.empty(), store.sieveScripts().activeSieveScript(u.id()));
            store.sieveScripts().put(u.id(), "main", "keep;", SieveLimits.defaults());
            store.sieveScripts().activate(u.id(), "main");
            assertEquals(Optional.of("keep;"), store.sieveScripts().activeSieveScript(u.id()));
            assertEquals("Gone.", store.accounts().vacationSetting("u@old.test").orElseThrow().body());
        }
    }

    @Test
    void opensADatabaseCreatedByThePreviousSchemaVersion() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "2"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq)"
                    + " SELECT id, 'INBOX', 7, 1, 1 FROM accounts");
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = 'EXPUNGED'");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertEquals(0, rs.getLong(1), "version 2 has no expunge log yet");
            }
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            Account u = store.accounts().authenticate("u@old.test", "pw").orElseThrow();
            StoreSession s = store.open(u.id());
            MailboxId inbox = s.require(MailboxName.INBOX).id();
            Uid uid = TestMessages.append(s, inbox, "Subject: after upgrade\r\n\r\nx\r\n");
            try (Transaction t = s.begin()) {
                t.expunge(inbox, List.of(uid));
                t.commit();
            }
            assertEquals(0, s.status(MailboxName.INBOX).messages());
            assertEquals(7, s.require(MailboxName.INBOX).uidValidity());
        }
    }

    @Test
    void countsAndTheRecentWatermarkAreFilledInForMailStoredBeforeVersion4() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "3"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq)"
                    + " SELECT id, 'INBOX', 7, 4, 3 FROM accounts");
            addContents(st);
            // flags: 1 = \Seen, 8 = \Deleted
            st.executeUpdate("INSERT INTO messages (mailbox_id, uid, content_id, modseq, internal_date, flags)"
                    + " SELECT mb.id, v.uid, ct.id, v.uid, CURRENT_TIMESTAMP, v.flags FROM mailboxes mb,"
                    + " (VALUES (1, 1, 'a'), (2, 9, 'b'), (3, 8, 'a')) v(uid, flags, c)"
                    + " JOIN contents ct ON ct.sha256 = REPEAT(v.c, 64)");
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            Account u = store.accounts().authenticate("u@old.test", "pw").orElseThrow();
            StoreSession s = store.open(u.id());
            MailboxStatus status = s.status(MailboxName.INBOX, true);
            assertEquals(List.of(3L, 1L, 2L, 450L, 0L),
                    List.of(status.messages(), status.unseen(), status.deleted(), status.totalSize(), status.recent()),
                    "messages, unseen, deleted, size; mail from before the upgrade is not recent");
            Uid uid = TestMessages.append(s, s.require(MailboxName.INBOX).id(), "Subject: new\r\n\r\nx\r\n");
            assertEquals(4, uid.value());
            assertEquals(1, s.status(MailboxName.INBOX, true).recent());
            assertEquals(3, s.claimRecent(s.require(MailboxName.INBOX).id(), 4, true), "the first session takes UID 4");
            assertEquals(0, s.status(MailboxName.INBOX, true).recent());
        }
    }

    @Test
    void messagesKeepEverythingWhenVersion7RebuildsTheirTable() throws Exception {
        String url = Database.defaultUrl(dir);
        try (Database old = Database.open(url, "6"); Connection c = old.connect(); var st = c.createStatement()) {
            addUser(st);
            st.executeUpdate("INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq, message_count,"
                    + " unseen_count, total_size, recent_uid) SELECT id, 'INBOX', 7, 3, 5, 2, 1, 350, 2 FROM accounts");
            addContents(st);
            st.executeUpdate("INSERT INTO messages (mailbox_id, uid, content_id, modseq, internal_date, flags, keywords)"
                    + " SELECT mb.id, v.uid, ct.id, v.modseq, TIMESTAMP WITH TIME ZONE '2020-01-02 03:04:05+00', v.flags, v.kw"
                    + " FROM mailboxes mb, (VALUES (1, 4, 1, '$Label1'), (2, 5, 0, '')) v(uid, modseq, flags, kw)"
                    + " JOIN contents ct ON ct.sha256 = REPEAT(CASE v.uid WHEN 1 THEN 'a' ELSE 'b' END, 64)");
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            StoreSession s = store.open(store.accounts().authenticate("u@old.test", "pw").orElseThrow().id());
            try (MailboxView view = s.select(MailboxName.INBOX)) {
                List<MessageRef> messages = view.messages();
                assertEquals(List.of(1L, 2L), messages.stream().map(r -> r.uid().value()).toList());
                assertEquals(List.of(4L, 5L), messages.stream().map(MessageRef::modSeq).toList());
                assertEquals(List.of(100L, 250L), messages.stream().map(MessageRef::size).toList());
                assertTrue(messages.get(0).flags().has(Flag.SEEN));
                assertEquals(java.util.Set.of("$Label1"), messages.get(0).flags().keywords());
                assertEquals(Instant.parse("2020-01-02T03:04:05Z"), messages.get(0).internalDate());
                assertEquals(5, view.highestModSeq());
            }
            assertEquals(0, store.collectGarbage(Duration.ZERO), "both contents are still used");
            MailboxId box = s.create(new MailboxName("Box"), Optional.empty()).id();
            Uid uid = TestMessages.append(s, box, "Subject: in box\r\n\r\nx\r\n");
            try (Transaction t = s.begin()) {
                t.setFlags(box, List.of(uid), new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED)));
                t.commit();
            }
            s.delete(new MailboxName("Box"));
            try (Connection c = store.db().connect(); var st = c.createStatement()) {
                for (String table : List.of("messages", "flag_changes")) {
                    try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table + " WHERE mailbox_id = " + box.value())) {
                        rs.next();
                        assertEquals(0, rs.getLong(1), table + " rows go with their mailbox");
                    }
                }
            }
        }
    }

    /**
     * V21: the duplicate test's rows of version 20 are kept, each the answer "not a duplicate" of the
     * message that wrote it, so that message's retry is none and another message's copy is one.
     */
    @Test
    void sieveDuplicatesOfVersion20AreKeptAsAnswersOfTheirMessages() throws Exception {
        String url = Database.defaultUrl(dir);
        Instant later = Instant.now().plus(Duration.ofDays(1));
        try (Database old = Database.open(url, "20"); Connection c = old.connect(); var st = c.createStatement()) {
            addUserWithAVersion20Duplicate(c, st, later);
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            AccountId u = store.accounts().authenticate("u@old.test", "pw").orElseThrow().id();
            assertEquals(Optional.of(false), store.sieveDuplicates().answered(u, "", "<old@x>", new QueueId(7)));
            assertTrue(store.sieveDuplicates().seen(u, "", "<old@x>", Instant.now(), new QueueId(8)));
        }
    }

    /**
     * V21 done half way by a server killed before Flyway recorded it (each of its statements
     * commits on its own in H2): the next start goes on from there, and nothing is lost.
     */
    @Test
    void version21KilledHalfWayIsFinishedAtTheNextStart() throws Exception {
        String url = Database.defaultUrl(dir);
        Instant later = Instant.now().plus(Duration.ofDays(1));
        try (Database old = Database.open(url, "20"); Connection c = old.connect(); var st = c.createStatement()) {
            addUserWithAVersion20Duplicate(c, st, later);
            // the new table made and filled, the old one dropped; killed before the rename
            st.executeUpdate("CREATE TABLE sieve_duplicates_v21 (account_id BIGINT NOT NULL REFERENCES accounts (id),"
                    + " id_hash CHAR(64) NOT NULL, queue_id BIGINT NOT NULL, expires_at TIMESTAMP WITH TIME ZONE NOT NULL,"
                    + " was_duplicate BOOLEAN NOT NULL, PRIMARY KEY (account_id, id_hash, queue_id))");
            st.executeUpdate("INSERT INTO sieve_duplicates_v21 SELECT account_id, id_hash, queue_id, expires_at, FALSE"
                    + " FROM sieve_duplicates");
            st.executeUpdate("DROP TABLE sieve_duplicates");
        }
        try (MailboxStore store = MailboxStore.open(dir, url)) {
            AccountId u = store.accounts().authenticate("u@old.test", "pw").orElseThrow().id();
            assertEquals(Optional.of(false), store.sieveDuplicates().answered(u, "", "<old@x>", new QueueId(7)));
            assertTrue(store.sieveDuplicates().seen(u, "", "<old@x>", Instant.now(), new QueueId(8)));
        }
    }

    /** {@link #addUser}, and a duplicate test's row of version 20: "<old@x>" seen by queue entry 7 until {@code expires}. */
    private static void addUserWithAVersion20Duplicate(Connection c, Statement st, Instant expires) throws Exception {
        addUser(st);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO sieve_duplicates (account_id, id_hash, expires_at,"
                + " queue_id) SELECT id, ?, ?, 7 FROM accounts")) {
            ps.setString(1, SieveDuplicates.hash("", "<old@x>"));
            ps.setTimestamp(2, java.sql.Timestamp.from(expires));
            ps.executeUpdate();
        }
    }

    /** User u@old.test (password "pw") in domain old.test, as any schema version stores them. */
    private static void addUser(Statement st) throws Exception {
        st.executeUpdate("INSERT INTO domains (name, created_at) VALUES ('old.test', CURRENT_TIMESTAMP)");
        st.executeUpdate("INSERT INTO accounts (domain_id, address, password_hash, created_at)"
                + " SELECT id, 'u@old.test', '" + PasswordScheme.hash("pw") + "', CURRENT_TIMESTAMP FROM domains");
    }

    /** Two contents, sha256 'a'×64 (100 octets) and 'b'×64 (250 octets). */
    private static void addContents(Statement st) throws Exception {
        st.executeUpdate("INSERT INTO contents (sha256, size, header_size, body_lines, summary, created_at) VALUES"
                + " ('" + "a".repeat(64) + "', 100, 10, 1, X'00', CURRENT_TIMESTAMP),"
                + " ('" + "b".repeat(64) + "', 250, 10, 1, X'00', CURRENT_TIMESTAMP)");
    }
}

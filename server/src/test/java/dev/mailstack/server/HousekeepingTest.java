package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.Account;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HousekeepingTest {
    @TempDir
    Path dir;

    @Test
    void theConfiguredTrashPeriodEmptiesTrashAndLeavesJunkAtZero() throws Exception {
        Path file = dir.resolve("mailstack.conf");
        Files.writeString(file, "mailbox.autoexpunge_trash_days = 1\n");
        Config config = Config.load(Optional.of(file), Map.of());
        try (MailboxStore store = MailboxStore.open(dir.resolve("data"), null)) {
            store.accounts().addDomain("example.org");
            Account alice = store.accounts().addUser("alice@example.org", PasswordScheme.hash("pw"));
            StoreSession s = store.open(alice.id());
            for (String mailbox : new String[]{"Trash", "Junk", "INBOX"}) {
                append(store, s, mailbox, "Subject: in " + mailbox + "\r\n\r\nbody\r\n");
            }
            // two days from now, as far as the round can tell: what was put in Trash today is a day past its period
            Clock later = Clock.offset(Clock.systemUTC(), Duration.ofDays(2));
            try (Housekeeping h = Housekeeping.start(store, dir.resolve("data"), Duration.ofHours(1), Housekeeping.Retention.of(config), later)) {
                // close() waits for the round under way, the first one included
            }
            assertEquals(0, s.status(new MailboxName("Trash")).messages(), "a day past its period");
            assertEquals(1, s.status(new MailboxName("Junk")).messages(), "mailbox.autoexpunge_junk_days = 0 keeps it");
            assertEquals(1, s.status(MailboxName.INBOX).messages());
        }
    }

    @Test
    void withNothingConfiguredNothingIsExpunged() throws Exception {
        try (MailboxStore store = MailboxStore.open(dir.resolve("data"), null)) {
            store.accounts().addDomain("example.org");
            Account alice = store.accounts().addUser("alice@example.org", PasswordScheme.hash("pw"));
            StoreSession s = store.open(alice.id());
            append(store, s, "Trash", "Subject: old\r\n\r\nbody\r\n");
            Clock muchLater = Clock.offset(Clock.systemUTC(), Duration.ofDays(3650));
            try (Housekeeping h = Housekeeping.start(store, dir.resolve("data"), Duration.ofHours(1), Housekeeping.Retention.of(Config.defaults()),
                    muchLater)) {
                // the first round
            }
            assertEquals(1, s.status(new MailboxName("Trash")).messages());
        }
    }

    /**
     * A database copy a killed backup left in data/backup-tmp goes once it is a day old, at start
     * and while the server runs; a younger one may be a running backup's and stays.
     */
    @Test
    void databaseCopiesOfKilledBackupsAreRemoved() throws Exception {
        Path data = dir.resolve("data");
        try (MailboxStore store = MailboxStore.open(data, null)) {
            Path copies = Files.createDirectories(data.resolve("backup-tmp"));
            Path killed = Files.writeString(copies.resolve("database-1.zip"), "left by a killed backup");
            Files.setLastModifiedTime(killed, FileTime.from(Instant.now().minus(Duration.ofHours(25))));
            Path running = Files.writeString(copies.resolve("database-0.zip"), "a backup that runs as the server starts");
            Housekeeping.sweepAtStart(store, data);
            assertFalse(Files.exists(killed), "a day old at start");
            assertTrue(Files.exists(running), "root's backup takes no lock: it may run while the server starts");

            Path old = Files.writeString(copies.resolve("database-2.zip"), "two days old");
            Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
            Path young = Files.writeString(copies.resolve("database-3.zip"), "a backup under way");
            Path other = Files.writeString(copies.resolve("notes.txt"), "not a copy");
            Files.setLastModifiedTime(other, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
            try (Housekeeping h = Housekeeping.start(store, data, Duration.ofHours(1), Housekeeping.Retention.of(Config.defaults()),
                    Clock.systemUTC())) {
                // the first round
            }
            assertFalse(Files.exists(old), "a day past any backup");
            assertTrue(Files.exists(young), "perhaps a running backup's");
            assertTrue(Files.exists(other), "only database copies are taken");
        }
    }

    private static void append(MailboxStore store, StoreSession s, String mailbox, String text) throws Exception {
        MessageSpool spool = store.spool();
        spool.write(text.getBytes(StandardCharsets.UTF_8));
        MessageSpool.Spooled m = spool.finish();
        try {
            MessageFacts facts;
            try (InputStream in = m.open()) {
                MessageSummary.ParsedMessage p = MessageSummary.parse(in, MimeLimits.defaults());
                facts = new MessageFacts(p.size(), p.headerSize(), p.bodyLines(), p.summary().encode());
            }
            var target = s.require(new MailboxName(mailbox)).id();
            try (Transaction t = s.begin()) {
                t.append(target, m, facts, Flags.NONE, Instant.now(), Optional.empty());
                t.commit();
            }
        } finally {
            m.discard();
        }
    }
}

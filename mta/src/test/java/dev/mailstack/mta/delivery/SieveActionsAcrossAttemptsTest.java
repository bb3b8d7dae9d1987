package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.net.LineClient;
import dev.mailstack.sieve.AdminScripts;
import dev.mailstack.store.Account;
import dev.mailstack.store.Database;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.QueueId;
import dev.mailstack.store.StoreSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a Sieve script asks for besides filing (redirects, notifications, the duplicate test's
 * memory) across the attempts at one message and the addresses it reaches an account through:
 * done once, never repeated by a retry, never lost by one. Retries are forced as SieveDeliveryTest
 * does: a CHECK constraint refusing to mark alice's recipient DELIVERED (as a full disk would), or
 * a global include that cannot be read (TryLater).
 */
class SieveActionsAcrossAttemptsTest {
    @TempDir
    Path dir;
    MtaFixture mta;
    Account bob;
    Account carol;

    @BeforeEach
    void start() throws Exception {
        mta = MtaFixture.create(dir);
        bob = mta.store.store().accounts().addUser("bob@example.org", PasswordScheme.hash("secret"));
        carol = mta.store.store().accounts().addUser("carol@example.org", PasswordScheme.hash("secret"));
    }

    @AfterEach
    void stop() {
        mta.close();
    }

    private void script(Account account, String text) {
        mta.activeScript(account.id(), text);
    }

    private void send(String header, String... rcpts) throws Exception {
        sendFrom("dave@remote.test", header, rcpts);
    }

    private void sendFrom(String sender, String header, String... rcpts) throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            c.send("MAIL FROM:<" + sender + ">").expect("250 .*");
            for (String r : rcpts) {
                c.send("RCPT TO:<" + r + ">").expect("250 .*");
            }
            c.send("DATA").expect("354 .*");
            c.sendRaw(header + "\r\nbody\r\n.\r\n").expect("250 .*");
            c.send("QUIT").expect("221 .*");
        }
    }

    private long count(StoreSession s, String mailbox) {
        return s.find(new MailboxName(mailbox)).isPresent() ? s.status(new MailboxName(mailbox)).messages() : 0;
    }

    private StoreSession session(Account a) {
        return mta.store.store().open(a.id());
    }

    private Connection db() throws Exception {
        return DriverManager.getConnection(Database.defaultUrl(dir.resolve("data")), "mailstack", "");
    }

    /**
     * Everything the message called for is delivered: what a delivery calls for is queued in the
     * transaction that records it, so an empty queue has nothing more coming.
     */
    private void settle() throws Exception {
        mta.awaitQueueEmpty();
    }

    /**
     * RFC 5435 §3.8 (a notification per action, for the message delivered): a script that discards
     * (a redirect without :copy) and notifies, whose first attempt cannot be recorded, notifies with
     * the attempt that records the delivery, once.
     */
    @Test
    void aDiscardingScriptsNotificationIsNotRepeatedByTheRetry() throws Exception {
        script(mta.store.user(), "require [\"enotify\"]; notify \"mailto:bob@example.org\"; redirect \"carol@example.org\";");
        QueueId id;
        try (Connection db = db(); Statement sql = db.createStatement()) {
            sql.execute("ALTER TABLE queue_recipients ADD CONSTRAINT refuse_alice CHECK"
                    + " (state <> 'DELIVERED' OR address <> 'alice@example.org')");
            send("Message-ID: <n1@remote.test>\r\nSubject: notify me\r\n", "alice@example.org");
            id = mta.store.store().queue().list().getFirst().id();
            mta.awaitQueue("the attempt ended", () -> mta.store.store().queue().details(id)
                    .map(d -> d.recipients().getFirst().attempts() == 1).orElse(false));
            sql.execute("ALTER TABLE queue_recipients DROP CONSTRAINT refuse_alice");
        }
        assertTrue(mta.store.store().queue().retryNow(id));
        mta.runner.wake();
        mta.awaitMessages(session(carol), MailboxName.INBOX, 1);
        settle();
        assertEquals(1, count(session(carol), "INBOX"), "redirected once");
        assertEquals(1, count(session(bob), "INBOX"), "one notification for one message, not one per attempt");
    }

    /** A discarding, notifying script reached through alice@ and alice+news@ in one message notifies once. */
    @Test
    void twoAddressesOfOneAccountNotifyOnce() throws Exception {
        script(mta.store.user(), "require [\"enotify\"]; notify \"mailto:bob@example.org\"; discard;");
        send("Message-ID: <n2@remote.test>\r\nSubject: twice addressed\r\n", "alice@example.org", "alice+news@example.org");
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        settle();
        assertEquals(1, count(session(bob), "INBOX"), "one notification (a redirect goes once in the same case)");
    }

    /**
     * RFC 5230 §4.6 with RFC 6131's :seconds 0, where the once-per-interval claim holds nothing
     * back: a message that reaches alice through two addresses gets one reply, not one per address.
     */
    @Test
    void twoAddressesOfOneAccountSendOneVacationReply() throws Exception {
        script(mta.store.user(), "require [\"vacation\", \"vacation-seconds\"]; vacation :seconds 0 \"Away.\"; discard;");
        sendFrom("bob@example.org", "Message-ID: <v1@example.org>\r\nTo: alice@example.org\r\nSubject: lunch\r\n",
                "alice@example.org", "alice+news@example.org");
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        settle();
        assertEquals(1, count(session(bob), "INBOX"), "one reply for one message");
    }

    /**
     * RFC 5230 §4.6: the reply and the claim that it was sent are written together, with the
     * delivery: a first attempt that cannot record alice's delivery sends no reply and claims
     * nothing, and the retry replies (before, its claim was kept and the reply lost for :days).
     */
    @Test
    void aVacationReplyGoesWithTheAttemptThatRecordsTheDelivery() throws Exception {
        script(mta.store.user(), "require \"vacation\"; vacation \"Away.\";");
        QueueId id;
        try (Connection db = db(); Statement sql = db.createStatement()) {
            sql.execute("ALTER TABLE queue_recipients ADD CONSTRAINT refuse_alice CHECK"
                    + " (state <> 'DELIVERED' OR address <> 'alice@example.org')");
            sendFrom("bob@example.org", "Message-ID: <v2@example.org>\r\nTo: alice@example.org\r\nSubject: lunch\r\n",
                    "alice@example.org");
            id = mta.store.store().queue().list().getFirst().id();
            mta.awaitQueue("the attempt ended", () -> mta.store.store().queue().details(id)
                    .map(d -> d.recipients().getFirst().attempts() == 1).orElse(false));
            assertEquals(1, mta.store.store().queue().list().size(), "no reply queued without the delivery's record");
            sql.execute("ALTER TABLE queue_recipients DROP CONSTRAINT refuse_alice");
        }
        assertTrue(mta.store.store().queue().retryNow(id));
        mta.runner.wake();
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        settle();
        assertEquals(1, count(session(bob), "INBOX"), "one reply, with the retry");
        assertEquals(1, count(mta.alice(), "INBOX"));
    }

    /**
     * RFC 5228 §4.2: the message reaches alice through alice@ (delivered, the redirect queued with it)
     * and through team@ (an alias of alice and bob; bob's delivery is deferred). The retry of team@
     * runs alice's script again; the redirect it asks for was sent already and goes no second time.
     */
    @Test
    void aRedirectIsNotRepeatedWhenAnotherAddressOfTheAccountIsTriedAgain() throws Exception {
        Path global = Files.createDirectories(dir.resolve("global"));
        Files.write(global.resolve("shared.sieve"), new byte[]{'k', 'e', 'e', 'p', (byte) 0xff, ';'}); // unreadable as UTF-8
        mta.local.use(new SieveSettings(AdminScripts.NONE, Optional.of(global), Duration.ofDays(7)));
        mta.store.store().accounts().addAlias("team@example.org", "alice@example.org");
        mta.store.store().accounts().addAlias("team@example.org", "bob@example.org");
        script(mta.store.user(), "require \"copy\"; redirect :copy \"carol@example.org\";");
        script(bob, "require \"include\"; include :global \"shared\";");
        send("Message-ID: <r1@remote.test>\r\nSubject: to the team\r\n", "alice@example.org", "team@example.org");
        QueueId id = mta.store.store().queue().list().stream().map(e -> e.id())
                .min(java.util.Comparator.comparingLong(QueueId::value)).orElseThrow();
        mta.awaitQueue("team@ deferred", () -> mta.store.store().queue().details(id)
                .map(d -> d.recipients().stream().anyMatch(r -> r.attempts() == 1 && r.lastReply().startsWith("4")))
                .orElse(false));
        mta.awaitMessages(session(carol), MailboxName.INBOX, 1);
        assertEquals(1, count(session(carol), "INBOX"), "first attempt: one redirect");
        Files.writeString(global.resolve("shared.sieve"), "keep;");
        assertTrue(mta.store.store().queue().retryNow(id));
        mta.runner.wake();
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        settle();
        assertEquals(1, count(mta.alice(), "INBOX"), "alice: one copy");
        assertEquals(1, count(session(carol), "INBOX"), "redirected once, not again with team@'s retry");
    }

    /**
     * RFC 7352 §3: Q's first attempt files it and tracks its ID but cannot queue its redirect; P, the
     * same Message-ID, is a duplicate (its :last renews the tracking); Q's retry still gets the
     * answer Q's first run got, not a duplicate, and the redirect goes: carol gets her copy.
     */
    @Test
    void aDeferredRedirectAfterDuplicateLastIsNotLostToALaterCopy() throws Exception {
        script(mta.store.user(), "require [\"duplicate\", \"copy\"]; if not duplicate :last { redirect :copy \"carol@example.org\"; }");
        String header = "Message-ID: <dup-1@remote.test>\r\nSubject: release\r\n";
        QueueId q;
        try (Connection db = db(); Statement sql = db.createStatement()) {
            sql.execute("ALTER TABLE queue_recipients ADD CONSTRAINT refuse_alice CHECK"
                    + " (state <> 'DELIVERED' OR address <> 'alice@example.org')");
            send(header, "alice@example.org");
            q = mta.store.store().queue().list().getFirst().id();
            mta.awaitQueue("the attempt ended", () -> mta.store.store().queue().details(q)
                    .map(d -> d.recipients().getFirst().attempts() == 1).orElse(false));
            sql.execute("ALTER TABLE queue_recipients DROP CONSTRAINT refuse_alice");
        }
        send(header, "alice@example.org"); // P: the list's copy
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
        mta.awaitQueue("P done", () -> mta.store.store().queue().list().size() == 1);
        assertTrue(mta.store.store().queue().retryNow(q));
        mta.runner.wake();
        settle();
        assertEquals(1, count(session(carol), "INBOX"), "the first copy's redirect goes, not lost to the later copy");
    }

    /** RFC 7352: a message is no duplicate of itself, also when it reaches the account through two addresses. */
    @Test
    void aMessageToTwoAddressesOfOneAccountIsNoDuplicateOfItself() throws Exception {
        script(mta.store.user(), "require [\"duplicate\", \"fileinto\", \"mailbox\"]; if duplicate { fileinto :create \"Dups\"; }");
        send("Message-ID: <self@remote.test>\r\nSubject: once\r\n", "alice@example.org", "alice+news@example.org");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        settle();
        assertEquals(0, count(mta.alice(), "Dups"), "not filed as a duplicate of itself");
        assertEquals(1, count(mta.alice(), "INBOX"));
    }
}

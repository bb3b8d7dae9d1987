package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.Account;
import dev.mailstack.store.Flag;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.PasswordScheme;
import dev.mailstack.store.SieveLimits;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.TestMessages;
import dev.mailstack.store.Uid;
import dev.mailstack.store.Database;
import dev.mailstack.store.QueueId;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sieve scripts (RFC 5228) at local delivery, end to end: mail sent over SMTP, the script stored as
 * ManageSieve and the CLI store it, the result read from the mailboxes.
 */
class SieveDeliveryTest {
    /** "发票" (invoice) in GBK, base64: how an older Chinese mail program writes the subject. */
    private static final String GBK_SUBJECT = "=?GBK?B?" + java.util.Base64.getEncoder().encodeToString(
            "3月发票".getBytes(java.nio.charset.Charset.forName("GBK"))) + "?=";

    @TempDir
    Path dir;
    MtaFixture mta;
    Account bob;
    Account carol;

    @BeforeEach
    void start() throws IOException {
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

    private void send(String from, String rcpt, String header) throws IOException {
        send(from, rcpt, header, "body\r\n");
    }

    private void send(String from, String rcpt, String header, String body) throws IOException {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            c.send("MAIL FROM:<" + from + ">").expect("250 .*");
            c.send("RCPT TO:<" + rcpt + ">").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw(header + "\r\n" + body + ".\r\n");
            c.expect("250 .*");
            c.send("QUIT").expect("221 .*");
        }
    }

    private StoreSession session(Account account) {
        return mta.store.store().open(account.id());
    }

    private long count(StoreSession s, String mailbox) {
        return s.find(new MailboxName(mailbox)).isPresent() ? s.status(new MailboxName(mailbox)).messages() : 0;
    }

    private static String text(StoreSession s, MessageRef ref) throws IOException {
        try (InputStream in = s.openContent(ref)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void fileintoSortsByDecodedSubjectAndSenderWithFlagsAndMakesTheMailboxWhenAsked() throws Exception {
        script(mta.store.user(), """
                require ["fileinto", "imap4flags", "mailbox"];
                # 发票 go to the accounts folder, read and labelled
                if header :contains "subject" "发票" {
                    fileinto :create :flags ["\\\\Seen", "$Invoice", "bad flag("] "财务/发票";
                    stop;
                }
                if address :domain :is "from" "lists.test" { fileinto "Lists"; }
                """);
        send("shop@remote.test", "alice@example.org", "From: shop@remote.test\r\nSubject: " + GBK_SUBJECT + "\r\n");
        send("dev@lists.test", "alice@example.org", "From: Dev List <dev@lists.test>\r\nSubject: release\r\n");
        send("bob@remote.test", "alice@example.org", "From: bob@remote.test\r\nSubject: lunch\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
        mta.awaitQueueEmpty();
        StoreSession alice = mta.alice();
        assertEquals(1, count(alice, "财务/发票"), "made by :create, parent too");
        assertTrue(alice.find(new MailboxName("财务/发票")).orElseThrow().subscribed(), "shown by Thunderbird");
        MessageRef invoice = alice.select(new MailboxName("财务/发票")).messages().getFirst();
        assertTrue(invoice.flags().has(Flag.SEEN));
        assertEquals(Set.of("$Invoice", "bad"), invoice.flags().keywords(),
                "\"bad flag(\" is two flags (RFC 5232 §3), and one no IMAP keyword can be is left out");
        assertEquals(2, count(alice, "INBOX"), "Lists does not exist: RFC 5228 §4.1, kept instead");
        assertFalse(alice.find(new MailboxName("Lists")).isPresent(), "no :create, none made");
    }

    /** A GBK text/plain body in base64, as older Chinese mail programs send it. */
    private static String gbkBase64(String text) {
        return java.util.Base64.getMimeEncoder().encodeToString(text.getBytes(java.nio.charset.Charset.forName("GBK"))) + "\r\n";
    }

    @Test
    void bodyFindsAChineseWordInAGbkBase64BodyAndFilesIt() throws Exception {
        script(mta.store.user(), """
                require ["body", "fileinto"];
                if body :text :contains "发票" { fileinto "Invoices"; }
                """);
        mta.alice().create(new MailboxName("Invoices"), java.util.Optional.empty());
        String gbk = "From: shop@remote.test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=GBK\r\n"
                + "Content-Transfer-Encoding: base64\r\n";
        send("shop@remote.test", "alice@example.org", gbk + "Subject: March\r\n", gbkBase64("附件是三月的发票，请查收。"));
        send("shop@remote.test", "alice@example.org", gbk + "Subject: April\r\n", gbkBase64("四月没有账单。"));
        send("shop@remote.test", "alice@example.org", "From: shop@remote.test\r\nSubject: " + GBK_SUBJECT + "\r\n",
                "only the subject says it\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
        mta.awaitQueueEmpty();
        StoreSession alice = mta.alice();
        assertEquals(1, count(alice, "Invoices"));
        assertTrue(text(alice, alice.select(new MailboxName("Invoices")).messages().getFirst()).contains("Subject: March"));
        assertEquals(2, count(alice, "INBOX"), "a body without the word, and the word in the subject only, stay");
    }

    @Test
    void discardKeepsNothingAndKeepWithFileintoMakesTwoCopies() throws Exception {
        script(mta.store.user(), """
                require "fileinto";
                if header :is "X-Spam-Flag" "YES" { discard; stop; }
                if header :matches "subject" "*[urgent]*" { fileinto "Archive"; keep; }
                """);
        send("spammer@remote.test", "alice@example.org", "X-Spam-Flag: YES\r\nSubject: win\r\n");
        send("bob@remote.test", "alice@example.org", "Subject: read this [urgent] now\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, count(mta.alice(), "INBOX"));
        assertEquals(1, count(mta.alice(), "Archive"));
        assertTrue(text(mta.alice(), mta.alice().select(MailboxName.INBOX).messages().getFirst()).contains("[urgent]"),
                "the discarded message is nowhere");
    }

    /**
     * RFC 5228 §2.10.6: when the script's two copies do not fit in what is left of the quota, its
     * actions fail and the implicit keep's one copy is made, rather than refusing the message.
     */
    @Test
    void aNearlyFullMailboxKeepsOneCopyWhenTheScriptsTwoDoNotFit() throws Exception {
        script(mta.store.user(), "require \"fileinto\"; fileinto \"Archive\"; keep;");
        mta.store.store().accounts().setQuota("alice@example.org", 1_500L);
        send("bob@remote.test", "alice@example.org", "Subject: big\r\nX-Filler: " + "x".repeat(900) + "\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty(); // and so no bounce to bob
        assertEquals(1, count(mta.alice(), "INBOX"));
        assertEquals(0, count(mta.alice(), "Archive"));
        send("bob@remote.test", "alice@example.org", "Subject: big again\r\nX-Filler: " + "x".repeat(900) + "\r\n");
        // the bounce to bob may be tried (and given up: no route to remote.test) before this looks
        mta.awaitQueue("the second message refused and bounced to bob", () -> mta.counters.reports() == 1);
        assertEquals(1, count(mta.alice(), "INBOX"), "no room for even one copy: refused");
    }

    /**
     * RFC 5429: the script runs after the message was accepted, so a reject reaches the sender as a
     * delivery status notification with the reason (in UTF-8 in its text, in ASCII in its status
     * part), and alice gets nothing.
     */
    @Test
    void rejectSendsTheReasonBackToTheSender() throws Exception {
        script(mta.store.user(), """
                require ["reject", "ereject"];
                if header :contains "subject" "money" { reject "我不收垃圾邮件 - no spam, please"; }
                """);
        send("carol@example.org", "alice@example.org", "From: carol@example.org\r\nSubject: make money fast\r\n");
        send("carol@example.org", "alice@example.org", "From: carol@example.org\r\nSubject: lunch\r\n");
        mta.awaitMessages(session(carol), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, count(mta.alice(), "INBOX"), "only lunch");
        String report = text(session(carol), session(carol).select(MailboxName.INBOX).messages().getFirst())
                .replaceAll("\r\n[ \t]+", " "); // long lines folded (RFC 5322 §2.2.3)
        assertTrue(report.contains("Subject: Undelivered Mail Returned to Sender"), report);
        assertTrue(report.contains("<alice@example.org>: 550 5.7.1 <alice@example.org>: refused by the recipient's filter:"
                + " 我不收垃圾邮件 - no spam, please"), report);
        assertTrue(report.contains("Status: 5.7.1"), report);
        assertTrue(report.contains("Diagnostic-Code: X-mailstack; 550 5.7.1 <alice@example.org>: refused by the recipient's"
                + " filter: ??????? - no spam, please"), report);
    }

    /** RFC 5260 on a Date field as mail programs write it, and RFC 5183 with what delivery knows of itself. */
    @Test
    void dateAndEnvironmentTestsSeeTheMessageAndTheServer() throws Exception {
        script(mta.store.user(), """
                require ["date", "environment", "fileinto", "mailbox", "relational", "imap4flags"];
                if allof (environment :is "host" "mx.example.org", environment :is "domain" "example.org",
                          environment :is "location" "MDA", not environment :matches "remote-ip" "*") {
                    addflag "$Here";
                }
                if date :value "lt" :originalzone "date" "year" "2020" { fileinto :create "Old"; }
                """);
        send("bob@remote.test", "alice@example.org", "Date: Tue, 31 Dec 2019 23:30:00 -0800 (PST)\r\nSubject: old\r\n");
        send("bob@remote.test", "alice@example.org", "Date: 1 Jan 2020 07:30 +0000\r\nSubject: new\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, count(mta.alice(), "Old"), "2019 in the sender's own zone, although 2020 in UTC");
        assertEquals(1, count(mta.alice(), "INBOX"));
        for (String box : List.of("Old", "INBOX")) {
            assertEquals(Set.of("$Here"), mta.alice().select(new MailboxName(box)).messages().getFirst().flags().keywords(), box);
        }
    }

    @Test
    void redirectSendsItOnWithOurTraceAndCopyKeepsItToo() throws Exception {
        script(mta.store.user(), """
                require "copy";
                redirect :copy "bob@example.org";
                redirect "carol@example.org";
                """);
        send("dave@remote.test", "alice@example.org", "Subject: for the team\r\n");
        mta.awaitMessages(session(carol), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(0, count(mta.alice(), "INBOX"), "a plain redirect cancels the implicit keep");
        String atBob = text(session(bob), session(bob).select(MailboxName.INBOX).messages().getFirst());
        assertTrue(atBob.startsWith("Return-Path: <dave@remote.test>\r\nReceived: by mx.example.org (mailstack) id "), atBob);
        assertTrue(atBob.contains("\tfor <alice@example.org>;"), atBob);
        assertEquals(1, count(session(carol), "INBOX"));
    }

    /** alice@ and alice+news@ in one message run her script twice; her redirect still goes once. */
    @Test
    void aRedirectGoesOnceForTwoAddressesOfOneAccount() throws Exception {
        script(mta.store.user(), "redirect \"bob@example.org\";");
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("HELO client.test").expect("250 .*");
            c.send("MAIL FROM:<dave@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice+news@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: twice addressed\r\n\r\nx\r\n.\r\n").expect("250 .*");
        }
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, count(session(bob), "INBOX"));
    }

    /**
     * A redirect is queued in the transaction that records the delivery it follows (Pigeonhole keeps
     * a duplicate database for this): when that transaction fails — here a constraint refuses to
     * mark alice's copy delivered, as a full disk would — the redirect goes nowhere, the recipient
     * waits for the next attempt, which finds her copy already delivered and sends it on, once.
     */
    @Test
    void aRedirectGoesOnceWhenTheDeliveryItFollowsCannotBeRecordedAtFirst() throws Exception {
        // and the retry is no duplicate of itself (RFC 7352): its ID was remembered by the first attempt
        script(mta.store.user(), "require [\"copy\", \"duplicate\", \"fileinto\", \"mailbox\"];"
                + " if duplicate { fileinto :create \"Dups\"; stop; } redirect :copy \"bob@example.org\";");
        QueueId id;
        try (Connection db = DriverManager.getConnection(Database.defaultUrl(dir.resolve("data")), "mailstack", "");
             Statement sql = db.createStatement()) {
            sql.execute("ALTER TABLE queue_recipients ADD CONSTRAINT refuse_alice CHECK"
                    + " (state <> 'DELIVERED' OR address <> 'alice@example.org')");
            send("dave@remote.test", "alice@example.org", "Message-ID: <once@remote.test>\r\nSubject: to be redirected\r\n");
            id = mta.store.store().queue().list().getFirst().id();
            mta.awaitQueue("the attempt ended", () -> mta.store.store().queue().details(id)
                    .map(d -> d.recipients().getFirst().attempts() == 1).orElse(false));
            assertTrue(mta.store.store().queue().details(id).orElseThrow().recipients().getFirst().lastReply()
                    .startsWith("451 4.3.0 delivered here, but the copy to send on could not be queued"));
            assertEquals(1, count(mta.alice(), "INBOX"), "her copy is in");
            assertEquals(1, mta.store.store().queue().list().size(), "and no redirect queued");
            sql.execute("ALTER TABLE queue_recipients DROP CONSTRAINT refuse_alice");
        }
        assertTrue(mta.store.store().queue().retryNow(id));
        mta.runner.wake();
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, count(session(bob), "INBOX"), "redirected once");
        assertEquals(1, count(mta.alice(), "INBOX"), "and delivered to her once");
        assertEquals(0, count(mta.alice(), "Dups"), "not a duplicate of itself");
    }

    /**
     * RFC 5228 §4.2 asks for loop control: two users redirecting to each other. The message comes
     * back to alice with our Received field naming her redirect, so it is not sent on again but kept.
     */
    @Test
    void aRedirectLoopEndsWithTheMessageKept() throws Exception {
        script(mta.store.user(), "redirect \"bob@example.org\";");
        script(bob, "redirect \"alice@example.org\";");
        send("carol@example.org", "alice@example.org", "From: carol@example.org\r\nSubject: ping\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        String kept = text(mta.alice(), mta.alice().select(MailboxName.INBOX).messages().getFirst());
        assertEquals(2, kept.split("\r\nReceived: by mx\\.example\\.org \\(mailstack\\)", -1).length - 1,
                "one redirect by each: " + kept);
        assertEquals(0, count(session(bob), "INBOX"));
        assertEquals(0, count(session(carol), "INBOX"), "no bounce: nothing failed");
    }

    /** The same with :copy: each keeps one copy, and it stops at the first repeat. */
    @Test
    void aCopyingRedirectLoopLeavesACopyEachAndStops() throws Exception {
        script(mta.store.user(), "require \"copy\"; redirect :copy \"bob@example.org\";");
        script(bob, "require \"copy\"; redirect :copy \"alice@example.org\";");
        send("carol@example.org", "alice@example.org", "From: carol@example.org\r\nSubject: ping\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
        mta.awaitQueueEmpty();
        assertEquals(2, count(mta.alice(), "INBOX"), "hers, and the one that came back");
        assertEquals(1, count(session(bob), "INBOX"));
    }

    /** RFC 5228 §2.10.6: a script that fails at run time keeps the message, and none of its actions run. */
    @Test
    void aScriptThatFailsKeepsTheMessage() throws Exception {
        script(mta.store.user(), """
                require "fileinto";
                fileinto "Archive";
                redirect "a@example.org"; redirect "b@example.org"; redirect "c@example.org";
                redirect "d@example.org"; redirect "e@example.org";
                """);
        send("dave@remote.test", "alice@example.org", "Subject: too many redirects\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(0, count(mta.alice(), "Archive"));
        assertEquals(List.of(), mta.store.store().queue().list());
    }

    /**
     * Mail the sender's domain asked to quarantine (its From fails DMARC: likely a forgery) stays in
     * Junk whatever the script says: a rule on its subject must not lift a phishing mail out of it,
     * and a notify must not invite anyone to open it.
     */
    @Test
    void keepOfQuarantinedMailIsItsJunkMailbox() throws Exception {
        script(mta.store.user(), "require [\"fileinto\", \"enotify\"]; notify \"mailto:bob@example.org\";"
                + " if header :contains \"subject\" \"invoice\" { fileinto \"Archive\"; }");
        for (String subject : List.of("hello", "invoice")) {
            var spooled = dev.mailstack.store.TestMessages.spool(mta.store.store(), "Subject: " + subject + "\r\n\r\nx\r\n");
            try {
                mta.store.store().queue().enqueue(new dev.mailstack.store.MailEnvelope("judy@remote.test",
                        List.of(dev.mailstack.store.MailEnvelope.Recipient.of("alice@example.org")), java.util.Optional.empty(),
                        java.util.Optional.empty(), false, false, java.time.Instant.now()).asJunk(),
                        spooled, dev.mailstack.store.TestMessages.facts(spooled));
            } finally {
                spooled.discard();
            }
        }
        mta.runner.wake();
        mta.awaitMessages(mta.alice(), new MailboxName("Junk"), 2);
        mta.awaitQueueEmpty();
        assertEquals(0, count(mta.alice(), "INBOX"));
        assertEquals(0, count(mta.alice(), "Archive"));
        assertEquals(0, count(session(bob), "INBOX"), "nor does it notify anyone of it");
    }

    private static dev.mailstack.sieve.SieveScript parsed(String text) throws dev.mailstack.sieve.SieveException {
        return dev.mailstack.sieve.SieveScript.parse(text);
    }

    /** Pigeonhole's sieve_before with rspamd's X-Spam-Flag, for an account with a script and one without. */
    @Test
    void theAdministratorsBeforeScriptFilesSpamForEveryAccountAndItsStopOutranksTheUsersScript() throws Exception {
        // alice's script would keep everything in INBOX with a flag; accounts start with a Junk mailbox
        script(mta.store.user(), "require \"imap4flags\"; addflag \"$Seen-By-Alice\"; keep;");
        mta.local.use(new SieveSettings(new dev.mailstack.sieve.AdminScripts(List.of(parsed("""
                require "fileinto";
                if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }
                """)), List.of(parsed("""
                require ["fileinto", "mailbox"];
                if header :contains "subject" "[dev]" { fileinto :create "Lists"; }
                """))), java.util.Optional.empty(), SieveSettings.DEFAULT_DUPLICATE_MAX_PERIOD));
        send("spammer@remote.test", "alice@example.org", "From: spammer@remote.test\r\nX-Spam-Flag: YES\r\nSubject: win\r\n");
        send("spammer@remote.test", "bob@example.org", "From: spammer@remote.test\r\nX-Spam-Flag: YES\r\nSubject: win\r\n");
        send("dev@remote.test", "alice@example.org", "From: dev@remote.test\r\nSubject: [dev] release\r\n");
        send("dev@remote.test", "bob@example.org", "From: dev@remote.test\r\nSubject: [dev] release\r\n");
        mta.awaitQueueEmpty();
        StoreSession alice = mta.alice();
        StoreSession b = session(bob);
        assertEquals(1, count(alice, "Junk"), "the user's keep never ran: stop in the before-script");
        assertEquals(1, count(b, "Junk"), "no script of his own, still filtered");
        assertEquals(1, count(alice, "INBOX"), "her explicit keep cancels the implicit keep: no after-script");
        assertTrue(alice.select(MailboxName.INBOX).messages().getFirst().flags().keywords().contains("$Seen-By-Alice"));
        assertEquals(0, count(alice, "Lists"));
        assertEquals(1, count(b, "Lists"), "implicit keep still in effect: the after-script ran");
        assertEquals(0, count(b, "INBOX"));
    }

    /** RFC 6609: the active script includes another of the account's and a site script from sieve.global_dir. */
    @Test
    void includeRunsTheAccountsOtherScriptsAndTheSitesGlobalOnes() throws Exception {
        java.nio.file.Path global = java.nio.file.Files.createDirectories(dir.resolve("sieve-global"));
        java.nio.file.Files.writeString(global.resolve("lists.sieve"), """
                require ["fileinto", "mailbox", "variables", "include"];
                global "folder";
                if header :contains "list-id" "dev.example.org" { fileinto :create "${folder}"; }
                """);
        mta.local.use(new SieveSettings(dev.mailstack.sieve.AdminScripts.NONE, java.util.Optional.of(global),
                SieveSettings.DEFAULT_DUPLICATE_MAX_PERIOD));
        // stored, not active: include finds it by name
        mta.store.store().sieveScripts().put(mta.store.user().id(), "invoices", """
                require ["fileinto", "include"];
                if header :contains "subject" "invoice" { fileinto "Archive"; return; }
                """, SieveLimits.defaults());
        script(mta.store.user(), """
                require ["include", "variables"];
                global "folder";
                set "folder" "Lists/dev";
                include :personal "invoices";
                include :global "lists";
                include :optional :global "not-there";
                """);
        send("shop@remote.test", "alice@example.org", "From: shop@remote.test\r\nSubject: your invoice\r\n");
        send("dev@remote.test", "alice@example.org", "From: dev@remote.test\r\nList-Id: <dev.example.org>\r\nSubject: hi\r\n");
        send("x@remote.test", "alice@example.org", "From: x@remote.test\r\nSubject: hello\r\n");
        mta.awaitQueueEmpty();
        StoreSession alice = mta.alice();
        assertEquals(1, count(alice, "Archive"));
        assertEquals(1, count(alice, "Lists/dev"), "the global script saw the global variable");
        assertEquals(1, count(alice, "INBOX"));
        // no global folder configured: the include finds nothing, a runtime error, and the message is kept
        mta.local.use(SieveSettings.NONE);
        send("dev@remote.test", "alice@example.org", "From: dev@remote.test\r\nList-Id: <dev.example.org>\r\nSubject: 2\r\n");
        mta.awaitQueueEmpty();
        assertEquals(2, count(alice, "INBOX"));
        assertEquals(1, count(alice, "Lists/dev"));
    }

    /** RFC 7352: a message sent twice (a list and a direct copy) is filed apart the second time; IDs are per account. */
    @Test
    void duplicateFindsAMessageIdDeliveredBeforeToTheSameAccount() throws Exception {
        String dedup = """
                require ["duplicate", "fileinto", "mailbox"];
                if duplicate { fileinto :create "Duplicates"; }
                """;
        script(mta.store.user(), dedup);
        script(bob, dedup);
        String header = "From: dev@remote.test\r\nMessage-ID: <release-1@remote.test>\r\nSubject: release\r\n";
        send("dev@remote.test", "alice@example.org", header);
        mta.awaitQueueEmpty();
        send("list@remote.test", "alice@example.org", header);
        send("dev@remote.test", "bob@example.org", header);
        mta.awaitQueueEmpty();
        // refused messages are not delivered, so not remembered (§3)
        script(carol, "require [\"duplicate\", \"reject\"]; if not duplicate { reject \"no\"; }");
        send("dev@remote.test", "carol@example.org", header);
        mta.awaitQueueEmpty();
        assertFalse(mta.store.store().sieveDuplicates().seen(carol.id(), "", "<release-1@remote.test>",
                java.time.Instant.now(), new dev.mailstack.store.QueueId(Long.MAX_VALUE)));
        StoreSession alice = mta.alice();
        assertEquals(1, count(alice, "INBOX"));
        assertEquals(1, count(alice, "Duplicates"));
        assertEquals(1, count(session(bob), "INBOX"), "bob's first copy: tracking is per account");
        assertEquals(0, count(session(bob), "Duplicates"));
        send("x@remote.test", "alice@example.org", "From: x@remote.test\r\nSubject: no id\r\n");
        send("x@remote.test", "alice@example.org", "From: x@remote.test\r\nSubject: no id\r\n");
        mta.awaitQueueEmpty();
        assertEquals(3, count(alice, "INBOX"), "no Message-ID: never a duplicate");
    }

    /** RFC 8579: filing by special-use attribute, whatever the mailbox is called, and :create giving it. */
    @Test
    void fileintoSpecialUseFindsTheMailboxByItsAttributeAndCreateAssignsIt() throws Exception {
        String script = """
                require ["fileinto", "special-use", "mailbox", "imap4flags"];
                if not specialuse_exists "\\\\Archive" { addflag "$NoArchiveYet"; }
                fileinto :specialuse "\\\\Archive" :create "Old mail";
                """;
        script(mta.store.user(), script);
        StoreSession alice = mta.alice();
        alice.rename(new MailboxName("Archive"), new MailboxName("Kept"));
        script(bob, script);
        session(bob).delete(new MailboxName("Archive"));
        send("x@remote.test", "alice@example.org", "From: x@remote.test\r\nSubject: a\r\n");
        send("x@remote.test", "bob@example.org", "From: x@remote.test\r\nSubject: b1\r\n");
        mta.awaitQueueEmpty();
        send("x@remote.test", "bob@example.org", "From: x@remote.test\r\nSubject: b2\r\n");
        mta.awaitQueueEmpty();
        assertEquals(1, count(alice, "Kept"), "her \\Archive mailbox, renamed");
        assertFalse(alice.find(new MailboxName("Old mail")).isPresent());
        StoreSession b = session(bob);
        assertEquals(java.util.Optional.of(dev.mailstack.store.SpecialUse.ARCHIVE),
                b.find(new MailboxName("Old mail")).orElseThrow().specialUse(), "made with the attribute none had");
        assertEquals(2, count(b, "Old mail"), "the second found it by its attribute");
        List<MessageRef> old = b.select(new MailboxName("Old mail")).messages();
        assertTrue(old.get(0).flags().keywords().contains("$NoArchiveYet"));
        assertFalse(old.get(1).flags().keywords().contains("$NoArchiveYet"));
    }

    /**
     * RFC 5435 notify with RFC 5436's mailto method: bob hears of alice's mail in a notification
     * marked auto-notified; mail that is itself automatic notifies nobody.
     */
    @Test
    void notifyMailsAnAutoNotifiedNoticeButNeverAboutAutomaticMail() throws Exception {
        script(mta.store.user(), """
                require ["enotify", "variables"];
                if header :matches "subject" "*" { set "s" "${1}"; }
                notify :importance "1" :message "Mail about ${s}" "mailto:bob@example.org";
                """);
        send("carol@remote.test", "alice@example.org", "From: Carol <carol@remote.test>\r\nSubject: 午餐 lunch\r\n");
        StoreSession b = session(bob);
        mta.awaitMessages(b, MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, count(mta.alice(), "INBOX"), "notify keeps the message (RFC 5435 §3)");
        String notice = text(b, b.select(MailboxName.INBOX).messages().getFirst());
        String head = "\r\n" + notice.substring(0, notice.indexOf("\r\n\r\n") + 2);
        assertTrue(head.contains("\r\nAuto-Submitted: auto-notified; owner-email=\"alice@example.org\"\r\n"), head);
        assertTrue(head.contains("\r\nFrom: <alice@example.org>\r\n"), head);
        assertTrue(head.contains("\r\nTo: <bob@example.org>\r\n"), head);
        assertTrue(head.contains("\r\nImportance: high\r\n"), head);
        String subject = head.lines().filter(l -> l.startsWith("Subject: ")).findFirst().orElseThrow();
        assertEquals("Mail about 午餐 lunch", dev.mailstack.mime.Rfc2047.decode(subject.substring(9)));
        assertTrue(notice.contains("From: Carol <carol@remote.test>"), notice);

        send("robot@remote.test", "alice@example.org",
                "From: robot@remote.test\r\nSubject: out of office\r\nAuto-Submitted: auto-replied\r\n");
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 2);
        mta.awaitQueueEmpty();
        assertEquals(1, count(session(bob), "INBOX"), "RFC 5436 §2.7: no notification about automatic mail");
    }

    /** RFC 5293 §7: a notification tells of the message as the script's edits left it (Pigeonhole's too). */
    @Test
    void notifyTellsOfTheHeaderAsTheScriptsEditsLeftIt() throws Exception {
        script(mta.store.user(), """
                require ["enotify", "editheader", "variables"];
                if header :matches "subject" "*" { set "s" "${1}"; }
                deleteheader "subject";
                addheader "Subject" "[外部] ${s}";
                notify "mailto:bob@example.org";
                """);
        send("carol@remote.test", "alice@example.org", "From: Carol <carol@remote.test>\r\nSubject: lunch\r\n");
        StoreSession b = session(bob);
        mta.awaitMessages(b, MailboxName.INBOX, 1);
        String notice = text(b, b.select(MailboxName.INBOX).messages().getFirst());
        String body = notice.substring(notice.indexOf("\r\n\r\n") + 4);
        assertTrue(decodedQuotedPrintable(body).contains("Subject: [外部] lunch\r\n"), notice);
    }

    private static String decodedQuotedPrintable(String body) {
        byte[] octets = body.getBytes(StandardCharsets.US_ASCII);
        return new String(dev.mailstack.mime.TransferEncoding.quotedPrintable(octets, 0, octets.length, false), StandardCharsets.UTF_8);
    }

    /** The subject IMAP shows for a stored message: from the MIME summary parsed when it was stored. */
    private static String summarySubject(StoreSession s, MessageRef ref) {
        return dev.mailstack.mime.Rfc2047.decode(dev.mailstack.mime.MessageSummary.decode(s.facts(ref).summary())
                .envelope().subject());
    }

    /**
     * RFC 5293: the script's header edits are what keep and fileinto store, with their own MIME
     * summary (IMAP's ENVELOPE shows the new subject), and what redirect sends, our trace on top;
     * the body is the queued one, unchanged; Received stays (§6).
     */
    @Test
    void editheaderChangesWhatIsStoredAndWhatIsRedirected() throws Exception {
        script(mta.store.user(), """
                require ["editheader", "fileinto", "copy", "variables", "mailbox"];
                if header :matches "subject" "*" { set "s" "${1}"; }
                deleteheader "subject";
                addheader "Subject" "[报告] ${s}";
                addheader :last "X-Filtered" "by alice";
                deleteheader "Received";
                if header :contains "subject" "报告" { fileinto :create :copy "Reports"; }
                redirect :copy "bob@example.org";
                """);
        send("dave@remote.test", "alice@example.org", "From: dave@remote.test\r\nSubject: weekly\r\n", "the body\r\n");
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        StoreSession alice = mta.alice();
        for (String box : List.of("INBOX", "Reports")) {
            MessageRef ref = alice.select(new MailboxName(box)).messages().getFirst();
            String stored = text(alice, ref);
            assertTrue(stored.startsWith("Return-Path: <dave@remote.test>\r\nSubject: =?UTF-8?B?"), stored);
            assertTrue(stored.contains("\r\nReceived: from client.test"), "Received is never deleted: " + stored);
            assertTrue(stored.endsWith("\r\nX-Filtered: by alice\r\n\r\nthe body\r\n"), stored);
            assertFalse(stored.contains("Subject: weekly"), stored);
            assertEquals("[报告] weekly", summarySubject(alice, ref), box);
            assertEquals(stored.getBytes(StandardCharsets.UTF_8).length, ref.size(), "charged at the edited size");
        }
        MessageRef atBob = session(bob).select(MailboxName.INBOX).messages().getFirst();
        String redirected = text(session(bob), atBob);
        assertTrue(redirected.startsWith("Return-Path: <dave@remote.test>\r\nReceived: by mx.example.org (mailstack) id "),
                redirected);
        assertTrue(redirected.contains("\r\nX-Filtered: by alice\r\n"), redirected);
        assertEquals("[报告] weekly", summarySubject(session(bob), atBob));
    }

    /**
     * An edited copy is a content of its own, synced before the delivery takes the mailbox's lock:
     * while a slow disk syncs it, alice's mail program still stores into her INBOX at once.
     */
    @Test
    void anEditedCopySyncsWithoutHoldingTheMailbox() throws Exception {
        script(mta.store.user(), """
                require ["editheader"];
                addheader "X-Seen-By" "alice's filter";
                """);
        CompletableFuture<Void> syncing = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        mta.store.slowContentSyncOf("X-Seen-By: alice's filter", syncing, release);
        try (ExecutorService meanwhile = Executors.newVirtualThreadPerTaskExecutor()) {
            // past the memory limit: the copy is a file of its own, linked and synced into place
            send("dave@remote.test", "alice@example.org", "Subject: edited\r\n", ("x".repeat(76) + "\r\n").repeat(1700));
            syncing.get(10, TimeUnit.SECONDS);
            StoreSession alice = mta.alice();
            Future<Uid> saved = meanwhile.submit(() -> TestMessages.append(alice, alice.require(MailboxName.INBOX).id(),
                    "Subject: a draft saved meanwhile\r\n\r\nx\r\n"));
            assertEquals(new Uid(1), saved.get(10, TimeUnit.SECONDS), "the INBOX is not locked during the sync");
            release.complete(null);
            mta.awaitMessages(alice, MailboxName.INBOX, 2);
        } finally {
            release.complete(null);
        }
        mta.awaitQueueEmpty();
        StoreSession alice = mta.alice();
        MessageRef delivered = alice.select(MailboxName.INBOX).messages().get(1);
        String text = text(alice, delivered);
        assertTrue(text.contains("\r\nX-Seen-By: alice's filter\r\n") && text.length() > MessageSpool.IN_MEMORY_MAX);
    }

    /**
     * An edited copy is stored under the same delivery key as the queued content would be: when the
     * attempt's outcome cannot be recorded, the retry finds alice's edited copy there, stores no
     * second one, and sends the edited redirect once.
     */
    @Test
    void anEditedCopyIsStoredOnceWhenTheDeliveryIsTriedAgain() throws Exception {
        script(mta.store.user(), """
                require ["editheader", "copy"];
                addheader "X-Seen-By" "alice's filter";
                redirect :copy "bob@example.org";
                """);
        QueueId id;
        try (Connection db = DriverManager.getConnection(Database.defaultUrl(dir.resolve("data")), "mailstack", "");
             Statement sql = db.createStatement()) {
            sql.execute("ALTER TABLE queue_recipients ADD CONSTRAINT refuse_alice CHECK"
                    + " (state <> 'DELIVERED' OR address <> 'alice@example.org')");
            send("dave@remote.test", "alice@example.org", "Subject: edited once\r\n");
            id = mta.store.store().queue().list().getFirst().id();
            mta.awaitQueue("the attempt ended", () -> mta.store.store().queue().details(id)
                    .map(d -> d.recipients().getFirst().attempts() == 1).orElse(false));
            assertEquals(1, count(mta.alice(), "INBOX"), "her edited copy is in");
            sql.execute("ALTER TABLE queue_recipients DROP CONSTRAINT refuse_alice");
        }
        assertTrue(mta.store.store().queue().retryNow(id));
        mta.runner.wake();
        mta.awaitMessages(session(bob), MailboxName.INBOX, 1);
        mta.awaitQueueEmpty();
        assertEquals(1, count(mta.alice(), "INBOX"), "no second copy");
        assertTrue(text(mta.alice(), mta.alice().select(MailboxName.INBOX).messages().getFirst())
                .contains("\r\nX-Seen-By: alice's filter\r\n"));
        assertEquals(1, count(session(bob), "INBOX"), "redirected once");
        assertTrue(text(session(bob), session(bob).select(MailboxName.INBOX).messages().getFirst())
                .contains("\r\nX-Seen-By: alice's filter\r\n"));
    }

    /**
     * RFC 5235 with Pigeonhole-style settings, and the administrator's before-script marking the
     * verdict with addheader: the account's own script sees the mark (multiscript), and the copy
     * stored carries it; a message without the scanner's field counts as untested.
     */
    @Test
    void spamtestReadsTheScannersVerdictAndABeforeScriptsMarkReachesTheUsersScript() throws Exception {
        var spamAssassin = new dev.mailstack.sieve.ScannerVerdict(dev.mailstack.sieve.ScannerVerdict.Type.SCORE,
                java.util.Optional.of(dev.mailstack.sieve.ScannerVerdict.FieldPattern.parse("X-Spam-Status: score=(-?[0-9.]+)")),
                java.util.OptionalDouble.empty(),
                java.util.Optional.of(dev.mailstack.sieve.ScannerVerdict.FieldPattern.parse("X-Spam-Status: required=([0-9.]+)")),
                java.util.Map.of());
        mta.local.use(new SieveSettings(new dev.mailstack.sieve.AdminScripts(List.of(parsed("""
                require ["spamtestplus", "editheader", "relational", "comparator-i;ascii-numeric", "variables"];
                if spamtest :percent :matches "*" { addheader "X-Spam-Percent" "${1}"; }
                """)), List.of()), java.util.Optional.empty(), SieveSettings.DEFAULT_DUPLICATE_MAX_PERIOD, spamAssassin,
                dev.mailstack.sieve.ScannerVerdict.NONE, dev.mailstack.sieve.EditHeaderRules.NONE));
        script(mta.store.user(), """
                require ["fileinto", "relational", "comparator-i;ascii-numeric"];
                if header :value "ge" :comparator "i;ascii-numeric" "x-spam-percent" "80" { fileinto "Junk"; }
                """);
        send("spammer@remote.test", "alice@example.org",
                "X-Spam-Status: Yes, score=9.1 required=5.0 tests=URIBL_BLACK\r\nSubject: win\r\n");
        send("bob@remote.test", "alice@example.org", "X-Spam-Status: No, score=1.0 required=5.0\r\nSubject: lunch\r\n");
        send("carol@remote.test", "alice@example.org", "Subject: unscanned\r\n");
        mta.awaitQueueEmpty();
        StoreSession alice = mta.alice();
        assertEquals(1, count(alice, "Junk"));
        assertTrue(text(alice, alice.select(new MailboxName("Junk")).messages().getFirst()).contains("\r\nX-Spam-Percent: 100\r\n"));
        assertEquals(2, count(alice, "INBOX"));
        List<String> inbox = new java.util.ArrayList<>();
        for (MessageRef ref : alice.select(MailboxName.INBOX).messages()) {
            inbox.add(text(alice, ref));
        }
        assertTrue(inbox.stream().anyMatch(m -> m.contains("X-Spam-Percent: 20\r\n") && m.contains("Subject: lunch")), inbox.toString());
        assertTrue(inbox.stream().anyMatch(m -> m.contains("X-Spam-Percent: 0\r\n") && m.contains("Subject: unscanned")),
                "not tested: 0 (RFC 5235 §3.1): " + inbox);
    }
}

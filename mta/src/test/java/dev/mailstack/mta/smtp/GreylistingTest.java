package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.mta.queue.QueueSettings;
import dev.mailstack.net.LineClient;
import dev.mailstack.net.MovableClock;
import dev.mailstack.store.Greylist;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** smtp.greylist at RCPT, as postgrey behind Postfix: 450 for a new triplet, 250 for its retry after the delay. */
class GreylistingTest {
    static final String GREYLISTED = "450 4\\.7\\.1 <alice@example\\.org>: greylisted, try again in %d seconds"
            + " \\(first mail from this sender to this recipient from your network\\)";

    @TempDir
    Path dir;
    MtaFixture mta;
    final MovableClock clock = new MovableClock();

    @BeforeEach
    void start() throws Exception {
        SmtpSettings greylisting = SmtpSettings.mx("mx.example.org")
                .withGreylisting(Greylisting.of(Greylist.Policy.POSTGREY, clock));
        mta = new MtaFixture(dir, Map.of(), greylisting, QueueSettings.defaults("mx.example.org"));
        mta.store.store().accounts().addAlias("postmaster@example.org", "alice@example.org");
    }

    @AfterEach
    void stop() {
        mta.close();
    }

    private static String plain(String user, String password) {
        return Base64.getEncoder().encodeToString(("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A client writing new triplets without end (alice+1@, alice+2@ ... are one triplet anyway):
     * past smtp.max_recipients deferrals in a session they count as errors and it is closed.
     */
    @Test
    void tagsAreOneTripletAndEndlessDeferralsEndTheSession() throws Exception {
        mta.close();
        SmtpSettings d = SmtpSettings.mx("mx.example.org");
        SmtpSettings few = new SmtpSettings(d.hostname(), false, d.maxMessageBytes(), 3, 2, d.plaintextAuth(),
                d.trustedNetworks(), false).withGreylisting(Greylisting.of(Greylist.Policy.POSTGREY, clock));
        mta = new MtaFixture(dir.resolve("few"), Map.of(), few, QueueSettings.defaults("mx.example.org"));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO mail.remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice+1@example.org>").expect("450 4\\.7\\.1 .*try again in 300 seconds.*");
            clock.advance(Duration.ofSeconds(10));
            c.send("RCPT TO:<alice+2@example.org>").expect("450 4\\.7\\.1 .*try again in 290 seconds.*"); // the same triplet
            c.send("RCPT TO:<alice+3@example.org>").expect("450 .*");
            c.send("RCPT TO:<alice+4@example.org>").expect("450 .*"); // the 4th deferral, past max_recipients (3): an error
            c.send("RCPT TO:<alice+5@example.org>").expect("450 .*"); // the 2nd error: smtp.max_errors reached
            c.expect("421 .*");
            c.expectClosed();
        }
    }

    /** Clients greylisting skips (smtp.sender_checks_skip in the server: this machine by default) pass at once. */
    @Test
    void skippedClientsAreNeverGreylisted() throws Exception {
        mta.close();
        SmtpSettings skipping = SmtpSettings.mx("mx.example.org").withGreylisting(new Greylisting(true,
                Greylist.Policy.POSTGREY, clock, java.util.List.of(dev.mailstack.net.Cidr.parse("127.0.0.0/8"))));
        mta = new MtaFixture(dir.resolve("skip"), Map.of(), skipping, QueueSettings.defaults("mx.example.org"));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO cron.localhost").expectEventually("250 HELP");
            c.send("MAIL FROM:<root@localhost.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        }
    }

    @Test
    void aNewTripletIsDeferredAndItsRetryAfterTheDelayDelivers() throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO mail.remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect(GREYLISTED.formatted(300));
            c.send("RCPT TO:<nobody@example.org>").expect("550 5\\.1\\.1 .*"); // refusals come first, and leave no triplet
            clock.advance(Duration.ofSeconds(120));
            for (int i = 0; i < 25; i++) { // more than smtp.max_errors (20): a deferral is no client error
                c.send("RCPT TO:<alice@example.org>").expect(GREYLISTED.formatted(180));
            }
            c.send("QUIT").expect("221 .*");
        }
        clock.advance(Duration.ofSeconds(300)); // the sending server's next try
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO mail.remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<ALICE@example.org>").expect("250 2\\.1\\.5 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: at last\r\n\r\nhello\r\n.\r\n");
            c.expect("250 2\\.0\\.0 .*");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*"); // known now
            c.send("QUIT").expect("221 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        MessageRef ref = mta.alice().select(MailboxName.INBOX).messages().get(0);
        String text;
        try (InputStream in = mta.alice().openContent(ref)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(text.matches("(?s)Return-Path: <bob@remote\\.test>\r\nReceived: .*\r\n"
                + "X-Greylist: delayed 420 seconds by mailstack at mx\\.example\\.org; [^\r\n]+\r\nSubject: at last\r\n.*"), text);
        assertEquals(26, mta.counters.refusals(MailCounters.Refusal.GREYLIST));
    }

    @Test
    void postmasterLoginsAndSubmissionAreNeverGreylisted() throws Exception {
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO mail.remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<Postmaster@example.org>").expect("250 .*"); // RFC 5321 §4.5.1
            c.send("RCPT TO:<alice@example.org>").expect("450 4\\.7\\.1 .*");
            c.send("RSET").expect("250 .*");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 .*");
            c.send("MAIL FROM:<carol@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
        }
        try (LineClient c = new LineClient(mta.submission.port())) {
            c.expect("220 .*");
            c.send("EHLO laptop").expectEventually("250 HELP");
            c.send("AUTH PLAIN " + plain("alice@example.org", "secret")).expect("235 .*");
            c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<alice+self@example.org>").expect("250 .*");
        }
        assertEquals(1, mta.counters.refusals(MailCounters.Refusal.GREYLIST));
    }

    @Test
    void lmtpIsNeverGreylisted() throws Exception {
        try (LineClient c = new LineClient(mta.lmtp.port())) {
            c.expect("220 .*");
            c.send("LHLO postfix.example.org").expectEventually("250 HELP");
            c.send("MAIL FROM:<dave@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*"); // the MTA in front greylists, if anyone
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: through postfix\r\n\r\nhello\r\n.\r\n");
            c.expect("250 2\\.0\\.0 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertEquals(0, mta.counters.refusals(MailCounters.Refusal.GREYLIST));
    }

    /** The fixture again, greylisting as {@code g}; carol is a second local user. */
    private void restart(String name, Greylisting g) throws Exception {
        mta.close();
        mta = new MtaFixture(dir.resolve(name), Map.of(), SmtpSettings.mx("mx.example.org").withGreylisting(g),
                QueueSettings.defaults("mx.example.org"));
        mta.store.store().accounts().addUser("carol@example.org", dev.mailstack.store.PasswordScheme.hash("pw"));
    }

    private static void rcpt(LineClient c, String from, String to, String reply) throws Exception {
        c.send("RSET").expect("250 .*");
        c.send("MAIL FROM:<" + from + ">").expect("250 .*");
        c.send("RCPT TO:<" + to + ">").expect(reply);
    }

    /** postgrey's --whitelist-clients: by address, by network, and by the client's verified name only. */
    @Test
    void whitelistedClientsSkipGreylistingByAddressNetworkOrVerifiedName() throws Exception {
        Greylisting on = Greylisting.of(Greylist.Policy.POSTGREY, clock);
        for (String entry : new String[]{"127.0.0.1", "127.0.0.0/8", "127.0.0"}) {
            Path list = Files.writeString(dir.resolve("whitelist_clients"), "# ours\n" + entry + "\n");
            restart("address-" + entry.replace('/', '_'),
                    on.withWhitelists(ClientWhitelist.read(list), RecipientWhitelist.NONE, ClientNames.NONE));
            try (LineClient c = mta.connect()) {
                c.expect("220 .*");
                c.send("EHLO out-3.pool.bigmail.test").expectEventually("250 HELP");
                rcpt(c, "bob@remote.test", "alice@example.org", "250 .*");
                rcpt(c, "dave@remote.test", "carol@example.org", "250 .*");
            }
            assertEquals(2, mta.counters.whitelistings(MailCounters.Whitelist.CLIENTS), entry);
            assertEquals(0, mta.counters.refusals(MailCounters.Refusal.GREYLIST), entry);
        }

        Path names = Files.writeString(dir.resolve("whitelist_clients"), "192.0.2.1\nbigmail.test\n/^mx[0-9]+\\.other\\.test$/\n");
        java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();
        ClientNames verified = client -> {
            lookups.incrementAndGet();
            return java.util.Optional.of("out-3.pool.bigmail.test");
        };
        restart("name", on.withWhitelists(ClientWhitelist.read(names), RecipientWhitelist.NONE, verified));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO anything.test").expectEventually("250 HELP"); // HELO proves nothing: only the verified name counts
            rcpt(c, "bob@remote.test", "alice@example.org", "250 .*");
            rcpt(c, "bob@remote.test", "carol@example.org", "250 .*");
        }
        assertEquals(1, lookups.get(), "the name is looked up once a session");
        assertEquals(2, mta.counters.whitelistings(MailCounters.Whitelist.CLIENTS));

        // a PTR that does not confirm is no name (Postfix's "unknown"): the client is greylisted as any other
        restart("unverified", on.withWhitelists(ClientWhitelist.read(names), RecipientWhitelist.NONE, ClientNames.NONE));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO out-3.pool.bigmail.test").expectEventually("250 HELP");
            rcpt(c, "bob@remote.test", "alice@example.org", "450 4\\.7\\.1 .*");
        }
        assertEquals(0, mta.counters.whitelistings(MailCounters.Whitelist.CLIENTS));
        assertEquals(1, mta.counters.refusals(MailCounters.Refusal.GREYLIST));
    }

    /** postgrey's --whitelist-recipients: those recipients pass at once, the others of the same mail are deferred. */
    @Test
    void whitelistedRecipientsSkipGreylistingWhileOthersAreStillDeferred() throws Exception {
        Path list = Files.writeString(dir.resolve("whitelist_recipients"), "# role and sign-up addresses\nalice@\n");
        restart("recipients", Greylisting.of(Greylist.Policy.POSTGREY, clock)
                .withWhitelists(ClientWhitelist.NONE, RecipientWhitelist.read(list), ClientNames.NONE));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO mail.remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("RCPT TO:<carol@example.org>").expect("450 4\\.7\\.1 <carol@example\\.org>: greylisted.*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: sign-up code\r\n\r\n123456\r\n.\r\n");
            c.expect("250 2\\.0\\.0 .*");
        }
        mta.awaitMessages(mta.alice(), MailboxName.INBOX, 1);
        assertEquals(1, mta.counters.whitelistings(MailCounters.Whitelist.RECIPIENTS));
        assertEquals(1, mta.counters.refusals(MailCounters.Refusal.GREYLIST));
    }

    /** postgrey's --retry-window: a retry after it is a first attempt again, deferred for the whole delay. */
    @Test
    void aRetryAfterTheRetryWindowStartsOver() throws Exception {
        restart("window", Greylisting.of(Greylist.Policy.POSTGREY.withRetryWindow(Duration.ofHours(1)), clock));
        try (LineClient c = mta.connect()) {
            c.expect("220 .*");
            c.send("EHLO mail.remote.test").expectEventually("250 HELP");
            rcpt(c, "bob@remote.test", "alice@example.org", GREYLISTED.formatted(300));
            rcpt(c, "bob@remote.test", "carol@example.org", GREYLISTED.replace("alice", "carol").formatted(300));
            clock.advance(Duration.ofMinutes(59));
            rcpt(c, "bob@remote.test", "carol@example.org", "250 .*"); // within the hour
            clock.advance(Duration.ofMinutes(2)); // alice's window is over: her retry is a first attempt again
            rcpt(c, "bob@remote.test", "alice@example.org", GREYLISTED.formatted(300));
            clock.advance(Duration.ofSeconds(300));
            rcpt(c, "bob@remote.test", "alice@example.org", "250 .*");
        }
    }
}

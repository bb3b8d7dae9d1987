package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mime.MailCharset;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.mta.queue.MailCounters;
import dev.mailstack.mta.queue.QueueIntake;
import dev.mailstack.store.Account;
import dev.mailstack.store.MailEnvelope;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.QueuedMessage;
import dev.mailstack.store.StoreFixture;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.TestMessages;
import dev.mailstack.store.Transaction;
import dev.mailstack.store.Uid;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quota warnings (Dovecot's quota_warning) at local delivery, against a real store: messages go
 * through the queue's intake and are delivered by hand, so the test decides what one delivery is.
 * A quota of 100 000 octets keeps the thresholds far from the few hundred octets of header the
 * intake adds.
 */
class QuotaWarningTest {
    private static final long QUOTA = 100_000;

    @TempDir
    Path dir;
    StoreFixture f;
    MailboxStore store;
    QueueIntake intake;
    LocalDelivery local;

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir);
        store = f.store();
        store.accounts().setQuota("alice@example.org", QUOTA);
        intake = new QueueIntake(store, MimeLimits.defaults(), MailCharset.DEFAULT_FALLBACK, () -> { }, new MailCounters());
        local = new LocalDelivery(store, "mx.example.org");
        local.use(QuotaWarnings.parse("90"));
    }

    @AfterEach
    void close() {
        f.close();
    }

    private List<QueuedMessage> enqueue(int... bodyBytes) throws Exception {
        for (int n : bodyBytes) {
            MessageSpool.Spooled m = TestMessages.spool(store, "From: <bob@example.net>\r\nSubject: mail of " + n
                    + "\r\n\r\n" + "x".repeat(n) + "\r\n");
            try {
                intake.accept(new MailEnvelope("bob@example.net", List.of(MailEnvelope.Recipient.of("alice@example.org")),
                        Optional.empty(), Optional.empty(), false, false, Instant.now()), m);
            } finally {
                m.discard();
            }
        }
        return store.queue().claimDue(Instant.now(), Duration.ofMinutes(5), 100);
    }

    /** One delivery transaction for all of {@code messages}, as the queue runner makes for one claim. */
    private List<LocalDelivery.Result> deliver(List<QueuedMessage> messages) {
        Account alice = store.accounts().find("alice@example.org").orElseThrow(); // as the runner looks it up
        return local.deliverAll(messages.stream().map(m -> new LocalDelivery.Request(m, alice, "alice@example.org")).toList());
    }

    private List<LocalDelivery.Result> deliver(int... bodyBytes) throws Exception {
        return deliver(enqueue(bodyBytes));
    }

    private long used() {
        return store.accounts().find("alice@example.org").orElseThrow().usedBytes();
    }

    private List<String> inbox() throws Exception {
        StoreSession s = f.session();
        List<String> out = new ArrayList<>();
        try (var view = s.select(MailboxName.INBOX)) {
            for (MessageRef ref : view.messages()) {
                try (InputStream in = s.openContent(ref)) {
                    out.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    private List<String> warnings() throws Exception {
        return inbox().stream().filter(m -> m.contains("Auto-Submitted: auto-generated")).toList();
    }

    private static String subject(String message) {
        return message.replaceAll("(?s)^.*?\r\nSubject: ([^\r\n]*).*", "$1");
    }

    @Test
    void crossingNinetyPercentPutsOneWarningIntoTheInboxAndTheNextDeliveryNone() throws Exception {
        deliver(80_000);
        assertEquals(List.of(), warnings(), "80% crosses nothing");
        long before = used();
        List<LocalDelivery.Result> results = deliver(15_000);
        assertInstanceOf(LocalDelivery.Delivered.class, results.getFirst());
        List<String> warnings = warnings();
        assertEquals(1, warnings.size());
        String w = warnings.getFirst();
        long afterDelivery = used() - w.length(); // ASCII: its length is its size
        assertTrue(afterDelivery - before > 15_000);
        assertEquals("Your mailbox is 90% full (" + QuotaWarning.size(afterDelivery) + " of 97.6 KiB)", subject(w));
        assertTrue(w.contains("\r\nFrom: Mail System <postmaster@example.org>\r\n"), w);
        assertTrue(w.contains("\r\nTo: <alice@example.org>\r\n"), w);
        assertTrue(w.matches("(?s).*\r\nMessage-ID: <[^@>]+@mx\\.example\\.org>\r\n.*"), w);
        assertTrue(w.matches("(?s).*\r\nDate: [A-Z][a-z]{2}, \\d{1,2} [A-Z][a-z]{2} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\r\n.*"), w);
        assertTrue(w.contains("\r\nAuto-Submitted: auto-generated\r\n"), "RFC 3834 §5: " + w);
        assertTrue(w.contains("\r\nContent-Type: text/plain; charset=UTF-8\r\n"), w);
        assertTrue(w.contains("empty the Trash and Junk folders"), w);
        assertTrue(w.contains("ask your mail administrator:\r\npostmaster@example.org\r\n"), w);
        assertEquals(3, inbox().size());
        assertEquals(inboxSize(), used(), "the warning counts in the use like any message");

        deliver(1_000);
        deliver(1_000);
        assertEquals(1, warnings().size(), "above 90% already: once per crossing");
        assertEquals(5, inbox().size());
    }

    private long inboxSize() throws Exception {
        try (var view = f.session().select(MailboxName.INBOX)) {
            return view.messages().stream().mapToLong(MessageRef::size).sum();
        }
    }

    @Test
    void droppingBelowTheShareAndCrossingItAgainWarnsAgain() throws Exception {
        deliver(95_000);
        assertEquals(1, warnings().size());
        StoreSession s = f.session();
        try (var view = s.select(MailboxName.INBOX); Transaction t = s.begin()) {
            List<Uid> big = view.messages().stream().filter(r -> r.size() > 90_000).map(MessageRef::uid).toList();
            assertEquals(1, big.size());
            t.expunge(view.id(), big);
            t.commit();
        }
        assertTrue(used() < 2_000, "the user made room: " + used());
        deliver(50_000);
        assertEquals(1, warnings().size(), "about 50%: below the share");
        deliver(45_000);
        assertEquals(2, warnings().size(), "crossed again, warned again");
    }

    @Test
    void oneDeliveryCrossingTwoSharesWarnsOnlyOfTheHigher() throws Exception {
        local.use(QuotaWarnings.parse("80, 95"));
        deliver(50_000);
        deliver(47_000);
        List<String> warnings = warnings();
        assertEquals(1, warnings.size());
        assertTrue(subject(warnings.getFirst()).startsWith("Your mailbox is 95% full ("), subject(warnings.getFirst()));
    }

    @Test
    void eachShareWarnsOnceWhenCrossedByDifferentDeliveries() throws Exception {
        local.use(QuotaWarnings.parse("80,95"));
        deliver(85_000);
        deliver(11_000);
        List<String> subjects = warnings().stream().map(QuotaWarningTest::subject).toList();
        assertEquals(2, subjects.size(), subjects.toString());
        assertTrue(subjects.get(0).startsWith("Your mailbox is 80% full"), subjects.toString());
        assertTrue(subjects.get(1).startsWith("Your mailbox is 95% full"), subjects.toString());
    }

    @Test
    void anAccountWithoutAQuotaIsNeverWarned() throws Exception {
        store.accounts().setQuota("alice@example.org", null);
        deliver(95_000);
        deliver(95_000);
        assertEquals(List.of(), warnings());
        assertEquals(2, inbox().size());
    }

    @Test
    void noSharesConfiguredNeverWarns() throws Exception {
        local.use(QuotaWarnings.parse(""));
        deliver(95_000);
        assertEquals(List.of(), warnings());
        assertEquals(1, inbox().size());
    }

    /** A crash after the commit and before the queue recorded it: the retry stores nothing, and warns of nothing. */
    @Test
    void aRetriedDeliveryAddsNoSecondWarning() throws Exception {
        List<QueuedMessage> claimed = enqueue(95_000);
        assertInstanceOf(LocalDelivery.Delivered.class, deliver(claimed).getFirst());
        long used = used();
        LocalDelivery.Delivered again = assertInstanceOf(LocalDelivery.Delivered.class, deliver(claimed).getFirst());
        assertFalse(again.fresh(), "found by its delivery key");
        assertEquals(1, warnings().size());
        assertEquals(2, inbox().size());
        assertEquals(used, used());
    }

    @Test
    void aDeliveryRefusedForQuotaAddsNoWarning() throws Exception {
        deliver(85_000);
        long used = used();
        LocalDelivery.Refused refused = assertInstanceOf(LocalDelivery.Refused.class, deliver(20_000).getFirst());
        assertTrue(refused.reply().startsWith("552 5.2.2"), refused.reply());
        assertEquals(List.of(), warnings());
        assertEquals(used, used(), "rolled back whole");
    }

    /** The warning must not be what fails a delivery that just fits: it goes in past the limit. */
    @Test
    void theWarningGoesInEvenWhenTheDeliveryLeftNoRoomForIt() throws Exception {
        List<QueuedMessage> claimed = enqueue(50_000);
        long size = claimed.getFirst().size();
        store.accounts().setQuota("alice@example.org", size); // the message fills the mailbox to the last octet
        assertInstanceOf(LocalDelivery.Delivered.class, deliver(claimed).getFirst());
        List<String> warnings = warnings();
        assertEquals(1, warnings.size());
        assertEquals(size + warnings.getFirst().length(), used(), "the warning is counted, past the limit");
        assertInstanceOf(LocalDelivery.Refused.class, deliver(0).getFirst(), "full: the next one is refused");
        assertEquals(1, warnings().size());
    }

    /** A burst delivered in one transaction is one delivery: one warning, though two of its messages are past 90%. */
    @Test
    void aBatchThatCrossesWarnsOnce() throws Exception {
        deliver(80_000);
        deliver(enqueue(6_000, 6_000, 1_000));
        assertEquals(1, warnings().size());
        assertEquals(5, inbox().size());
    }

    /**
     * Two queue workers delivering to the account at once, each of whose messages would cross 90%
     * on its own: the use is read as the account's one writer, so whichever goes second starts
     * above the share and does not warn.
     */
    @Test
    void twoDeliveriesAtOnceWarnOnceForOneCrossing() throws Exception {
        deliver(85_000);
        List<QueuedMessage> first = enqueue(6_000);
        List<QueuedMessage> second = enqueue(6_000);
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<LocalDelivery.Result>>> done = new ArrayList<>();
            for (List<QueuedMessage> claimed : List.of(first, second)) {
                done.add(threads.submit(() -> {
                    start.await();
                    return deliver(claimed);
                }));
            }
            for (Future<List<LocalDelivery.Result>> d : done) {
                assertInstanceOf(LocalDelivery.Delivered.class, d.get().getFirst());
            }
        } finally {
            threads.shutdown();
        }
        assertEquals(1, warnings().size());
        assertEquals(4, inbox().size());
    }
}

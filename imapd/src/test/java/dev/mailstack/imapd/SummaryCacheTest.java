package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.Transaction;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SummaryCache} over a real store: what it keeps, by weight. */
class SummaryCacheTest {
    private static final long BOUND = 512 * 1024;

    @TempDir
    Path dir;
    ImapFixture imap;
    List<MessageRef> messages;

    /** Ten messages with a 30 KB header each (kept whole in the summary), then twenty ordinary ones. */
    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        String references = "References:" + "\r\n <a-long-message-id-for-references@remote.test>".repeat(600) + "\r\n";
        for (int i = 0; i < 10; i++) {
            imap.deliver(MailboxName.INBOX, "From: x@remote.test\r\nSubject: heavy " + i + "\r\n" + references + "\r\nbody\r\n");
        }
        for (int i = 0; i < 20; i++) {
            imap.deliver(MailboxName.INBOX, ImapSessionTest.PLAIN.replace("hello", "light " + i));
        }
        messages = imap.store.session().select(MailboxName.INBOX).messages();
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    /**
     * The cache is bounded by what its entries weigh, not by their number: summaries that keep a 30 KB
     * header each weigh some 30 times an ordinary one's, and counted at 2 KB apiece (20,000 of them at
     * least, whatever they weighed) they took many times the memory meant for the cache.
     */
    @Test
    void heavySummariesAreHeldWithinTheBoundAndTheMostRecentlyUsedStay() throws IOException {
        SummaryCache cache = new SummaryCache(imap.store.store(), BOUND);
        cache.load(messages.subList(0, 10));
        assertTrue(cache.bytes() <= BOUND, cache.bytes() + " bytes held");
        assertTrue(cache.size() < 10 && cache.size() > 0, cache.size() + " heavy entries held");
        cache.load(messages.subList(10, 30));
        assertTrue(cache.bytes() <= BOUND, cache.bytes() + " bytes held");
        int before = cache.size();
        cache.load(messages.subList(10, 30)); // ordinary ones just loaded: all held, nothing read or dropped
        assertEquals(before, cache.size());
        assertTrue(before >= 20, before + " entries held");
        // heavy 0, the least recently used, made room long ago: asked for again, it is read and kept within the bound
        assertEquals("heavy 0", cache.get(messages.get(0)).envelope().subject());
        assertTrue(cache.bytes() <= BOUND, cache.bytes() + " bytes held");
    }

    @Test
    void aSummaryHeavierThanTheWholeBoundIsServedButNotKept() throws IOException {
        SummaryCache cache = new SummaryCache(imap.store.store(), 32 * 1024);
        assertEquals("heavy 3", cache.get(messages.get(3)).envelope().subject());
        assertEquals(0, cache.size());
        assertEquals("light 0", cache.get(messages.get(10)).envelope().subject());
        assertEquals(1, cache.size());
    }

    /** One look-up per message: cached, read now and too heavy to keep, each in its message's place. */
    @Test
    void structuresComeInTheMessagesOrderWhetherCachedReadOrTooHeavyToKeep() throws IOException {
        SummaryCache cache = new SummaryCache(imap.store.store(), 32 * 1024);
        cache.load(messages.subList(11, 12));
        List<MessageRef> asked = List.of(messages.get(12), messages.get(3), messages.get(11), messages.get(10));
        List<String> subjects = cache.structures(asked, Long.MAX_VALUE).stream()
                .map(s -> s.orElseThrow().summary().envelope().subject()).toList();
        assertEquals(List.of("light 2", "heavy 3", "light 1", "light 0"), subjects);
        assertEquals(3, cache.size(), "the heavy one served, not kept");
        assertEquals(1, cache.structures(asked, 1).size(), "within the weight asked for, and always the first");
        SummaryCache fresh = new SummaryCache(imap.store.store());
        List<MessageRef> three = List.of(messages.get(12), messages.get(11), messages.get(10));
        fresh.load(three);
        assertEquals(3, fresh.structures(three, fresh.bytes()).size(), "all three weigh what the cache holds");
        assertEquals(2, fresh.structures(three, fresh.bytes() - 1).size(), "an octet less: not the third");
    }

    /** A message whose content another session's expunge and the sweep took away: empty, in its place. */
    @Test
    void aStructureWhoseContentIsGoneIsEmptyInItsPlace() throws IOException {
        StoreSession s = imap.store.session();
        try (Transaction t = s.begin()) {
            t.expunge(imap.store.inbox(), List.of(messages.get(11).uid()));
            t.commit();
        }
        assertEquals(0, imap.store.store().sweepContents(Duration.ofSeconds(5)), "the first look only notes it");
        assertEquals(1, imap.store.store().sweepContents(Duration.ofSeconds(5)));
        List<Optional<StoredStructure>> got = new SummaryCache(imap.store.store())
                .structures(List.of(messages.get(10), messages.get(11), messages.get(12)), Long.MAX_VALUE);
        assertEquals(List.of(true, false, true), got.stream().map(Optional::isPresent).toList());
    }
}

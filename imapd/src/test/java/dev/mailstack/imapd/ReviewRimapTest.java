package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.Uid;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Findings of the wt-rimap read-only review of imapd, each as a test that fails on the code as
 * reviewed (920a7c7) and passes once the finding is fixed.
 */
class ReviewRimapTest {
    @TempDir
    Path dir;
    ImapFixture imap;
    Uid first;

    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        first = imap.deliver(MailboxName.INBOX, ImapSessionTest.PLAIN);
        imap.deliver(MailboxName.INBOX, ImapSessionTest.MULTIPART);
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    /** RFC 3501 §9 note 3: "Jan" etc. are case-insensitive like every alphabetic token of the grammar. */
    @Test
    void searchDateMonthsAreCaseInsensitive() throws IOException {
        try (LineClient c = imap.login()) {
            c.setTimeout(Duration.ofSeconds(5));
            c.send("s SELECT INBOX").expectEventually("s OK .*");
            c.send("f SEARCH SINCE 1-JAN-2020").expect("\\* SEARCH 1 2");
            c.expect("f OK SEARCH completed");
        }
    }

    /**
     * SEARCH BODY/TEXT lower-cases the message's whole decoded text again for every key
     * (Searcher.contains): 999 keys over one 4 MiB text body are 999 copies and case-maps of it, CPU
     * on a carrier thread that no limit bounds (MAX_SEARCH_KEYS bounds the keys, not their cost).
     */
    @Test
    void manyBodyKeysDoNotCaseMapTheBodyOncePerKey() throws IOException {
        String body = "abc def ghi jkl\r\n".repeat(4 * 1024 * 1024 / 17);
        imap.deliver(MailboxName.INBOX, "From: x@remote.test\r\nSubject: big\r\n\r\n" + body);
        try (LineClient c = imap.login()) {
            c.setTimeout(Duration.ofSeconds(120));
            c.send("s SELECT INBOX").expectEventually("s OK .*");
            String keys = " BODY a".repeat(999);
            long start = System.nanoTime();
            c.send("f SEARCH 3" + keys.substring(0, keys.length() - 7)).expect("\\* SEARCH 3");
            c.expect("f OK SEARCH completed");
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 1000, "SEARCH of 998 BODY keys over one 4 MiB message took " + millis + " ms");
        }
    }
}

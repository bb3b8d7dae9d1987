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

}

package dev.mailstack.imapd;

import dev.mailstack.mime.MimeLimits;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageSpool;
import dev.mailstack.store.NewMessage;
import dev.mailstack.store.StoreSession;
import dev.mailstack.store.TestMessages;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SEARCH over more messages than it reads summaries for at once (Searcher's window of 1,000): the
 * messages on either side of each window's edge, and the last one, are found like any other.
 */
class LargeMailboxSearchTest {
    private static final int MESSAGES = 2_001;

    @TempDir
    Path dir;
    ImapFixture imap;

    /** Subjects "needle" at 1, 1000, 1001 and 2001; the body word "haystack" at 999, 1002 and 2000. */
    @BeforeEach
    void start() throws IOException {
        imap = new ImapFixture(dir);
        StoreSession s = imap.store.session();
        List<NewMessage> messages = new ArrayList<>();
        List<MessageSpool.Spooled> spooled = new ArrayList<>();
        try {
            for (int i = 1; i <= MESSAGES; i++) {
                String subject = i == 1 || i == 1000 || i == 1001 || i == MESSAGES ? "needle " + i : "message " + i;
                String body = i == 999 || i == 1002 || i == 2000 ? "a haystack here\r\n" : "nothing " + i + "\r\n";
                MessageSpool.Spooled m = TestMessages.spool(imap.store.store(), "From: bob@remote.test\r\nSubject: "
                        + subject + "\r\nX-Number: " + i + "\r\n\r\n" + body);
                spooled.add(m);
                messages.add(new NewMessage(m, ParsedFacts.of(m, MimeLimits.defaults()), Flags.NONE,
                        Instant.parse("2026-12-01T10:00:00Z")));
            }
            s.append(s.require(MailboxName.INBOX).id(), messages);
        } finally {
            for (MessageSpool.Spooled m : spooled) {
                m.discard();
            }
        }
    }

    @AfterEach
    void stop() {
        imap.close();
    }

    @Test
    void everyWindowIsSearchedToItsEdges() throws IOException {
        try (LineClient c = imap.login()) {
            c.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
            c.send("a SEARCH SUBJECT needle").expect("\\* SEARCH 1 1000 1001 2001");
            c.expect("a OK SEARCH completed");
            c.send("b SEARCH BODY haystack").expect("\\* SEARCH 999 1002 2000");
            c.expect("b OK SEARCH completed");
            c.send("c SEARCH OR SUBJECT needle HEADER X-Number 1002").expect("\\* SEARCH 1 1000 1001 1002 2001");
            c.expect("c OK SEARCH completed");
            // a sequence set with a key that reads the summary, from the second window on
            c.send("d SEARCH 1001:* SUBJECT needle").expect("\\* SEARCH 1001 2001");
            c.expect("d OK SEARCH completed");
            c.send("e UID SEARCH RETURN (SAVE) BODY haystack").expect("e OK UID SEARCH completed");
            c.send("f SEARCH $ NOT UID 1000:1999").expect("\\* SEARCH 999 2000");
            c.expect("f OK SEARCH completed");
        }
    }
}

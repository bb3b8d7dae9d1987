package dev.mailstack.mta.review;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mailstack.mta.MtaFixture;
import dev.mailstack.net.LineClient;
import dev.mailstack.store.MailboxName;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review (wt-rsmtp): DataReader takes ".\r\n" as the end of DATA after an over-long line whatever
 * that line ended with (afterCrlf = true on LineTooLongException), so "<1 MiB line>\n.\r\n" ends the
 * message and what follows is read as commands: SMTP smuggling through a relay that passes long
 * lines and bare LF. These tests state what SHOULD happen; they fail today.
 */
class ReviewSmugglingTest {
    @TempDir
    Path dir;
    MtaFixture mta;

    @BeforeEach
    void start() throws Exception {
        mta = MtaFixture.create(dir);
    }

    @AfterEach
    void stop() {
        mta.close();
    }

    @Test
    void aDotAfterAnOverlongLineEndedByBareLfDoesNotEndTheMessage() throws Exception {
        String longLine = "x".repeat(1024 * 1024 + 10);
        try (LineClient c = mta.connectEhlo()) {
            c.send("MAIL FROM:<dave@remote.test>").expect("250 .*");
            c.send("RCPT TO:<alice@example.org>").expect("250 .*");
            c.send("DATA").expect("354 .*");
            c.sendRaw("Subject: carrier\r\n\r\n" + longLine + "\n.\r\n"
                    + "MAIL FROM:<ceo@bank.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"
                    + "Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n"
                    + "tail of the carrier\r\n.\r\n");
            c.send("QUIT");
            StringBuilder replies = new StringBuilder();
            for (String line; (line = c.readLine()) != null; ) {
                replies.append(line).append('\n');
                if (line.startsWith("221")) {
                    break;
                }
            }
            System.out.println("REPLIES:\n" + replies);
        }
        Thread.sleep(1500);
        mta.awaitQueueEmpty();
        // expected: the carrier refused (line too long) as one message and nothing else delivered
        assertEquals(0, mta.alice().status(MailboxName.INBOX).messages(),
                "a message smuggled after '<long line>\\n.\\r\\n' was delivered");
    }
}

package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LogFormatTest {
    private static String format(Level level, String message, Object... params) {
        LogRecord r = new LogRecord(level, message);
        r.setLoggerName("dev.mailstack.mta.smtp.SmtpSession");
        r.setInstant(Instant.parse("2026-12-05T08:39:20.063Z"));
        r.setParameters(params);
        return new LogFormat().format(r);
    }

    @Test
    void oneLineWithUtcTimeLevelLoggerAndFilledInValues() {
        assertEquals("2026-12-05T08:39:20.063Z INFO dev.mailstack.mta.smtp.SmtpSession: queued conn=7lvi60"
                        + " queue=Q1 from=<a@example.test> rcpts=2 size=1234567" + System.lineSeparator(),
                format(Level.INFO, "queued conn={0} queue={1} from=<{2}> rcpts={3} size={4,number,#}",
                        "7lvi60", "Q1", "a@example.test", 2, 1_234_567L));
    }

    @Test
    void numbersAreNeverGroupedAndOtherBracesAndQuotesStayAsWritten() {
        // MessageFormat would print 12,345, drop the apostrophe and choke on {5+}.
        assertEquals("size=12345 can't parse {5+} {x} {} {9} {1,date} {0",
                message("size={0} can't parse {5+} {x} {} {9} {1,date} {0", 12345, "b"));
        assertEquals("no parameters: {0}", message("no parameters: {0}"));
        assertEquals("ab", message("{1}{0}", "b", "a"));
    }

    @Test
    void aThrownExceptionFollowsOnTheNextLines() {
        LogRecord r = new LogRecord(Level.WARNING, "enqueue failed conn={0}");
        r.setLoggerName("x");
        r.setParameters(new Object[]{"c1"});
        r.setThrown(new IOException("disk full"));
        String[] lines = new LogFormat().format(r).split(System.lineSeparator());
        assertTrue(lines[0].endsWith(" WARNING x: enqueue failed conn=c1"), lines[0]);
        assertEquals("java.io.IOException: disk full", lines[1]);
        assertTrue(lines[2].strip().startsWith("at dev.mailstack.server.LogFormatTest."), lines[2]);
    }

    private static String message(String message, Object... params) {
        StringBuilder out = new StringBuilder();
        LogFormat.appendMessage(out, message, params);
        return out.toString();
    }
}

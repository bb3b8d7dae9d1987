package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.store.StoreFailure;
import org.junit.jupiter.api.Test;

class Pop3RepliesTest {
    @Test
    void everyStoreFailureIsAnErrWithAFixedText() {
        for (StoreFailure f : StoreFailure.values()) {
            Pop3Reply r = Pop3Replies.forFailure(f);
            assertFalse(r.ok(), f.name());
            assertTrue(r.line().startsWith("-ERR "), r.line());
        }
        assertEquals("-ERR [SYS/TEMP] Mail store temporarily unavailable; try again later",
                Pop3Replies.forFailure(StoreFailure.TEMPORARY).line());
        assertEquals("-ERR [SYS/TEMP] Some deleted messages not removed; nothing was changed",
                Pop3Replies.updateFailed(StoreFailure.TEMPORARY).line());
    }

    @Test
    void responseCodesAreBracketedAfterTheStatus() {
        assertEquals("-ERR [IN-USE] Maildrop is in use by another POP3 session", Pop3Replies.IN_USE.line());
        assertEquals("-ERR [AUTH] Authentication failed", Pop3Replies.AUTH_FAILED.line());
        assertEquals("+OK", Pop3Replies.NOOP.line());
        assertEquals("+OK 2 320", Pop3Replies.stat(2, 320).line());
    }

    @Test
    void aReplyIsOneLine() {
        assertThrows(IllegalArgumentException.class, () -> Pop3Reply.ok("two\r\nlines"));
    }

    @Test
    void settingsRejectNonsense() {
        assertThrows(IllegalArgumentException.class, () -> Pop3Settings.defaults("two words"));
        assertThrows(IllegalArgumentException.class,
                () -> Pop3Settings.defaults("pop.example.org").withIdleTimeout(java.time.Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Pop3Settings.defaults("pop.example.org").withMaxBadCommands(0));
        assertEquals(java.time.Duration.ofMinutes(10), Pop3Settings.defaults("pop.example.org").idleTimeout());
    }
}

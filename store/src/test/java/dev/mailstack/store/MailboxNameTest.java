package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MailboxNameTest {
    @Test
    void inboxIsMatchedInAsciiCaseOnly() {
        assertEquals("INBOX", new MailboxName("inBox").path());
        assertEquals("INBOX/Sub", new MailboxName("inbox/Sub").path());
        assertEquals("Inboxes", new MailboxName("Inboxes").path());
        // Unicode case folding would take these for INBOX (RFC 3501 §5.1 means ASCII case)
        assertFalse(new MailboxName("\u0131nbox").isInbox());
        assertFalse(new MailboxName("\u0130NBOX").isInbox());
        assertEquals("\u0131nbox/x", new MailboxName("\u0131nbox/x").path());
    }

    /** RFC 6855 §3 (RFC 5198 §2): NFC, no controls, no line or paragraph separators. */
    @Test
    void namesAreNetUnicode() {
        assertEquals(new MailboxName("Caf\u00e9"), new MailboxName("Cafe\u0301"));
        assertEquals("Caf\u00e9/Men\u00fc", new MailboxName("Cafe\u0301/Menu\u0308").path());
        for (String bad : List.of("a\u0000b", "a\tb", "a\u007fb", "a\u0085b", "a\u009fb", "a\u2028b", "a\u2029b")) {
            StoreException e = assertThrows(StoreException.class, () -> new MailboxName(bad), bad);
            assertEquals(StoreFailure.INVALID_NAME, e.failure());
        }
        assertTrue(new MailboxName("工作/\u00a0x").path().endsWith("\u00a0x"), "NO-BREAK SPACE is text");
    }
}

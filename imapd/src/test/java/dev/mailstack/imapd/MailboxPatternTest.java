package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** LIST patterns (RFC 3501 §6.3.8). */
class MailboxPatternTest {
    @Test
    void wildcardsReferencesAndInbox() {
        assertTrue(MailboxPattern.of("", "*").matches("a/b/c"));
        assertTrue(MailboxPattern.of("", "%").matches("Drafts"));
        assertFalse(MailboxPattern.of("", "%").matches("a/b"), "'%' stops at the separator");
        assertTrue(MailboxPattern.of("", "a/%").matches("a/b"));
        assertFalse(MailboxPattern.of("", "a/%").matches("a/b/c"));
        assertTrue(MailboxPattern.of("a", "%").matches("a/b"), "the reference and the pattern joined with '/'");
        assertTrue(MailboxPattern.of("a/", "*").matches("a/b/c"));
        assertTrue(MailboxPattern.of("a", "/x").matches("/x"), "a pattern from the root ignores the reference");
        assertTrue(MailboxPattern.of("", "inbox").matches("INBOX"), "INBOX in any case");
        assertTrue(MailboxPattern.of("", "Inbox/%").matches("INBOX/old"));
        assertFalse(MailboxPattern.of("", "Inboxes").matches("INBOXES"), "only INBOX itself is without case");
        assertTrue(MailboxPattern.of("", "%%*%x").matches("a/bx"));
        assertFalse(MailboxPattern.of("", "%x").matches("a/bx"));
        assertTrue(MailboxPattern.of("", "邮件/%").matches("邮件/收件"));
        assertTrue(MailboxPattern.of("", "").matches(""));
        assertFalse(MailboxPattern.of("", "").matches("a"));
    }

    /** The same answers as the regular expression LIST used before, on short random names and patterns. */
    @Test
    void matchesAsARegularExpressionWould() {
        Random random = new Random(7);
        String pool = "ab/*%";
        for (int round = 0; round < 20_000; round++) {
            StringBuilder pattern = new StringBuilder();
            for (int i = random.nextInt(7); i > 0; i--) {
                pattern.append(pool.charAt(random.nextInt(pool.length())));
            }
            StringBuilder name = new StringBuilder();
            for (int i = random.nextInt(8); i > 0; i--) {
                name.append("ab/".charAt(random.nextInt(3)));
            }
            StringBuilder re = new StringBuilder();
            for (char c : pattern.toString().toCharArray()) {
                re.append(c == '*' ? ".*" : c == '%' ? "[^/]*" : Pattern.quote(String.valueOf(c)));
            }
            assertEquals(Pattern.compile(re.toString(), Pattern.DOTALL).matcher(name).matches(),
                    MailboxPattern.of("", pattern.toString()).matches(name.toString()), pattern + " against " + name);
        }
    }

    /**
     * A backtracking matcher tries every split of the name between the wildcards: these took
     * longer than a server lives. Here each is one pass over the name.
     */
    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void manyWildcardsAgainstALongNameThatDoesNotMatch() {
        String name = "a".repeat(255);
        assertFalse(MailboxPattern.of("", "%" + "a%".repeat(20) + "x").matches(name));
        assertFalse(MailboxPattern.of("", "*a".repeat(2000) + "x").matches(name));
        assertTrue(MailboxPattern.of("", "*a".repeat(100) + "*").matches(name));
    }

    /** Longer than any name can be (255 code points, 510 UTF-16 units) besides its wildcards: it matches nothing, and costs nothing. */
    @Test
    void aPatternLongerThanAnyNameMatchesNothing() {
        String longest = "😀".repeat(255);
        assertTrue(MailboxPattern.of("", longest).matches(longest));
        assertTrue(MailboxPattern.of("", "%" + longest + "*").matches(longest));
        assertFalse(MailboxPattern.of("", longest + "a").matches(longest + "a"));
        assertFalse(MailboxPattern.of("中".repeat(30_000), "%").matches("中".repeat(30_000) + "/x"));
    }
}

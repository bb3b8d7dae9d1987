package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class MessageIdsTest {
    /** RFC 5256 §3 REFERENCES: ids normalised, so that quoting does not keep two forms of one id apart. */
    @Test
    void idsAreNormalised() {
        assertEquals("01KF8JCEOCBS0045PS@xxx.yyy.com", MessageIds.first("<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>"));
        assertEquals("01KF8JCEOCBS0045PS@xxx.yyy.com", MessageIds.first("  <01KF8JCEOCBS0045PS@xxx.yyy.com>"));
        assertEquals("a.b@example.org", MessageIds.first("<a . b (comment) @ example.org>"));
        assertEquals("Case@Example.org", MessageIds.first("<Case@Example.org>")); // compared case-sensitively
        assertEquals("x@y", MessageIds.first("<no-at-sign> <x@y>"));
        assertNull(MessageIds.first("no id here"));
        assertNull(MessageIds.first("<unclosed@example.org"));
        assertNull(MessageIds.first(null));
    }

    @Test
    void referencesKeepTheirOrderAndOnlyTheLastOnesPastTheLimit() {
        assertEquals(List.of("a@x", "b@x", "c@x"), MessageIds.last("<a@x>\t<b@x> junk <c@x>", 100));
        assertEquals(List.of("b@x", "c@x"), MessageIds.last("<a@x> <b@x> <c@x>", 2));
        assertEquals(List.of(), MessageIds.last("<" + "x".repeat(MessageIds.MAX_ID_CHARS) + "@y>", 100));
    }
}

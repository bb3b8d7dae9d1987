package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Collections;
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

    /** RFC 5322 §3.2.2: a comment is no part of the value, so an id quoted in one is not the message's. */
    @Test
    void idsInsideCommentsAreSkipped() {
        assertEquals("a@b", MessageIds.first("(see <x@y>) <a@b>"));
        assertEquals(List.of("a@b", "c@d"), MessageIds.last("<a@b> (nested (<x@y>) \\) <z@y>) <c@d>", 100));
        assertEquals("x@y", MessageIds.first("(never closed <x@y>")); // a sloppy '(' is taken as text
        assertEquals("a@b", MessageIds.first("<x <a@b>")); // '<' cannot be in an id: the id starts again after it
    }

    /** RFC 5322 §3.6.4: the right side may be a domain literal; it is kept as written and compared as text. */
    @Test
    void domainLiteralsAreIds() {
        assertEquals("1234.5@[10.0.0.1]", MessageIds.first("<1234.5@[10.0.0.1]>"));
        assertEquals("a.b@[IPv6:2001:db8::1]", MessageIds.first("<\"a.b\" @ [IPv6:2001:db8::1]>"));
        assertEquals(List.of("x@[10.0.0.1]", "y@[10.0.0.2]"), MessageIds.last("<x@[10.0.0.1]> (c) <y@[10.0.0.2]>", 100));
        assertEquals("b@c", MessageIds.first("<a@[10.0.0.1 <b@c>")); // never closed: the next id is still found
        assertNull(MessageIds.first("<a@[10.0.[0].1]>")); // no dtext holds '['
        assertNull(MessageIds.first("<a@[10.0.0.1] x>"));
    }

    /** THREAD keeps no id longer than real mail programs make (theirs are well under 100 characters). */
    @Test
    void idsLongerThan250CharactersAreSkipped() {
        String longest = "x".repeat(248) + "@y";
        assertEquals(List.of(longest), MessageIds.last("<" + longest + ">", 100));
        assertEquals(List.of(), MessageIds.last("<x" + longest + ">", 100));
        assertNull(MessageIds.first("<x" + longest + ">"));
    }

    /**
     * A header may be up to a MiB (MimeLimits.maxHeaderBytes). '<' after '<' with nothing to close
     * them, ids without '@', quotes and comments left open: each is read a few times at most, not
     * once per '<' (a MiB of '<' in References took minutes). The scan is linear even without the
     * cut in front of it.
     */
    @Test
    void aMebibyteOfHostileIdTextIsReadInLinearTime() {
        int mib = 1 << 20;
        List<String> hostile = List.of("<".repeat(mib), "<a".repeat(mib / 2), "<a>".repeat(mib / 3), "<a b ".repeat(mib / 5),
                "<\"".repeat(mib / 2), "<(".repeat(mib / 2), "<a (".repeat(mib / 4), "(".repeat(mib), "(<".repeat(mib / 2),
                "<a@b ".repeat(mib / 5), "<a.".repeat(mib / 3), "<a@b.".repeat(mib / 5), "<a ".repeat(mib / 3) + ">",
                "<a b ".repeat(mib / 5) + "(", "<".repeat(mib) + "[", "<a\"".repeat(mib / 3) + "\"",
                "<a@[".repeat(mib / 4), "<a@[x".repeat(mib / 5), "<a@[x ".repeat(mib / 6) + "]>", "<a@" + "[".repeat(mib));
        for (String value : hostile) {
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
                MessageIds.first(value);
                MessageIds.last(value, 100);
                MessageIds.parse(value, 1, true);
                MessageIds.parse(value, 100, false);
            }, value.substring(0, 12));
        }
        String many = "<a@b> ".repeat(mib / 6);
        assertEquals(Collections.nCopies(100, "a@b"), assertTimeoutPreemptively(Duration.ofSeconds(2),
                () -> MessageIds.last(many, 100)));
        assertEquals("a@b", assertTimeoutPreemptively(Duration.ofSeconds(2), () -> MessageIds.first(many)));
    }
}

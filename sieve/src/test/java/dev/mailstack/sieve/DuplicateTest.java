package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RFC 7352: the duplicate test, with the examples of its §4. */
class DuplicateTest {
    /** What earlier deliveries recorded: "handle\0id". */
    private final Set<String> seen = new HashSet<>();
    private final List<String> asked = new ArrayList<>();
    private final SieveAccount account = new SieveAccount() {
        @Override
        public boolean mailboxExists(String name) {
            return false;
        }

        @Override
        public boolean seenBefore(String handle, String id) {
            asked.add(handle + "|" + id);
            return seen.contains(handle + "\0" + id);
        }
    };

    private SieveOutcome run(String script, String header) {
        try {
            return SieveScript.parse(script).run(SampleMessage.of(header, 100, "x@example.net", "me@example.com"), account,
                    SieveEnvironment.local());
        } catch (SieveException e) {
            throw new AssertionError(e);
        }
    }

    /** §4's first example: duplicates by Message-ID go to a folder of their own. */
    @Test
    void aMessageIdSeenBeforeIsADuplicate() {
        String script = """
                require ["duplicate", "fileinto", "mailbox"];
                if duplicate { fileinto :create "Trash/Duplicate"; }
                """;
        String mail = "Message-ID: <1234@example.com>\r\nSubject: hi\r\n";
        SieveOutcome first = run(script, mail);
        assertEquals(List.of(keep()), first.actions());
        assertEquals(List.of(new DuplicateCheck("", "<1234@example.com>", DuplicateCheck.DEFAULT_PERIOD, false)),
                first.duplicates(), "the deliverer records it once the message is delivered");
        seen.add("\0<1234@example.com>");
        assertEquals(List.of(new SieveAction.FileInto("Trash/Duplicate", List.of(), true)), run(script, mail).actions());
    }

    /** §3: no Message-ID, no ID: not a duplicate, and nothing to remember. */
    @Test
    void withoutTheFieldTheTestIsFalseAndNothingIsTracked() {
        SieveOutcome o = run("require [\"duplicate\", \"fileinto\"]; if duplicate { discard; }", "Subject: hi\r\n");
        assertEquals(List.of(keep()), o.actions());
        assertEquals(List.of(), o.duplicates());
        assertEquals(List.of(), asked);
    }

    /** §4's second example: alerts by subject, within a minute of each other, marked as seen. */
    @Test
    void uniqueIdFromAVariableAndSeconds() {
        String script = """
                require ["duplicate", "variables", "imap4flags", "fileinto"];
                if header :matches "subject" "ALERT: *" {
                    if duplicate :seconds 60 :uniqueid "${1}" { setflag "\\\\seen"; }
                    fileinto "Alerts";
                }
                """;
        seen.add("\0disk full");
        SieveOutcome o = run(script, "Subject: ALERT: disk full\r\n");
        assertEquals(List.of(new SieveAction.FileInto("Alerts", List.of("\\seen"), false)), o.actions());
        assertEquals(List.of(new DuplicateCheck("", "disk full", Duration.ofSeconds(60), false)), o.duplicates());
    }

    /** §4's third example: :header and :handle keep separate trackings. */
    @Test
    void headerAndHandleKeepTrackingsApart() {
        String script = """
                require ["duplicate", "fileinto", "imap4flags"];
                if duplicate :header "X-Event-ID" :handle "notifier" { discard; }
                if allof (duplicate :header "X-Ticket-ID" :handle "support",
                          header :contains "subject" "fileserver") { setflag "\\\\seen"; }
                """;
        seen.add("support\0" + "42");
        String mail = "X-Event-ID: 42\r\nX-Ticket-ID: 42\r\nSubject: fileserver down\r\n";
        SieveOutcome o = run(script, mail);
        assertEquals(List.of(keep("\\seen")), o.actions(), "42 was seen as a ticket, not as an event");
        assertEquals(List.of(new DuplicateCheck("notifier", "42", DuplicateCheck.DEFAULT_PERIOD, false),
                new DuplicateCheck("support", "42", DuplicateCheck.DEFAULT_PERIOD, false)), o.duplicates());
    }

    /** §3: tests in one run never see each other's IDs; every test with the same arguments agrees. */
    @Test
    void testsOfOneRunAgreeAndAskOnce() {
        SieveOutcome o = run("""
                require ["duplicate", "fileinto", "include"];
                if duplicate :uniqueid "a" { fileinto "one"; }
                if duplicate :uniqueid "a" :seconds 999999 :last { fileinto "two"; }
                """, "Subject: x\r\n");
        assertEquals(List.of(keep()), o.actions());
        assertEquals(List.of("|a"), asked);
        assertEquals(List.of(new DuplicateCheck("", "a", Duration.ofSeconds(999999), true)), o.duplicates(),
                "merged: the longer period, :last");
    }

    @Test
    void aRunThatFailsRemembersNothing() {
        SieveOutcome o = run("require [\"duplicate\", \"ihave\"]; if duplicate :uniqueid \"a\" { stop; } error \"x\";", "");
        assertTrue(o.failed());
        assertEquals(List.of(), o.duplicates());
    }

    @Test
    void parseChecks() {
        assertThrows(SieveException.class, () -> SieveScript.parse("if duplicate { stop; }"));
        assertThrows(SieveException.class, () -> SieveScript.parse(
                "require \"duplicate\"; if duplicate :header \"a\" :uniqueid \"b\" { stop; }"));
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"duplicate\"; if duplicate :header \"a b\" { stop; }"));
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"duplicate\"; if duplicate \"x\" { stop; }"));
    }

    /** Each distinct ID is a store lookup now and a row later: past the bound a run fails, and keeps the message. */
    @Test
    void moreDistinctIdsThanTheBoundIsARuntimeError() {
        StringBuilder script = new StringBuilder("require [\"duplicate\", \"fileinto\"];\n");
        for (int n = 0; n <= Execution.MAX_DUPLICATE_IDS; n++) {
            script.append("if duplicate :uniqueid \"id").append(n).append("\" { fileinto \"Dups\"; }\n");
        }
        SieveOutcome o = run(script.toString(), "Subject: hi\r\n");
        assertEquals(List.of(keep()), o.actions());
        assertEquals(List.of("line " + (Execution.MAX_DUPLICATE_IDS + 2) + ": more than " + Execution.MAX_DUPLICATE_IDS
                + " IDs tested for duplicates in one run"), o.errors());
        assertEquals(Execution.MAX_DUPLICATE_IDS, asked.size(), "none asked past the bound");
        assertEquals(List.of(), o.duplicates(), "and none remembered");
    }
}

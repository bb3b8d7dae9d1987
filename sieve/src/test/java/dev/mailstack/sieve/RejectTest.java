package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 5429: reject and ereject, and the actions they cannot go with. */
class RejectTest {
    private static SieveOutcome run(String script) {
        return SampleMessage.run(script, SampleMessage.of("Subject: make money fast\r\nFrom: spam@example.net\r\n",
                500, "spam@example.net", "me@example.com"));
    }

    @Test
    void rejectRefusesWithItsReasonAndCancelsTheImplicitKeep() {
        SieveOutcome o = run("""
                require "reject";
                if header :contains "subject" "money" { reject "我不收垃圾邮件: no spam, please"; }
                """);
        assertEquals(List.of(new SieveAction.Reject("我不收垃圾邮件: no spam, please", false)), o.actions());
        assertFalse(o.implicitKeep());
        assertFalse(o.failed());
        assertEquals(List.of(keep()), run("require \"reject\"; if false { reject \"no\"; }").actions(),
                "not run: the implicit keep");
    }

    @Test
    void erejectIsMarkedAndExpandsVariables() {
        assertEquals(List.of(new SieveAction.Reject("No mail from spam@example.net", true)), run("""
                require ["ereject", "variables"];
                if address :matches "from" "*" { ereject "No mail from ${1}"; }
                """).actions());
    }

    @Test
    void aDiscardMayGoWithIt() {
        assertEquals(List.of(new SieveAction.Reject("no", false)), run("require \"reject\"; discard; reject \"no\";").actions());
    }

    /** A script asking for a reject and anything that stores, sends on or answers fails, so the message is kept. */
    @Test
    void rejectWithAnotherActionIsARuntimeErrorThatKeeps() {
        for (String[] c : List.of(
                new String[] {"reject \"no\";\nkeep;", "line 2: keep cannot be used with reject in one run (RFC 5429)"},
                new String[] {"fileinto \"spam\";\nreject \"no\";", "line 2: reject cannot be used with fileinto in one run (RFC 5429)"},
                new String[] {"ereject \"no\";\nredirect \"x@example.org\";",
                        "line 2: redirect cannot be used with ereject in one run (RFC 5429)"},
                new String[] {"vacation \"away\";\nreject \"no\";", "line 2: reject cannot be used with vacation in one run (RFC 5429)"},
                new String[] {"reject \"no\";\nereject \"no\";", "line 2: ereject cannot be used with reject in one run (RFC 5429)"})) {
            SieveOutcome o = run("require [\"reject\", \"ereject\", \"fileinto\", \"vacation\"];\n" + c[0].replace("line 2", ""));
            assertEquals(List.of(keep()), o.actions(), c[0]);
            assertTrue(o.implicitKeep());
            assertEquals(List.of(c[1].replace("line 2", "line 3")), o.errors(), c[0]);
        }
    }

    @Test
    void eachNeedsItsRequireAndOneReason() {
        assertTrue(assertThrows(SieveException.class, () -> SieveScript.parse("reject \"no\";")).getMessage()
                .contains("reject"));
        assertTrue(assertThrows(SieveException.class, () -> SieveScript.parse("require \"reject\"; ereject \"no\";"))
                .getMessage().contains("ereject"));
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"reject\"; reject;"));
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"reject\"; reject [\"a\", \"b\"];"));
        assertTrue(SieveScript.EXTENSIONS.containsAll(List.of("reject", "ereject")), "advertised by ManageSieve");
    }
}

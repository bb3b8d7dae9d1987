package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.actions;
import static dev.mailstack.sieve.SampleMessage.fileinto;
import static dev.mailstack.sieve.SampleMessage.holds;
import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 5232: the internal flags variable, flag commands, hasflag and :flags. */
class ImapFlagsTest {
    private static final String REQUIRE = "require [\"imap4flags\", \"fileinto\", \"variables\"];\n";

    @Test
    void internalVariableGoesToTheImplicitKeep() {
        SieveOutcome o = SampleMessage.run(REQUIRE + "setflag \"\\\\Seen\"; addflag [\"\\\\Flagged\", \"$Work Later\"];");
        assertEquals(List.of(keep("\\Seen", "\\Flagged", "$Work", "Later")), o.actions());
        assertTrue(o.implicitKeep());
    }

    @Test
    void removeflagIsCaseInsensitiveAndDuplicatesVanish() {
        assertEquals(List.of(keep("\\Seen")), actions(REQUIRE
                + "addflag \"\\\\Seen \\\\seen Junk\"; addflag \"junk\"; removeflag \"JUNK\"; keep;"));
    }

    @Test
    void keepAndFileintoTakeTheCurrentFlags() {
        List<SieveAction> a = actions(REQUIRE + "addflag \"\\\\Seen\"; fileinto \"a\"; setflag \"\\\\Answered\"; fileinto \"b\";");
        assertEquals(List.of(fileinto("a", "\\Seen"), fileinto("b", "\\Answered")), a);
    }

    @Test
    void flagsArgumentOverridesTheVariableForOneAction() {
        List<SieveAction> a = actions(REQUIRE + "addflag \"\\\\Seen\"; fileinto :flags \"\\\\Deleted\" \"a\"; keep;");
        assertEquals(List.of(fileinto("a", "\\Deleted"), keep("\\Seen")), a);
    }

    @Test
    void namedFlagVariableAsInRfc5232() {
        String script = REQUIRE + "if header :contains \"from\" \"alice\" {\n"
                + "  setflag \"flagvar\" \"\\\\Flagged\";\n  fileinto :flags \"${flagvar}\" \"From Alice\";\n}";
        assertEquals(List.of(fileinto("From Alice", "\\Flagged")), actions(script));
    }

    @Test
    void hasflagOnInternalAndNamedVariables() {
        String setup = "addflag \"\\\\Seen Work\"; addflag \"mine\" \"Urgent\"; ";
        assertFalse(holds("hasflag \"\\\\seen\"", "imap4flags"), "nothing set yet");
        assertTrue(run(setup, "hasflag \"work\""));
        assertTrue(run(setup, "hasflag :contains \"wor\""));
        assertFalse(run(setup, "hasflag \"urgent\""));
        assertTrue(run(setup, "hasflag \"mine\" \"urgent\""));
        assertTrue(run(setup, "hasflag :count \"eq\" :comparator \"i;ascii-numeric\" \"2\""));
    }

    private static boolean run(String setup, String test) {
        String script = "require [\"imap4flags\", \"fileinto\", \"variables\", \"relational\", \"comparator-i;ascii-numeric\"];\n"
                + setup + "if " + test + " { fileinto \"yes\"; }";
        return SampleMessage.run(script).actions().stream().anyMatch(a -> a instanceof SieveAction.FileInto f
                && f.mailbox().equals("yes"));
    }

    @Test
    void implicitKeepAfterRuntimeErrorKeepsTheFlagsSoFar() {
        String script = REQUIRE + "addflag \"\\\\Seen\";\nredirect \"${nothing}\";";
        SieveOutcome o = SampleMessage.run(script);
        assertTrue(o.failed());
        assertEquals(List.of(keep("\\Seen")), o.actions());
    }

    @Test
    void withoutImap4flagsActionsHaveNoFlags() {
        assertEquals(List.of(fileinto("a")), actions("require \"fileinto\"; fileinto \"a\";"));
    }
}

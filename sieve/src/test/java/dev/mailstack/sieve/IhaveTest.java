package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 5463: the ihave test, blocks guarded by it, and the error command. */
class IhaveTest {
    private static List<String> filed(String script) {
        return DateTest.filed(script, DateTest.message("Subject: x"), DateTest.ENV);
    }

    @Test
    void ihaveIsTrueOnlyWhenEveryExtensionIsThere() {
        String script = "require [\"ihave\", \"fileinto\"];\n"
                + "if ihave \"date\" { fileinto \"date\"; }\n"
                + "if ihave [\"date\", \"x-frobnitz\"] { fileinto \"both\"; }\n"
                + "if ihave \"comparator-i;octet\" { fileinto \"octet\"; }\n"
                + "if ihave \"DATE\" { fileinto \"case\"; }";
        assertEquals(List.of("date", "octet", "case"), filed(script));
    }

    @Test
    void extensionFoundByIhaveMayBeUsedWithoutRequire() {
        String script = "require [\"ihave\", \"fileinto\"];\n"
                + "if ihave \"date\" { if currentdate :is \"year\" \"2024\" { fileinto \"this-year\"; } }";
        assertEquals(List.of("this-year"), filed(script));
    }

    @Test
    void blockGuardedByAMissingExtensionIsNotChecked() {
        // RFC 5463 §4: the unknown extension's commands must not fail the script
        String script = "require [\"ihave\", \"fileinto\"];\n"
                + "if ihave \"x-frobnitz\" { frobnitz :hard \"now\" { nested; } }\n"
                + "elsif allof(true, ihave [\"x-frobnitz\"]) { frobnitz; }\n"
                + "else { fileinto \"plain\"; }";
        assertEquals(List.of("plain"), filed(script));
    }

    @Test
    void blockThatCanRunIsStillChecked() {
        SieveException e = assertThrows(SieveException.class, () -> SieveScript.parse(
                "require \"ihave\";\nif anyof(ihave \"x-frobnitz\", true) {\n frobnitz; }"));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("unknown command \"frobnitz\""), e.getMessage());
    }

    @Test
    void unclosedSkippedBlockIsStillAnError() {
        SieveException e = assertThrows(SieveException.class, () -> SieveScript.parse(
                "require \"ihave\";\nif ihave \"x-frobnitz\" { frobnitz;"));
        assertTrue(e.getMessage().contains("never closed"), e.getMessage());
    }

    @Test
    void errorEndsTheRunWithTheImplicitKeep() {
        SieveOutcome o = DateTest.run("require [\"ihave\", \"fileinto\", \"variables\"];\nfileinto \"a\";\n"
                + "set \"what\" \"frobnitz\";\nerror \"this server has no ${what}\";\nfileinto \"b\";",
                DateTest.message("Subject: x"), DateTest.ENV);
        assertEquals(List.of("line 4: this server has no frobnitz"), o.errors());
        assertEquals(List.of(SampleMessage.keep()), o.actions());
        assertTrue(o.implicitKeep());
    }

    @Test
    void ihaveAndErrorNeedTheirRequire() {
        assertTrue(assertThrows(SieveException.class, () -> SieveScript.parse("if ihave \"date\" { }"))
                .getMessage().contains("needs require \"ihave\""));
        assertTrue(assertThrows(SieveException.class, () -> SieveScript.parse("error \"x\";"))
                .getMessage().contains("needs require \"ihave\""));
    }
}

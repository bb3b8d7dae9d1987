package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RFC 6609: include (:personal, :global, :once, :optional), return, global and the "global." namespace. */
class IncludeTest {
    private final Map<String, String> personal = new HashMap<>();
    private final Map<String, String> global = new HashMap<>();
    private final List<String> lookedUp = new ArrayList<>();

    private final SieveAccount account = new SieveAccount() {
        @Override
        public boolean mailboxExists(String name) {
            return false;
        }

        @Override
        public Optional<SieveScript> personalScript(String name) throws SieveException {
            lookedUp.add("personal:" + name);
            return personal.containsKey(name) ? Optional.of(SieveScript.parse(personal.get(name))) : Optional.empty();
        }

        @Override
        public Optional<SieveScript> globalScript(String name) throws SieveException {
            lookedUp.add("global:" + name);
            return global.containsKey(name) ? Optional.of(SieveScript.parse(global.get(name))) : Optional.empty();
        }
    };

    private SieveOutcome run(String script, String subject) {
        try {
            return SieveScript.parse(script).run(SampleMessage.of("Subject: " + subject + "\r\nFrom: x@example.net\r\n", 100,
                    "x@example.net", "me@example.com"), account, SieveEnvironment.local());
        } catch (SieveException e) {
            throw new AssertionError(e);
        }
    }

    private static SieveAction.FileInto fileinto(String mailbox) {
        return new SieveAction.FileInto(mailbox, List.of(), false);
    }

    /** RFC 6609 §5's first example: personal and global scripts of the same name are different scripts. */
    @Test
    void personalAndGlobalScriptsRunInOrderSharingTheActions() {
        personal.put("always_allow", """
                require ["fileinto"];
                if address :is "from" "boss@example.com" { keep; stop; }
                """);
        global.put("spam_tests", """
                require ["reject"];
                if anyof (header :contains "Subject" "$$", header :contains "Subject" "Make money") { reject "No thank you."; }
                """);
        personal.put("spam_tests", """
                require ["fileinto"];
                if header :contains "Subject" "XXXX" { fileinto "spam"; }
                """);
        personal.put("mailing_lists", """
                require ["fileinto"];
                if header :contains "Subject" "[dev]" { fileinto "dev"; }
                """);
        String main = """
                require ["include"];
                include :personal "always_allow";
                include :global "spam_tests";
                include :personal "spam_tests";
                include :personal "mailing_lists";
                """;
        assertEquals(List.of(new SieveAction.Reject("No thank you.", false)), run(main, "Make money fast").actions());
        assertEquals(List.of(fileinto("spam")), run(main, "XXXX").actions());
        assertEquals(List.of(fileinto("dev")), run(main, "[dev] release").actions());
        assertEquals(List.of(keep()), run(main, "hello").actions());
        assertEquals(List.of("personal:always_allow", "global:spam_tests", "personal:spam_tests", "personal:mailing_lists"),
                lookedUp.subList(0, 4));
        assertEquals(List.of(keep()), run("require \"include\"; include \"always_allow\";", "x").actions(),
                ":personal is the default");
    }

    /** RFC 6609 §5's variables example: global variables are shared, others stay each script's own. */
    @Test
    void globalVariablesAreSharedWithIncludedScripts() {
        personal.put("subject_tests", """
                require ["include", "variables", "fileinto"];
                global ["test", "test_mailbox"];
                set "local" "not seen by the includer";
                if header :contains "Subject" "${test}" {
                    set "test_mailbox" "spam-${test}";
                }
                """);
        String main = """
                require ["variables", "include", "fileinto"];
                global "test";
                global "test_mailbox";
                set "test" "$$";
                include "subject_tests";
                set "test" "Make money";
                include "subject_tests";
                if string :is "${test_mailbox}" "" { stop; }
                if string :is "${local}" "" { fileinto "${test_mailbox}"; }
                """;
        assertEquals(List.of(fileinto("spam-Make money")), run(main, "Make money now").actions());
        assertEquals(List.of(fileinto("spam-$$")), run(main, "win $$").actions());
    }

    /** RFC 6609 §3.5: "global.NAME" reaches a global variable without a global command. */
    @Test
    void theGlobalNamespaceReachesGlobalsWithoutADeclaration() {
        personal.put("flag", "require [\"variables\", \"include\"]; set \"global.i_am_on_vacation\" \"1\";");
        assertEquals(List.of(new SieveAction.Vacation("It's true, I am on vacation.", Optional.empty(), Optional.empty(),
                List.of(), Interpreter.DEFAULT_PERIOD, false, "h"), keep()), run("""
                require ["variables", "include", "vacation"];
                include "flag";
                if string :is "${global.i_am_on_vacation}" "1" { vacation :handle "h" "It's true, I am on vacation."; }
                """, "x").actions());
        assertEquals(List.of(keep()), run("""
                require ["variables", "include", "fileinto"];
                include "flag";
                if string :is "${i_am_on_vacation}" "1" { fileinto "leak"; }
                """, "x").actions(), "not declared global here: the script's own, unset variable");
    }

    @Test
    void returnEndsTheIncludedScriptOnlyAndIsAStopAtTheTop() {
        personal.put("early", """
                require ["include", "fileinto"];
                fileinto "first";
                return;
                fileinto "never";
                """);
        assertEquals(List.of(fileinto("first"), fileinto("after")),
                run("require [\"include\", \"fileinto\"]; include \"early\"; fileinto \"after\";", "x").actions());
        assertEquals(List.of(keep()), run("require [\"include\", \"fileinto\"]; return; fileinto \"no\";", "x").actions());
    }

    @Test
    void stopInAnIncludedScriptEndsEverything() {
        personal.put("stopper", "require \"fileinto\"; fileinto \"a\"; stop;");
        assertEquals(List.of(fileinto("a")),
                run("require [\"include\", \"fileinto\"]; include \"stopper\"; fileinto \"b\";", "x").actions());
    }

    @Test
    void aMissingScriptIsARuntimeErrorUnlessOptional() {
        SieveOutcome missing = run("require [\"include\", \"fileinto\"];\nfileinto \"a\";\ninclude :global \"nope\";", "x");
        assertTrue(missing.failed());
        assertEquals(List.of(keep()), missing.actions());
        assertEquals(List.of("line 3: included script :global \"nope\" not found"), missing.errors());
        assertEquals(List.of(fileinto("a")),
                run("require [\"include\", \"fileinto\"]; include :optional \"nope\"; fileinto \"a\";", "x").actions());
    }

    /** §3.2: uploading a script whose personal includes do not exist yet is no error; only running it. */
    @Test
    void existenceIsNotCheckedWhenTheScriptIsParsed() throws SieveException {
        SieveScript.parse("require \"include\"; include :personal \"written later\"; include :global \"site\";");
    }

    @Test
    void loopsAreRuntimeErrorsAndOnceBreaksThem() {
        personal.put("a", "require [\"include\", \"fileinto\"];\nfileinto \"in-a\";\ninclude \"b\";");
        personal.put("b", "require \"include\";\ninclude \"a\";");
        SieveOutcome loop = run("require \"include\"; include \"a\";", "x");
        assertEquals(List.of(keep()), loop.actions());
        assertEquals(List.of("line 1: in included script :personal \"a\", line 3: in included script :personal \"b\", line 2:"
                + " include :personal \"a\" includes itself (a loop of includes)"), loop.errors());
        personal.put("b", "require \"include\";\ninclude :once \"a\";");
        assertEquals(List.of(fileinto("in-a")), run("require \"include\"; include :once \"a\";", "x").actions());
        personal.put("c", "require [\"include\", \"imap4flags\"]; addflag \"x\";");
        lookedUp.clear();
        run("require \"include\"; include :once \"c\"; include :once \"c\"; include \"c\";", "x");
        assertEquals(List.of("personal:c", "personal:c"), lookedUp, ":once skips the second; a plain include runs again");
    }

    /** The account's active script, run by its name: including that name from within is including itself. */
    @Test
    void theActiveScriptIncludingItselfByNameIsALoopAndOnceSkipsIt() {
        String main = "require [\"include\", \"fileinto\"];\nfileinto \"in-main\";\ninclude \"main\";";
        personal.put("main", main);
        AdminScripts none = AdminScripts.NONE;
        SieveMessage m = SampleMessage.of("Subject: x\r\n", 100, "x@example.net", "me@example.com");
        SieveOutcome loop;
        try {
            loop = none.run(Optional.of(SieveScript.parse(main)), Optional.of("main"), m, account, SieveEnvironment.local());
        } catch (SieveException e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(keep()), loop.actions());
        assertEquals(List.of("line 3: include :personal \"main\" includes itself (a loop of includes)"), loop.errors(),
                "caught at once, not after running it a second time");
        String once = "require [\"include\", \"fileinto\"];\nfileinto \"in-main\";\ninclude :once \"main\";";
        personal.put("main", once);
        lookedUp.clear();
        SieveOutcome skipped;
        try {
            skipped = none.run(Optional.of(SieveScript.parse(once)), Optional.of("main"), m, account, SieveEnvironment.local());
        } catch (SieveException e) {
            throw new AssertionError(e);
        }
        assertEquals(List.of(fileinto("in-main")), skipped.actions());
        assertEquals(List.of(), lookedUp, ":once: the running script counts as included");
    }

    @Test
    void includesAreBoundedInDepthAndNumber() {
        for (int i = 0; i < 12; i++) {
            personal.put("s" + i, "require \"include\"; include \"s" + (i + 1) + "\";");
        }
        personal.put("s12", "keep;");
        SieveOutcome deep = run("require \"include\"; include \"s0\";", "x");
        assertTrue(deep.failed());
        assertTrue(deep.errors().getFirst().endsWith("includes nest deeper than " + Interpreter.MAX_INCLUDE_DEPTH + " levels"),
                deep.errors().toString());
        personal.put("leaf", "keep;");
        StringBuilder many = new StringBuilder("require \"include\";\n");
        for (int i = 0; i <= Interpreter.MAX_INCLUDES; i++) {
            many.append("include \"leaf\";\n");
        }
        SieveOutcome o = run(many.toString(), "x");
        assertEquals(List.of("line " + (Interpreter.MAX_INCLUDES + 2) + ": more than " + Interpreter.MAX_INCLUDES
                + " includes in one run"), o.errors());
    }

    @Test
    void anIncludedScriptThatDoesNotCompileFailsTheRun() {
        personal.put("broken", "fileinto \"x\";");
        SieveOutcome o = run("require \"include\";\ninclude \"broken\";", "x");
        assertEquals(List.of("line 2: included script :personal \"broken\" does not compile: line 1: fileinto needs require"
                + " \"fileinto\"; at the top of the script"), o.errors());
    }

    @Test
    void parseChecks() {
        assertThrows(SieveException.class, () -> SieveScript.parse("include \"x\";"), "needs require include");
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"include\"; include :personal :global \"x\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"include\"; include \"\";"));
        SieveException noVariables = assertThrows(SieveException.class,
                () -> SieveScript.parse("require \"include\"; global \"x\";"));
        assertTrue(noVariables.getMessage().contains("require \"variables\""), noVariables.getMessage());
        assertThrows(SieveException.class, () -> SieveScript.parse("require [\"include\", \"variables\"]; global \"a-b\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"variables\"; set \"global.x\" \"1\";"),
                "the global namespace comes with include");
        assertFalse(SampleMessage.run("require [\"include\", \"variables\"]; set \"global.x\" \"1\";").failed());
    }
}

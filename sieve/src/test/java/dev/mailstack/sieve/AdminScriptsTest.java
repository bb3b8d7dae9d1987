package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The administrator's before- and after-scripts around the user's, as Pigeonhole's sieve_before/sieve_after. */
class AdminScriptsTest {
    private static final String SPAM = """
            require "fileinto";
            if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; }
            """;
    private static final SieveMessage SPAM_MAIL = SampleMessage.of("X-Spam-Flag: YES\r\nSubject: cheap\r\n", 100,
            "x@example.net", "me@example.com");
    private static final SieveMessage HAM_MAIL = SampleMessage.of("Subject: lunch\r\nList-Id: <dev.example.org>\r\n", 100,
            "x@example.net", "me@example.com");

    private static SieveScript script(String text) {
        try {
            return SieveScript.parse(text);
        } catch (SieveException e) {
            throw new AssertionError(e);
        }
    }

    private static SieveOutcome run(AdminScripts admin, String personal, SieveMessage message) {
        return admin.run(Optional.ofNullable(personal).map(AdminScriptsTest::script), message, name -> false,
                SieveEnvironment.local());
    }

    private static AdminScripts before(String... texts) {
        return new AdminScripts(List.of(texts).stream().map(AdminScriptsTest::script).toList(), List.of());
    }

    private static AdminScripts after(String... texts) {
        return new AdminScripts(List.of(), List.of(texts).stream().map(AdminScriptsTest::script).toList());
    }

    private static SieveAction.FileInto fileinto(String mailbox) {
        return new SieveAction.FileInto(mailbox, List.of(), false);
    }

    /** Pigeonhole: the next script runs only while the implicit keep holds, so a before-script's fileinto ends the sequence. */
    @Test
    void aBeforeScriptThatFilesTheMessageEndsTheSequenceSoTheUsersScriptCannotUndoIt() {
        String user = "require [\"fileinto\", \"copy\"]; fileinto :copy \"Everything\"; keep;";
        assertEquals(List.of(fileinto("Junk")), run(before(SPAM), user, SPAM_MAIL).actions());
        SieveOutcome ham = run(before(SPAM), user, HAM_MAIL);
        assertEquals(List.of(fileinto("Everything"), keep()), ham.actions());
        assertFalse(ham.implicitKeep());
    }

    /** stop ends only the script it is in: an allow-list rule that stops leaves the user's filters to run. */
    @Test
    void stopInABeforeScriptEndsOnlyThatScript() {
        AdminScripts allow = before("if header :contains \"subject\" \"lunch\" { stop; } discard;");
        assertEquals(List.of(fileinto("Mine")), run(allow, "require \"fileinto\"; fileinto \"Mine\";", HAM_MAIL).actions());
        assertEquals(List.of(), run(allow, "require \"fileinto\"; fileinto \"Mine\";", SPAM_MAIL).actions(),
                "discarded by the before-script: the user's does not run");
    }

    @Test
    void accountsWithoutAScriptStillGetTheAdministratorsScripts() {
        assertEquals(List.of(fileinto("Junk")), run(before(SPAM), null, SPAM_MAIL).actions());
        assertEquals(List.of(keep()), run(before(SPAM), null, HAM_MAIL).actions());
        assertTrue(run(before(SPAM), null, HAM_MAIL).implicitKeep());
    }

    @Test
    void theScriptsShareOneActionListAndOneImplicitKeep() {
        // a before-script's :copy leaves the keep; the user's discard cancels it for the whole execution
        SieveOutcome o = run(before("require [\"fileinto\", \"copy\"]; fileinto :copy \"Archive\";"), "discard;", HAM_MAIL);
        assertEquals(List.of(fileinto("Archive")), o.actions());
        // one fileinto to one mailbox from two scripts is one action (RFC 5228 §2.10.3)
        assertEquals(List.of(fileinto("Lists")), run(before("require \"fileinto\"; fileinto \"Lists\";"),
                "require \"fileinto\"; fileinto \"Lists\";", HAM_MAIL).actions());
    }

    @Test
    void aBeforeScriptsFlagsMarkTheUsersImplicitKeep() {
        assertEquals(List.of(keep("$Spam")), run(before("""
                require "imap4flags";
                if header :is "X-Spam-Flag" "YES" { addflag "$Spam"; }
                """), "require \"imap4flags\"; if hasflag \"$Other\" { discard; }", SPAM_MAIL).actions());
    }

    @Test
    void variablesAreEachScriptsOwn() {
        assertEquals(List.of(keep()), run(before("require \"variables\"; set \"box\" \"Junk\";"),
                "require [\"fileinto\", \"variables\"]; if string :is \"${box}\" \"Junk\" { fileinto \"Junk\"; }",
                SPAM_MAIL).actions());
    }

    @Test
    void afterScriptsRunOnlyWhileTheImplicitKeepIsInEffect() {
        AdminScripts admin = after("require \"fileinto\"; if header :contains \"list-id\" \"dev\" { fileinto \"Dev\"; }");
        assertEquals(List.of(keep()), run(admin, "keep;", HAM_MAIL).actions(),
                "an explicit keep cancels the implicit keep, so the after-script does not run");
        assertEquals(List.of(), run(admin, "discard;", HAM_MAIL).actions());
    }

    @Test
    void afterScriptsRunWhenTheUsersScriptLeftTheKeepOrStopped() {
        AdminScripts admin = after("require \"fileinto\"; if header :contains \"list-id\" \"dev\" { fileinto \"Dev\"; }");
        assertEquals(List.of(fileinto("Dev")), run(admin, "if false { discard; }", HAM_MAIL).actions());
        assertEquals(List.of(fileinto("Dev")), run(admin, null, HAM_MAIL).actions());
        assertEquals(List.of(fileinto("Dev")), run(admin, "stop;", HAM_MAIL).actions(),
                "stop ends only the user's script: the keep still holds");
        assertEquals(List.of(new SieveAction.FileInto("Mine", List.of(), false)),
                run(admin, "require \"fileinto\"; fileinto \"Mine\";", HAM_MAIL).actions());
    }

    @Test
    void aRuntimeErrorKeepsTheEarlierScriptsActionsDropsItsOwnAndAddsTheImplicitKeep() {
        AdminScripts admin = new AdminScripts(List.of(script("require [\"fileinto\", \"copy\"]; fileinto :copy \"Archive\";")),
                List.of(script("require \"fileinto\"; fileinto \"Never\";")));
        SieveOutcome o = run(admin, "require [\"fileinto\", \"ihave\"];\nfileinto \"Dropped\";\nerror \"broken\";", HAM_MAIL);
        assertEquals(List.of(fileinto("Archive"), keep()), o.actions());
        assertEquals(List.of("line 3: broken"), o.errors(), "the user's own script: its errors read as before");
        SieveOutcome inBefore = run(before("require \"ihave\";\nerror \"admin\";"), "discard;", HAM_MAIL);
        assertEquals(List.of(keep()), inBefore.actions());
        assertEquals(List.of("sieve.before script 1, line 2: admin"), inBefore.errors());
        AdminScripts fromFiles = new AdminScripts(List.of(), List.of(script("# nothing to do"), parse("require \"ihave\";\nerror \"late\";",
                "/etc/mailstack/after.sieve")));
        SieveOutcome inAfterFile = run(fromFiles, "# the user's script leaves the implicit keep", HAM_MAIL);
        assertEquals(List.of("sieve.after /etc/mailstack/after.sieve, line 2: late"), inAfterFile.errors(),
                "a script read from a file is named by it");
    }

    private static SieveScript parse(String text, String file) {
        try {
            return SieveScript.parse(text, java.util.Optional.of(file));
        } catch (SieveException e) {
            throw new AssertionError(e);
        }
    }
}

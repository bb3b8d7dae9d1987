package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.fileinto;
import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Whole scripts: RFC 5228's examples, the implicit keep, merging of actions, runtime errors and limits. */
class SieveScriptTest {

    /** RFC 5228 §9 (the example script, with its comments, minus nothing). */
    private static final String RFC5228_EXAMPLE = """
            # Example Sieve Filter
            # Declare any optional features or extension used by the script
            require ["fileinto"];

            # Handle messages from known mailing lists
            # Move messages from IETF filter discussion list to filter mailbox
            if header :is "Sender" "owner-ietf-mta-filters@imc.org"
                    {
                    fileinto "filter";  # move to "filter" mailbox
                    }
            #
            # Keep all messages to or from people in my company
            #
            elsif address :DOMAIN :is ["From", "To"] "example.com"
                    {
                    keep;               # keep in "In" mailbox
                    }

            #
            # Try and catch unsolicited email.  If a message is not to me,
            # or it contains a subject known to be used by spammers, reject it.
            # Note that this won't catch mailing lists, so put this rule at the
            # bottom.
            #
            elsif anyof (NOT address :all :contains
                           ["To", "Cc", "Bcc"] "me@example.com",
                         header :matches "subject"
                           ["*make*money*fast*", "*university*dipl*mas*"])
                    {
                    fileinto "spam";   # move to "spam" mailbox
                    }
            else
                    {
                    # Move all other (non-company) mail to "personal"
                    # mailbox.
                    fileinto "personal";
                    }
            """;

    private static SieveMessage mail(String header) {
        return SampleMessage.of(header, 1000, "sender@elsewhere.test", "me@example.com");
    }

    /**
     * A script whose matching would take minutes (100 keys of 10,000 characters against 300
     * Received fields, repeated names counting once) ends in a runtime error, hence the implicit
     * keep, within the run's budget of comparisons.
     */
    @Test
    void matchingWorkIsBoundedPerRun() {
        String key = "\"" + "x".repeat(10_000) + "\"";
        String keys = String.join(", ", java.util.Collections.nCopies(100, key));
        String names = String.join(", ", java.util.Collections.nCopies(1000, "\"Received\""));
        String header = ("Received: from " + "a".repeat(200) + "\n").repeat(300);
        long start = System.nanoTime();
        SieveOutcome o = SampleMessage.run("require \"fileinto\";\nif header :contains [" + names + "] [" + keys
                + "] { fileinto \"x\"; }", mail(header));
        assertTrue(o.failed(), "" + o.errors());
        assertTrue(o.errors().getFirst().startsWith("line 2: too much matching"), o.errors().getFirst());
        assertEquals(List.of(keep()), o.actions());
        assertTrue(System.nanoTime() - start < 5_000_000_000L, "bounded, not minutes");
    }

    @Test
    void rfc5228ExampleFilesListMail() {
        SieveOutcome o = SampleMessage.run(RFC5228_EXAMPLE,
                mail("Sender: owner-ietf-mta-filters@imc.org\nFrom: x@y.test\nTo: me@example.com\n"));
        assertEquals(List.of(fileinto("filter")), o.actions());
        assertFalse(o.implicitKeep());
    }

    @Test
    void rfc5228ExampleKeepsCompanyMail() {
        SieveOutcome o = SampleMessage.run(RFC5228_EXAMPLE, mail("From: Boss <boss@EXAMPLE.com>\nTo: me@example.com\n"));
        assertEquals(List.of(keep()), o.actions());
        assertFalse(o.implicitKeep());
    }

    @Test
    void rfc5228ExampleCatchesSpam() {
        assertEquals(List.of(fileinto("spam")), SampleMessage.run(RFC5228_EXAMPLE,
                mail("From: a@b.test\nTo: someone@else.test\nSubject: hi\n")).actions());
        assertEquals(List.of(fileinto("spam")), SampleMessage.run(RFC5228_EXAMPLE,
                mail("From: a@b.test\nTo: list@other.test\nCc: me@example.com\nSubject: Make lots of MONEY very fast\n")).actions());
    }

    @Test
    void rfc5228ExampleFilesTheRestAsPersonal() {
        assertEquals(List.of(fileinto("personal")), SampleMessage.run(RFC5228_EXAMPLE,
                mail("From: friend@b.test\nCc: me@example.com\nSubject: dinner\n")).actions());
    }

    /** RFC 5228 §3.1's if/elsif/else example. */
    @Test
    void rfc5228IfElsifElseExample() {
        String script = """
                require "fileinto";
                if header :contains "from" "coyote" {
                    discard;
                } elsif header :contains ["subject"] ["$$$"] {
                    discard;
                } else {
                    fileinto "INBOX";
                }
                """;
        SieveOutcome coyote = SampleMessage.run(script, mail("From: Wile E. Coyote <coyote@acme.test>\n"));
        assertEquals(List.of(), coyote.actions());
        SieveOutcome money = SampleMessage.run(script, mail("From: x@y.test\nSubject: $$$ now\n"));
        assertEquals(List.of(), money.actions());
        SieveOutcome other = SampleMessage.run(script, mail("From: x@y.test\nSubject: hello\n"));
        assertEquals(List.of(keep()), other.actions());
        assertFalse(other.implicitKeep(), "fileinto \"INBOX\" is an explicit keep");
    }

    /** RFC 3501 §5.1: INBOX in ASCII case only, as the store matches it; a Turkish "ınbox" is a mailbox of its own. */
    @Test
    void fileintoInboxIsAKeepInAsciiCaseOnly() {
        SieveOutcome ascii = SampleMessage.run("require \"fileinto\"; fileinto \"inBox\";", mail("From: x@y.test\n"));
        assertEquals(List.of(keep()), ascii.actions());
        SieveOutcome dotless = SampleMessage.run("require \"fileinto\"; fileinto \"\u0131nbox\";", mail("From: x@y.test\n"));
        assertEquals(List.of(fileinto("\u0131nbox")), dotless.actions());
    }

    /** RFC 5228 §3.3's stop example: stop ends the script, the implicit keep still happens. */
    @Test
    void stopEndsTheScriptButKeepsImplicitly() {
        SieveOutcome o = SampleMessage.run("require \"fileinto\"; if true { stop; } fileinto \"never\";");
        assertEquals(List.of(keep()), o.actions());
        assertTrue(o.implicitKeep());
    }

    @Test
    void stopInsideNestedBlocksStopsEverything() {
        assertEquals(List.of(keep()), SampleMessage.actions(
                "require \"fileinto\"; if true { if true { stop; } fileinto \"a\"; } fileinto \"b\";"));
    }

    @Test
    void discardCancelsTheImplicitKeep() {
        SieveOutcome o = SampleMessage.run("discard;");
        assertEquals(List.of(), o.actions());
        assertFalse(o.implicitKeep());
    }

    @Test
    void fileintoAndRedirectCancelTheImplicitKeep() {
        assertEquals(List.of(fileinto("a")), SampleMessage.actions("require \"fileinto\"; fileinto \"a\";"));
        assertEquals(List.of(new SieveAction.Redirect("x@example.net", false)),
                SampleMessage.actions("redirect \"x@example.net\";"));
    }

    @Test
    void copyVariantsLeaveTheImplicitKeep() {
        SieveOutcome o = SampleMessage.run("require [\"fileinto\", \"copy\"]; fileinto :copy \"a\"; redirect :copy \"x@example.net\";");
        assertEquals(List.of(fileinto("a"), new SieveAction.Redirect("x@example.net", true), keep()), o.actions());
        assertTrue(o.implicitKeep());
    }

    @Test
    void copyThenPlainRedirectCancelsTheImplicitKeep() {
        SieveOutcome o = SampleMessage.run("require \"copy\"; redirect :copy \"x@example.net\"; redirect \"y@example.net\";");
        assertEquals(List.of(new SieveAction.Redirect("x@example.net", true), new SieveAction.Redirect("y@example.net", false)),
                o.actions());
        assertFalse(o.implicitKeep());
    }

    @Test
    void vacationDoesNotCancelTheImplicitKeep() {
        SieveOutcome o = SampleMessage.run("require \"vacation\"; vacation \"away\";");
        assertEquals(2, o.actions().size());
        assertEquals(keep(), o.actions().get(1));
        assertTrue(o.implicitKeep());
    }

    @Test
    void duplicateKeepsAndFileintosCollapse() {
        // RFC 5228 §2.10.3: keep and fileinto "INBOX" deliver once; the same mailbox twice is one action
        List<SieveAction> a = SampleMessage.actions(
                "require \"fileinto\"; keep; fileinto \"inbox\"; fileinto \"a/b\"; keep; fileinto \"a/b\";");
        assertEquals(List.of(keep(), fileinto("a/b")), a);
    }

    @Test
    void duplicateRedirectsCollapse() {
        assertEquals(List.of(new SieveAction.Redirect("x@example.net", false)),
                SampleMessage.actions("redirect \"x@example.net\"; redirect \"X@Example.net\";"));
    }

    @Test
    void redirectAddressIsNormalised() {
        assertEquals(List.of(new SieveAction.Redirect("x@example.net", false)),
                SampleMessage.actions("redirect \"Someone <x@example.net>\";"));
    }

    @Test
    void fileintoCreateFromMailbox() {
        assertEquals(List.of(new SieveAction.FileInto("Lists/sieve", List.of(), true)),
                SampleMessage.actions("require [\"fileinto\", \"mailbox\"]; fileinto :create \"Lists/sieve\";"));
    }

    @Test
    void mailboxexistsAsksTheCaller() {
        SieveMessage m = SampleMessage.basic();
        String script = "require [\"fileinto\", \"mailbox\"];"
                + " if mailboxexists [\"Lists\", \"Lists/sieve\"] { fileinto \"Lists/sieve\"; } else { discard; }";
        assertEquals(List.of(fileinto("Lists/sieve")),
                SampleMessage.run(script, m, name -> name.equals("Lists") || name.equals("Lists/sieve")).actions());
        assertEquals(List.of(), SampleMessage.run(script, m, name -> name.equals("Lists")).actions());
        assertTrue(SampleMessage.holds("mailboxexists \"INBOX\"", "mailbox"));
    }

    @Test
    void tooManyRedirectsIsARuntimeErrorWithImplicitKeep() {
        StringBuilder s = new StringBuilder("require \"fileinto\";\nfileinto \"x\";\n");
        for (int i = 0; i <= ActionList.MAX_REDIRECTS; i++) {
            s.append("redirect \"u").append(i).append("@example.net\";\n");
        }
        SieveOutcome o = SampleMessage.run(s.toString());
        assertEquals(List.of(keep()), o.actions(), "after a runtime error only the implicit keep is done");
        assertTrue(o.implicitKeep());
        assertEquals(List.of("line " + (ActionList.MAX_REDIRECTS + 3) + ": more than " + ActionList.MAX_REDIRECTS
                + " redirects in one run"), o.errors());
    }

    @Test
    void fourRedirectsAreAllowed() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < ActionList.MAX_REDIRECTS; i++) {
            s.append("redirect \"u").append(i).append("@example.net\";\n");
        }
        SieveOutcome o = SampleMessage.run(s.toString());
        assertFalse(o.failed());
        assertEquals(ActionList.MAX_REDIRECTS, o.actions().size());
    }

    @Test
    void tooManyActionsIsARuntimeError() {
        StringBuilder s = new StringBuilder("require \"fileinto\";\n");
        for (int i = 0; i < ActionList.MAX_ACTIONS; i++) {
            s.append("fileinto \"f").append(i).append("\";\n");
        }
        assertFalse(SampleMessage.run(s.toString()).failed(), "exactly the limit is fine");
        s.append("fileinto \"one-too-many\";\n");
        SieveOutcome o = SampleMessage.run(s.toString());
        assertEquals(List.of(keep()), o.actions());
        assertEquals(List.of("line " + (ActionList.MAX_ACTIONS + 2) + ": more than " + ActionList.MAX_ACTIONS
                + " actions in one run"), o.errors());
    }

    @Test
    void repeatedActionsToOneMailboxDoNotCountAgainstTheLimit() {
        String script = "require \"fileinto\";\n" + "fileinto \"same\";\n".repeat(100);
        assertEquals(List.of(fileinto("same")), SampleMessage.actions(script));
    }

    @Test
    void badRedirectAddressFromAVariableIsARuntimeError() {
        SieveOutcome o = SampleMessage.run("require \"variables\";\nset \"to\" \"no address\";\nredirect \"${to}\";");
        assertEquals(List.of("line 3: redirect needs one address like user@example.org, not \"no address\""), o.errors());
        assertEquals(List.of(keep()), o.actions());
    }

    @Test
    void badMailboxNamesAreRuntimeErrors() {
        for (String name : new String[] {"", "/a", "a/", "a//b", "a\tb"}) {
            SieveOutcome o = SampleMessage.run("require \"fileinto\";\nfileinto \"" + name + "\";");
            assertTrue(o.failed(), name);
            assertTrue(o.errors().get(0).startsWith("line 2: "), o.errors().toString());
            assertEquals(List.of(keep()), o.actions());
        }
        assertEquals(List.of(fileinto("Archiv/2026/发票")), SampleMessage.actions("require \"fileinto\"; fileinto \"Archiv/2026/发票\";"));
    }

    @Test
    void aScriptRunsManyTimesWithoutSharedState() throws Exception {
        SieveScript script = SieveScript.parse("require [\"variables\", \"fileinto\"];"
                + " if header :matches \"subject\" \"*\" { set \"s\" \"${1}\"; } fileinto \"${s}\";");
        SieveOutcome a = script.run(SampleMessage.of("Subject: one\n", 1, "", "u@x.test"), n -> false);
        SieveOutcome b = script.run(SampleMessage.of("Subject: two\n", 1, "", "u@x.test"), n -> false);
        assertEquals(List.of(fileinto("one")), a.actions());
        assertEquals(List.of(fileinto("two")), b.actions());
    }
}

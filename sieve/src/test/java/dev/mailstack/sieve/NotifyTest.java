package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RFC 5435 (enotify) with RFC 5436's mailto method: the notify action, its tests and :encodeurl. */
class NotifyTest {
    private static SieveMessage boss() {
        return SampleMessage.of("From: Big Boss <boss@example.org>\nTo: sievemailinglist@example.org\nSubject: Raise\n",
                400, "boss@example.org", "me@example.com");
    }

    private static List<SieveAction.Notify> notifications(SieveOutcome o) {
        return o.actions().stream().filter(a -> a instanceof SieveAction.Notify).map(a -> (SieveAction.Notify) a).toList();
    }

    private static SieveException compileError(String script) {
        return assertThrows(SieveException.class, () -> SieveScript.parse(script));
    }

    @Test
    void rfc5435ExampleNotifiesWithImportanceAndMessageAndKeepsTheMessage() {
        SieveOutcome o = SampleMessage.run("""
                require ["enotify", "fileinto", "variables"];
                if header :contains "from" "boss@example.org" {
                    notify :importance "1"
                        :message "This is probably very important"
                        "mailto:alm@example.com";
                    # Don't send any further notifications
                    stop;
                }
                """, boss());
        assertEquals(List.of(new SieveAction.Notify("mailto:alm@example.com", Optional.empty(), 1, List.of(),
                Optional.of("This is probably very important")), keep()), o.actions());
        assertTrue(o.implicitKeep(), "RFC 5435 §3: notify does not cancel the implicit keep");
    }

    @Test
    void rfc5435ListExampleBuildsTheMessageFromVariables() {
        SieveOutcome o = SampleMessage.run("""
                require ["enotify", "fileinto", "variables"];
                if header :contains "to" "sievemailinglist@example.org" {
                    if header :matches "Subject" "*" { set "subject" "${1}"; }
                    if header :matches "From" "*" { set "from" "${1}"; }
                    notify :importance "3" :message "[SIEVE] ${from}: ${subject}" "mailto:alm@example.com";
                    fileinto "INBOX.sieve";
                }
                """, boss());
        SieveAction.Notify n = notifications(o).getFirst();
        assertEquals(3, n.importance());
        assertEquals(Optional.of("[SIEVE] Big Boss <boss@example.org>: Raise"), n.message());
        assertEquals(List.of(n, new SieveAction.FileInto("INBOX.sieve", List.of(), false)), o.actions());
    }

    @Test
    void importanceDefaultsToNormalAndFromAndOptionsAreCarried() {
        SieveAction.Notify n = notifications(SampleMessage.run("""
                require "enotify";
                notify :from "Me <me@example.com>" :options ["a", "b"] "mailto:alm@example.com?subject=New%20mail";
                """, boss())).getFirst();
        assertEquals(2, n.importance());
        assertEquals(Optional.of("Me <me@example.com>"), n.from());
        assertEquals(List.of("a", "b"), n.options());
        assertEquals(Optional.empty(), n.message());
    }

    @Test
    void aLiteralUnsupportedMethodIsACompileErrorAndAVariableOneARuntimeError() {
        assertTrue(compileError("require \"enotify\"; notify \"xmpp:tim@example.com?message\";").getMessage()
                .contains("not supported"), "RFC 5435 §3.8");
        assertTrue(compileError("require \"enotify\"; notify \"mailto:not an address\";").getMessage().contains("mailto"));
        SieveOutcome o = SampleMessage.run("""
                require ["enotify", "variables"];
                set "method" "xmpp:tim@example.com";
                notify "${method}";
                """, boss());
        assertTrue(o.failed());
        assertTrue(o.errors().getFirst().contains("not supported"), o.errors().toString());
        assertEquals(List.of(keep()), o.actions(), "RFC 5228 §2.10.6: the implicit keep alone");
    }

    @Test
    void notifyNeedsTheExtensionAndWellFormedArguments() {
        assertTrue(compileError("notify \"mailto:alm@example.com\";").getMessage().contains("enotify"));
        assertTrue(compileError("require \"enotify\"; notify :importance \"4\" \"mailto:alm@example.com\";").getMessage()
                .contains(":importance"));
        assertTrue(compileError("require \"enotify\"; notify :from \"nobody\" \"mailto:alm@example.com\";").getMessage()
                .contains(":from"));
        assertTrue(compileError("require \"enotify\"; notify;").getMessage().length() > 0);
        SieveOutcome o = SampleMessage.run("""
                require ["enotify", "variables"];
                set "i" "high";
                notify :importance "${i}" "mailto:alm@example.com";
                """, boss());
        assertTrue(o.failed(), "a bad :importance through a variable fails at run time");
    }

    @Test
    void notificationsWithTheSameMethodAndOptionsAreOneAndTheirNumberIsBounded() {
        SieveOutcome o = SampleMessage.run("""
                require "enotify";
                notify :message "first" "mailto:alm@example.com";
                notify :message "second" "mailto:alm@example.com";
                notify :options "x" "mailto:alm@example.com";
                """, boss());
        List<SieveAction.Notify> n = notifications(o);
        assertEquals(2, n.size());
        assertEquals(Optional.of("first"), n.getFirst().message());
        StringBuilder many = new StringBuilder("require \"enotify\";\n");
        for (int i = 0; i <= ActionList.MAX_NOTIFICATIONS; i++) {
            many.append("notify \"mailto:u").append(i).append("@example.com\";\n");
        }
        SieveOutcome tooMany = SampleMessage.run(many.toString(), boss());
        assertTrue(tooMany.failed());
        assertTrue(tooMany.errors().getFirst().contains("notifications"), tooMany.errors().toString());
    }

    @Test
    void notifyGoesWithRejectAndDiscard() {
        SieveOutcome o = SampleMessage.run("""
                require ["enotify", "reject"];
                notify "mailto:alm@example.com";
                reject "no";
                """, boss());
        assertFalse(o.failed(), o.errors().toString());
        assertEquals(2, o.actions().size());
        SieveOutcome d = SampleMessage.run("require \"enotify\"; notify \"mailto:alm@example.com\"; discard;", boss());
        assertEquals(1, notifications(d).size());
        assertFalse(d.implicitKeep());
    }

    @Test
    void validNotifyMethodIsTrueOnlyForMailtoUrisWeCanSendTo() {
        assertTrue(SampleMessage.holds("valid_notify_method \"mailto:alm@example.com\"", "enotify"));
        assertTrue(SampleMessage.holds("valid_notify_method [\"mailto:a@example.com,b@example.com\", "
                + "\"mailto:?to=c@example.com&subject=hi\"]", "enotify"));
        assertFalse(SampleMessage.holds("valid_notify_method [\"mailto:alm@example.com\", \"xmpp:tim@example.com\"]", "enotify"));
        assertFalse(SampleMessage.holds("valid_notify_method \"mailto:\"", "enotify"), "no recipient");
        assertFalse(SampleMessage.holds("valid_notify_method \"mailto:alm@example.com?subject=%zz\"", "enotify"));
        assertFalse(SampleMessage.holds("valid_notify_method \"mailto:alm@example.com?subject\"", "enotify"));
        StringBuilder nine = new StringBuilder("mailto:");
        for (int i = 0; i <= MailtoUri.MAX_RECIPIENTS; i++) {
            nine.append(i == 0 ? "" : ",").append("u").append(i).append("@example.com");
        }
        assertFalse(SampleMessage.holds("valid_notify_method \"" + nine + "\"", "enotify"));
    }

    @Test
    void mailtoIsOnlineMaybe() {
        assertTrue(SampleMessage.holds("notify_method_capability \"mailto:alm@example.com\" \"online\" \"maybe\"", "enotify"),
                "RFC 5436 §2.2");
        assertTrue(SampleMessage.holds("notify_method_capability \"mailto:alm@example.com\" \"Online\" [\"yes\", \"maybe\"]",
                "enotify"));
        assertFalse(SampleMessage.holds("notify_method_capability \"mailto:alm@example.com\" \"online\" \"yes\"", "enotify"));
        assertFalse(SampleMessage.holds("notify_method_capability \"xmpp:tim@example.com\" \"online\" \"maybe\"", "enotify"));
        assertFalse(SampleMessage.holds("notify_method_capability \"mailto:alm@example.com\" \"colour\" \"maybe\"", "enotify"));
        assertTrue(SampleMessage.holds("notify_method_capability :matches \"mailto:alm@example.com\" \"online\" \"may*\"",
                "enotify"));
    }

    @Test
    void encodeurlPercentEncodesAllButUnreservedAtItsPrecedence() {
        // RFC 5435 §4.1's example: a value cannot add fields of its own to the URI
        String script = """
                require ["enotify", "variables", "fileinto"];
                set :encodeurl "b" "Safe body&evil=evilbody";
                set :upper :encodeurl "u" "ä b";
                set :encodeurl :length "n" "a b";
                set :encodeurl "t" "-._~AZaz09";
                if allof (string :is "${b}" "Safe%20body%26evil%3Devilbody",
                          string :is "${u}" "%C3%84%20B",
                          string :is "${n}" "5",
                          string :is "${t}" "-._~AZaz09") { fileinto "yes"; }
                """;
        assertEquals(List.of(new SieveAction.FileInto("yes", List.of(), false)), SampleMessage.actions(script));
        assertTrue(compileError("require \"variables\"; set :encodeurl \"b\" \"x\";").getMessage().contains("enotify"));
    }

    @Test
    void mailtoUriKeepsAddressesAndSafeFieldsOnly() {
        MailtoUri uri = MailtoUri.parse("mailto:alm%40example.com,b@example.com?cc=c@example.com&bcc=hidden@example.com"
                + "&Subject=%E6%96%B0%E9%82%AE%E4%BB%B6&from=evil@example.net&body=hello%0D%0Athere").orElseThrow();
        assertEquals(List.of("alm@example.com", "b@example.com"), uri.to());
        assertEquals(List.of("c@example.com"), uri.cc());
        assertEquals(Optional.of("新邮件"), uri.field("subject"));
        assertEquals(Optional.of("hello\r\nthere"), uri.field("body"));
        assertEquals(Optional.empty(), uri.field("from"));
        assertEquals(Optional.empty(), uri.field("bcc"));
        assertEquals(Optional.empty(), MailtoUri.parse("mailto:alm@example.com?subject=%C3"), "bad UTF-8");
        assertEquals(Optional.empty(), MailtoUri.parse("MAILTO:a@b.example with space"));
        assertTrue(MailtoUri.parse("MAILTO:alm@example.com").isPresent(), "the scheme is case-insensitive (RFC 3986 §3.1)");
    }
}

package dev.mailstack.sieve;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Predicate;

/** Test fixture: messages built from header text, and a run of a script against them. */
final class SampleMessage {
    static final String BASIC = """
            Return-Path: <alice@example.com>
            From: "Alice Q" <alice+lists@Example.COM>
            To: bob@example.org, "Carol" <carol@example.net>
            Cc: undisclosed-recipients:;
            Subject: Hello
             folded world
            X-Spam-Score: 7
            X-Spam-Score: 12
            List-Id: Sieve users <sieve.lists.example.org>
            """;

    private SampleMessage() {
    }

    /** Header lines given with LF are sent as CRLF, as stored messages have them. */
    static SieveMessage of(String header, long size, String from, String to) {
        byte[] raw = (header.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.UTF_8);
        return SieveMessage.of(raw, size, from, to);
    }

    static SieveMessage basic() {
        return of(BASIC, 2048, "alice@example.com", "bob+work@example.org");
    }

    static SieveOutcome run(String script, SieveMessage message) {
        return run(script, message, name -> false);
    }

    static SieveOutcome run(String script, SieveMessage message, Predicate<String> mailboxes) {
        try {
            return SieveScript.parse(script).run(message, mailboxes);
        } catch (SieveException e) {
            throw new AssertionError("script should parse: " + e.getMessage(), e);
        }
    }

    static SieveOutcome run(String script) {
        return run(script, basic());
    }

    static List<SieveAction> actions(String script) {
        SieveOutcome o = run(script);
        if (o.failed()) {
            throw new AssertionError("script failed: " + o.errors());
        }
        return o.actions();
    }

    /** Whether a test holds for the message: run inside an if that files into "yes". */
    static boolean holds(SieveMessage message, String test, String... extensions) {
        StringBuilder script = new StringBuilder("require [\"fileinto\"");
        for (String e : extensions) {
            script.append(", \"").append(e).append('"');
        }
        script.append("];\nif ").append(test).append(" { fileinto \"yes\"; }");
        SieveOutcome o = run(script.toString(), message);
        if (o.failed()) {
            throw new AssertionError("script failed: " + o.errors());
        }
        List<SieveAction> a = o.actions();
        return a.equals(List.of(new SieveAction.FileInto("yes", List.of(), false)));
    }

    static boolean holds(String test, String... extensions) {
        return holds(basic(), test, extensions);
    }

    static SieveAction.Keep keep(String... flags) {
        return new SieveAction.Keep(List.of(flags));
    }

    static SieveAction.FileInto fileinto(String mailbox, String... flags) {
        return new SieveAction.FileInto(mailbox, List.of(flags), false);
    }
}

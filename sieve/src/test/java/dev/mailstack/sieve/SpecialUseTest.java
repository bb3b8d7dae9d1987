package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.keep;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** RFC 8579: fileinto :specialuse and specialuse_exists, with the examples of its §5. */
class SpecialUseTest {
    /** The account's mailboxes with special-use attributes: "Spam" is its \Junk. */
    private Map<String, String> attributes = Map.of("Spam", "\\Junk", "Sent Items", "\\Sent");

    private final SieveAccount account = new SieveAccount() {
        @Override
        public boolean mailboxExists(String name) {
            return attributes.containsKey(name) || name.equals("Junk");
        }

        @Override
        public Optional<String> mailboxWithSpecialUse(String attribute) {
            return attributes.entrySet().stream().filter(e -> e.getValue().equalsIgnoreCase(attribute)).map(Map.Entry::getKey)
                    .findFirst();
        }

        @Override
        public boolean hasSpecialUse(String mailbox, String attribute) {
            return attribute.equalsIgnoreCase(attributes.get(mailbox));
        }
    };

    private List<SieveAction> run(String script) {
        try {
            SieveOutcome o = SieveScript.parse(script).run(SampleMessage.basic(), account, SieveEnvironment.local());
            if (o.failed()) {
                throw new AssertionError(o.errors());
            }
            return o.actions();
        } catch (SieveException e) {
            throw new AssertionError(e);
        }
    }

    /** §5: fileinto :specialuse "\\Junk" "Junk" files into the \Junk mailbox, whatever its name. */
    @Test
    void theMailboxWithTheAttributeWinsOverTheName() {
        String script = """
                require ["fileinto", "special-use"];
                fileinto :specialuse "\\\\Junk" "Junk";
                """;
        assertEquals(List.of(new SieveAction.FileInto("Spam", List.of(), false)), run(script));
        attributes = Map.of();
        assertEquals(List.of(new SieveAction.FileInto("Junk", List.of(), false)), run(script), "none has it: the named one");
    }

    /** §5: with :create, a mailbox made because none had the attribute gets it. */
    @Test
    void createMakesTheNamedMailboxWithTheAttribute() {
        attributes = Map.of();
        assertEquals(List.of(new SieveAction.FileInto("Spam", List.of(), true, Optional.of("\\Junk"))), run("""
                require ["fileinto", "special-use", "mailbox"];
                fileinto :specialuse "\\\\Junk" :create "Spam";
                """));
        attributes = Map.of("Junk", "\\Junk");
        assertEquals(List.of(new SieveAction.FileInto("Junk", List.of(), true)), run("""
                require ["fileinto", "special-use", "mailbox"];
                fileinto :specialuse "\\\\junk" :create "Spam";
                """), "one has it (attributes are case-insensitive): nothing to make");
    }

    /** §5's specialuse_exists examples. */
    @Test
    void specialUseExistsWithAndWithoutAMailbox() {
        assertEquals(List.of(new SieveAction.FileInto("yes", List.of(), false)), run("""
                require ["fileinto", "special-use"];
                if specialuse_exists ["\\\\Junk", "\\\\Sent"] { fileinto "yes"; }
                """));
        assertEquals(List.of(keep()), run("""
                require ["fileinto", "special-use"];
                if specialuse_exists ["\\\\Junk", "\\\\Trash"] { fileinto "yes"; }
                """), "no \\Trash");
        assertEquals(List.of(new SieveAction.FileInto("yes", List.of(), false)), run("""
                require ["fileinto", "special-use"];
                if specialuse_exists "Spam" "\\\\Junk" { fileinto "yes"; }
                """));
        assertEquals(List.of(keep()), run("""
                require ["fileinto", "special-use"];
                if specialuse_exists "Junk" "\\\\Junk" { fileinto "yes"; }
                """), "Junk exists but is not the \\Junk mailbox");
    }

    @Test
    void parseChecks() {
        assertThrows(SieveException.class, () -> SieveScript.parse("require \"fileinto\"; fileinto :specialuse \"\\\\Junk\" \"x\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(
                "require [\"fileinto\", \"special-use\"]; fileinto :specialuse \"Junk\" \"x\";"));
        assertThrows(SieveException.class, () -> SieveScript.parse(
                "require [\"special-use\"]; if specialuse_exists \"Junk\" { keep; }"));
        assertThrows(SieveException.class, () -> SieveScript.parse("if specialuse_exists \"\\\\Junk\" { keep; }"));
    }
}

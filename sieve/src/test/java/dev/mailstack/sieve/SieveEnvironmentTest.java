package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 5183: the environment test over the items the delivery side hands in, and our fixed ones. */
class SieveEnvironmentTest {
    private static final String REQUIRE = "require [\"environment\", \"relational\", \"variables\", \"fileinto\"];\n";

    private static List<String> filed(String script, SieveEnvironment env) {
        return DateTest.filed(REQUIRE + script, DateTest.message("Subject: x"), env);
    }

    /** The item's value as :matches "*" captures it, or "none" when the test is false. */
    private static String item(String name, SieveEnvironment env) {
        return filed("if environment :matches \"" + name + "\" \"*\" { fileinto \"${0}\"; } else { fileinto \"none\"; }", env)
                .get(0);
    }

    @ParameterizedTest
    @CsvSource({
        "domain, example.org",
        "host, mx.example.org",
        "location, MDA",
        "name, mailstack",
        "phase, during",
        "version, 0.1.0",
        "remote-ip, 192.0.2.7",
        "Location, MDA",
    })
    void standardItems(String name, String expected) {
        assertEquals(expected, item(name, DateTest.ENV));
    }

    @ParameterizedTest
    @ValueSource(strings = {"remote-host", "x-vendor-item", ""})
    void missingOrUnknownItemMakesTheTestFalse(String name) {
        assertEquals("none", item(name, DateTest.ENV));
        // not even a count of zero: the item is not there at all
        assertEquals(List.of(), filed("if environment :count \"eq\" \"" + name + "\" \"0\" { fileinto \"zero\"; }", DateTest.ENV));
    }

    @Test
    void itemsTheCallerKnowsNothingOfAreMissingInTheLocalEnvironment() {
        SieveEnvironment local = SieveEnvironment.local();
        assertEquals("none", item("domain", local));
        assertEquals("none", item("remote-ip", local));
        assertEquals("mailstack", item("name", local));
    }

    @Test
    void rfc5183MatchesOnTheHost() {
        // in the manner of RFC 5183 §5: act on where the script runs
        String script = "if environment :contains \"host\" \"mx.\" { fileinto \"from-mx\"; }\n"
                + "if environment :is \"phase\" \"post\" { fileinto \"wrong-phase\"; }\n"
                + "if environment :is \"location\" [\"MTA\", \"MDA\"] { fileinto \"delivered\"; }";
        assertEquals(List.of("from-mx", "delivered"), filed(script, DateTest.ENV));
    }

    @Test
    void countOfAPresentItemIsOne() {
        assertEquals(List.of("one"), filed("if environment :count \"eq\" \"domain\" \"1\" { fileinto \"one\"; }", DateTest.ENV));
    }

    @Test
    void twoArgumentRunUsesTheLocalEnvironment() throws SieveException {
        SieveOutcome o = SieveScript.parse(REQUIRE + "if environment :is \"name\" \"mailstack\" { fileinto \"ours\"; }")
                .run(DateTest.message("Subject: x"), name -> false);
        assertEquals(List.of(new SieveAction.FileInto("ours", List.of(), false)), o.actions());
    }

    @Test
    void environmentNeedsItsRequire() {
        SieveException e = assertThrows(SieveException.class,
                () -> SieveScript.parse("if environment \"name\" \"mailstack\" { }"));
        assertTrue(e.getMessage().contains("needs require \"environment\""), e.getMessage());
    }
}

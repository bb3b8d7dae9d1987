package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.actions;
import static dev.mailstack.sieve.SampleMessage.fileinto;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 5229: set and its modifiers, ${...} expansion, match variables, the string test, limits. */
class VariablesTest {
    private static final String REQUIRE = "require [\"variables\", \"fileinto\"];\n";

    private static String filed(String body) {
        List<SieveAction> a = actions(REQUIRE + body);
        return ((SieveAction.FileInto) a.get(0)).mailbox();
    }

    @Test
    void setAndExpand() {
        assertEquals("a-b", filed("set \"x\" \"a\"; set \"Y\" \"b\"; fileinto \"${x}-${y}\";"));
    }

    @Test
    void unsetIsEmptyAndBadReferencesStay() {
        assertEquals("[]", filed("fileinto \"[${unset}]\";"));
        assertEquals("${1a}${a.b}${", filed("fileinto \"${1a}${a.b}${\";"));
        assertEquals("$x", filed("set \"a\" \"x\"; fileinto \"$${a}\";"));
    }

    @Test
    void expansionIsNotRecursive() {
        // RFC 5229 §3: "${dollar}{b}" gives the text ${b}, which is not expanded again
        assertEquals("${b}", filed("set \"b\" \"no\"; set \"dollar\" \"$\"; set \"a\" \"${dollar}{b}\"; fileinto \"${a}\";"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        ":lower|Hello World|hello world",
        ":upper|Hello World|HELLO WORLD",
        ":lowerfirst|HELLO|hELLO",
        ":upperfirst|hello|Hello",
        ":upperfirst :lower|hELLO|Hello",
        ":quotewildcard|a*b?c\\d|a\\*b\\?c\\\\d",
        ":length|发票x|3",
        ":length :quotewildcard|**|4",
    })
    void modifiersApplyInPrecedenceOrder(String modifiers, String value, String expected) {
        String escaped = value.replace("\\", "\\\\");
        assertEquals(expected, filed("set " + modifiers + " \"v\" \"" + escaped + "\"; fileinto \"${v}\";"));
    }

    @Test
    void matchVariablesFromTheLastSuccessfulMatches() {
        // RFC 5229 §3.2's List-Id example, adapted to our sample
        String script = "if header :matches \"List-Id\" \"*<*.lists.*>\" { fileinto \"lists/${2}/${3}\"; }";
        assertEquals(List.of(fileinto("lists/sieve/example.org")), actions(REQUIRE + script));
    }

    @Test
    void failedMatchLeavesMatchVariablesAlone() {
        String script = "if header :matches \"subject\" \"Hello*\" { }\n"
                + "if header :matches \"subject\" \"nothing*\" { }\n"
                + "fileinto \"${1}|${0}\";";
        assertEquals(" folded world|Hello folded world", filed(script));
    }

    @Test
    void matchVariablesBeyondTheCapturesAreEmpty() {
        assertEquals("[]", filed("if header :matches \"subject\" \"*\" { fileinto \"[${5}${99}${123}]\"; }"));
    }

    @Test
    void quotewildcardMakesAValueMatchLiterally() {
        String script = "set \"subj\" \"a*\";\n set :quotewildcard \"q\" \"${subj}\";\n"
                + "if string :matches \"abc\" \"${subj}\" { fileinto \"glob\"; }\n"
                + "if string :matches \"abc\" \"${q}\" { fileinto \"literal\"; }";
        assertEquals(List.of(fileinto("glob")), actions(REQUIRE + script));
    }

    @Test
    void stringTest() {
        assertEquals(List.of(fileinto("yes")), actions(REQUIRE
                + "set \"a\" \"value\"; if string :is \"${a}\" \"VALUE\" { fileinto \"yes\"; }"));
        assertEquals(List.of(fileinto("zero")), actions("require [\"variables\", \"fileinto\", \"relational\"];"
                + " if string :count \"eq\" \"${unset}\" \"0\" { fileinto \"zero\"; }"));
    }

    @Test
    void longValuesAreTruncated() {
        String big = "x".repeat(Variables.MAX_VALUE_LENGTH);
        String script = "set \"a\" \"" + big + "\"; set \"b\" \"${a}${a}\"; set :length \"n\" \"${b}\"; fileinto \"${n}\";";
        assertEquals(String.valueOf(Variables.MAX_VALUE_LENGTH), filed(script));
    }

    @Test
    void variablesAreOnlyExpandedWhenRequired() {
        assertEquals(List.of(fileinto("${x}")), actions("require \"fileinto\"; fileinto \"${x}\";"));
    }

    @Test
    void aStringFullOfOpenReferencesExpandsInLinearTime() {
        String many = "${".repeat(50_000) + "x}";
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(2), () -> {
            SieveOutcome o = SampleMessage.run(REQUIRE + "set \"a\" \"" + many + "\"; set :length \"n\" \"${a}\"; fileinto \"${n}\";");
            assertEquals(List.of(fileinto(String.valueOf(Variables.MAX_VALUE_LENGTH))), o.actions());
        });
    }
}

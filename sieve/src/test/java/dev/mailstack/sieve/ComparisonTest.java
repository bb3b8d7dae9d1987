package dev.mailstack.sieve;

import static dev.mailstack.sieve.SampleMessage.holds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The tests of RFC 5228 §5 and the comparisons they make, run against {@link SampleMessage#BASIC}. */
class ComparisonTest {

    @Test
    void headerIsDefaultCaseInsensitive() {
        assertTrue(holds("header :is \"subject\" \"HELLO folded WORLD\""));
        assertTrue(holds("header \"Subject\" \"hello folded world\""), ":is is the default match type");
        assertFalse(holds("header :comparator \"i;octet\" :is \"subject\" \"HELLO folded WORLD\""));
        assertTrue(holds("header :comparator \"i;octet\" :is \"subject\" \"Hello folded world\""));
    }

    @Test
    void headerValuesAreUnfolded() {
        assertTrue(holds("header :contains \"subject\" \"hello folded\""));
    }

    @Test
    void headerMatchesAnyOccurrenceAndAnyKey() {
        assertTrue(holds("header :is \"x-spam-score\" \"12\""));
        assertTrue(holds("header :is [\"x-none\", \"x-spam-score\"] [\"99\", \"7\"]"));
        assertFalse(holds("header :is \"x-spam-score\" \"8\""));
        assertFalse(holds("header :contains \"x-none\" \"\""), "a missing header matches nothing, not even \"\"");
        assertTrue(holds("header :contains \"subject\" \"\""));
    }

    @Test
    void headerContainsAndMatches() {
        assertTrue(holds("header :contains \"list-id\" \"<sieve.lists\""));
        assertTrue(holds("header :matches \"list-id\" \"*<*.lists.*>\""));
        assertFalse(holds("header :matches \"list-id\" \"*<*.lists\""), "the pattern must reach the end");
    }

    @Test
    void addressPartsExcludeDisplayNames() {
        assertTrue(holds("address :is \"from\" \"alice+lists@example.com\""));
        assertFalse(holds("address :contains \"from\" \"Alice Q\""));
        assertTrue(holds("address :localpart :is \"from\" \"alice+lists\""));
        assertTrue(holds("address :domain :is \"from\" \"example.com\""));
        assertTrue(holds("address :all :is \"to\" \"carol@example.net\""), "the second address in To counts");
        assertFalse(holds("address :all :contains \"cc\" \"undisclosed\""), "a group name is not an address");
    }

    @Test
    void addressComparatorDecidesCaseOfLocalPart() {
        // RFC 5228 §2.7.4: the comparator applies to every part; i;octet makes the domain exact too
        assertTrue(holds("address :domain :comparator \"i;octet\" :is \"from\" \"Example.COM\""));
        assertFalse(holds("address :localpart :comparator \"i;octet\" :is \"from\" \"ALICE+lists\""));
    }

    @Test
    void subaddressUserAndDetail() {
        assertTrue(holds("address :user :is \"from\" \"alice\"", "subaddress"));
        assertTrue(holds("address :detail :is \"from\" \"lists\"", "subaddress"));
        assertFalse(holds("address :detail :matches \"to\" \"*\"", "subaddress"), "no '+' means no detail at all");
        assertTrue(holds("envelope :detail :is \"to\" \"work\"", "subaddress", "envelope"));
        assertTrue(holds("envelope :user :is \"to\" \"bob\"", "subaddress", "envelope"));
    }

    @Test
    void emptyDetailIsTheEmptyString() {
        SieveMessage m = SampleMessage.of("To: bob+@example.org\n", 1, "", "bob+@example.org");
        assertTrue(holds(m, "address :detail :is \"to\" \"\"", "subaddress"));
    }

    @Test
    void envelopeFromAndTo() {
        assertTrue(holds("envelope :is \"from\" \"alice@example.com\"", "envelope"));
        assertTrue(holds("envelope :domain :is \"to\" \"example.org\"", "envelope"));
        assertTrue(holds("envelope :localpart :is \"to\" \"bob+work\"", "envelope"));
        assertFalse(holds("envelope :is \"from\" \"\"", "envelope"));
    }

    @Test
    void nullSenderIsTheEmptyStringForEveryAddressPart() {
        SieveMessage bounce = SampleMessage.of("Subject: bounce\n", 1, "", "bob@example.org");
        assertTrue(holds(bounce, "envelope :is \"from\" \"\"", "envelope"));
        assertTrue(holds(bounce, "envelope :domain :is \"from\" \"\"", "envelope"));
    }

    @Test
    void existsNeedsEveryHeader() {
        assertTrue(holds("exists \"subject\""));
        assertTrue(holds("exists [\"From\", \"X-Spam-Score\"]"));
        assertFalse(holds("exists [\"From\", \"X-Missing\"]"));
    }

    @Test
    void sizeIsStrict() {
        // BASIC is 2048 octets
        assertTrue(holds("size :over 2047"));
        assertFalse(holds("size :over 2048"));
        assertTrue(holds("size :under 2049"));
        assertFalse(holds("size :under 2048"));
        assertFalse(holds("size :under 2K"), "2K is 2048");
        assertTrue(holds("size :over 1K"));
    }

    @Test
    void logicalTests() {
        assertTrue(holds("true"));
        assertFalse(holds("false"));
        assertTrue(holds("not false"));
        assertTrue(holds("allof (true, not false, exists \"subject\")"));
        assertFalse(holds("allof (true, false)"));
        assertTrue(holds("anyof (false, true)"));
        assertFalse(holds("anyof (false, not true)"));
    }

    @Test
    void rfc2047SubjectsInGbkAndUtf8MatchChineseText() {
        // "关于发票的通知" in GBK and in UTF-8, as Chinese mail clients send them
        SieveMessage gbk = SampleMessage.of("Subject: =?GBK?B?udjT2reixrG1xM2o1qo=?=\n", 1, "", "u@example.org");
        SieveMessage utf8 = SampleMessage.of("Subject: =?UTF-8?B?5YWz5LqO5Y+R56Wo55qE6YCa55+l?=\n", 1, "", "u@example.org");
        for (SieveMessage m : new SieveMessage[] {gbk, utf8}) {
            assertTrue(holds(m, "header :contains \"subject\" \"发票\""));
            assertTrue(holds(m, "header :is \"subject\" \"关于发票的通知\""));
            assertTrue(holds(m, "header :matches \"subject\" \"*发?的*\""));
            assertFalse(holds(m, "header :contains \"subject\" \"收据\""));
        }
    }

    @Test
    void rawUtf8AndRawGbkHeaderOctetsAreRead() {
        byte[] utf8 = "Subject: 发票\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] gbk = "Subject: 发票\r\n\r\n".getBytes(java.nio.charset.Charset.forName("GBK"));
        assertTrue(holds(SieveMessage.of(utf8, 1, "", "u@x.test"), "header :is \"subject\" \"发票\""));
        assertTrue(holds(SieveMessage.of(gbk, 1, "", "u@x.test"), "header :is \"subject\" \"发票\""));
    }

    @Test
    void encodedDisplayNameDoesNotHideTheAddress() {
        SieveMessage m = SampleMessage.of("From: =?UTF-8?B?5YWz5LqO?= <boss@example.com>\n", 1, "", "u@example.org");
        assertTrue(holds(m, "address :is \"from\" \"boss@example.com\""));
    }

    @ParameterizedTest
    @CsvSource({"gt, 5, true", "gt, 12, false", "ge, 12, true", "lt, 8, true", "le, 6, false", "eq, 7, true",
        "ne, 7, true", "eq, 9, false"})
    void relationalValueWithNumericComparator(String op, String key, boolean expected) {
        // values are 7 and 12: true when either one satisfies the relation
        assertEquals(expected, holds("header :value \"" + op + "\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"" + key + "\"",
                "relational", "comparator-i;ascii-numeric"));
    }

    @Test
    void relationalValueWithCasemapComparesAsText() {
        // as text "12" < "7"
        assertTrue(holds("header :value \"lt\" \"x-spam-score\" \"2\"", "relational"));
    }

    @Test
    void relationalCount() {
        String ext = "relational";
        assertTrue(holds("header :count \"eq\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"2\"", ext, "comparator-i;ascii-numeric"));
        assertTrue(holds("address :count \"eq\" :comparator \"i;ascii-numeric\" [\"to\", \"from\"] \"3\"", ext, "comparator-i;ascii-numeric"));
        assertTrue(holds("header :count \"eq\" :comparator \"i;ascii-numeric\" \"x-missing\" \"0\"", ext, "comparator-i;ascii-numeric"));
        assertFalse(holds("header :count \"gt\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"2\"", ext, "comparator-i;ascii-numeric"));
    }

    @Test
    void asciiNumericTreatsNonNumbersAsInfinity() {
        // RFC 4790 §9.1: "abc" is +infinity, equal to any other non-number, greater than every number
        assertEquals(0, Comparator.ASCII_NUMERIC.compare("abc", "xyz"));
        assertTrue(Comparator.ASCII_NUMERIC.compare("abc", "99999999999999999999999") > 0);
        assertEquals(0, Comparator.ASCII_NUMERIC.compare("007", "7x"));
        assertTrue(Comparator.ASCII_NUMERIC.compare("10", "9") > 0);
        assertTrue(holds("header :is :comparator \"i;ascii-numeric\" \"x-spam-score\" \"0012\"", "comparator-i;ascii-numeric"));
    }

    @Test
    void casemapFoldsOnlyAscii() {
        assertTrue(Comparator.ASCII_CASEMAP.equal("ABC", "abc"));
        assertFalse(Comparator.ASCII_CASEMAP.equal("É", "é"));
        assertTrue(Comparator.OCTET.compare("a", "b") < 0);
        assertTrue(Comparator.OCTET.compare("B", "a") < 0);
        assertTrue(Comparator.ASCII_CASEMAP.compare("B", "a") > 0);
    }
}

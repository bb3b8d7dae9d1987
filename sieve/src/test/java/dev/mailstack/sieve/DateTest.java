package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RFC 5260: the date and currentdate tests (every date-part, :zone, :originalzone, tolerant
 * reading of Date fields), the index extension (:index, :last) on header, address and date.
 */
class DateTest {
    /** Sunday 2024-03-10, 13:34:56 in Berlin (CET, +0100: summer time starts on 31 March). */
    static final Clock CLOCK = Clock.fixed(Instant.parse("2024-03-10T12:34:56Z"), ZoneId.of("Europe/Berlin"));
    static final SieveEnvironment ENV = new SieveEnvironment(CLOCK, "example.org", "mx.example.org", "", "192.0.2.7",
            "0.1.0");
    private static final String REQUIRE = "require [\"date\", \"index\", \"relational\", \"variables\", \"fileinto\"];\n";
    /** A Monday, 23:05:09 at -0700: 06:05:09 UTC on Tuesday 2 August, 08:05:09 in Berlin (CEST, +0200). */
    private static final String DATE = "Mon, 01 Aug 2005 23:05:09 -0700";

    static SieveMessage message(String header) {
        return SampleMessage.of(header, 100, "a@example.com", "b@example.org");
    }

    static SieveOutcome run(String script, SieveMessage message, SieveEnvironment env) {
        try {
            return SieveScript.parse(script).run(message, name -> false, env);
        } catch (SieveException e) {
            throw new AssertionError("script should parse: " + e.getMessage(), e);
        }
    }

    /** The mailboxes the script filed into, in order; fails the test on a runtime error. */
    static List<String> filed(String script, SieveMessage message, SieveEnvironment env) {
        SieveOutcome o = run(script, message, env);
        assertFalse(o.failed(), () -> "script failed: " + o.errors());
        return o.actions().stream().filter(a -> a instanceof SieveAction.FileInto)
                .map(a -> ((SieveAction.FileInto) a).mailbox()).toList();
    }

    /** What a :matches "*" of the test puts in ${0}, or "none" when the test is false. */
    private static String matched(String header, String test) {
        List<String> f = filed(REQUIRE + "if " + test + " \"*\" { fileinto \"${0}\"; } else { fileinto \"none\"; }",
                message(header), ENV);
        return f.get(0);
    }

    private static boolean holds(String header, String test) {
        return filed(REQUIRE + "if " + test + " { fileinto \"yes\"; }", message(header), ENV).equals(List.of("yes"));
    }

    private static void assertError(String fragment, String script) {
        SieveException e = assertThrows(SieveException.class, () -> SieveScript.parse(script));
        assertTrue(e.getMessage().contains(fragment), () -> "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "year|2005",
        "month|08",
        "day|01",
        "date|2005-08-01",
        "julian|53583",
        "hour|23",
        "minute|05",
        "second|09",
        "time|23:05:09",
        "iso8601|2005-08-01T23:05:09-07:00",
        "std11|Mon, 01 Aug 2005 23:05:09 -0700",
        "zone|-0700",
        "weekday|1",
        "WeekDay|1",
    })
    void everyDatePartInTheOriginalZone(String part, String expected) {
        assertEquals(expected, matched("Date: " + DATE, "date :matches :originalzone \"date\" \"" + part + "\""));
    }

    @Test
    void julianIsTheModifiedJulianDay() {
        // MJD 51544 is 2000-01-01, the epoch of the J2000 tables
        assertEquals("51544", matched("Date: Sat, 1 Jan 2000 00:00:00 +0000", "date :matches :originalzone \"date\" \"julian\""));
        assertEquals("0", matched("Date: Wed, 17 Nov 1858 12:00:00 +0000", "date :matches :originalzone \"date\" \"julian\""));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // RFC 5260 §4.1: no :zone, no :originalzone: the local zone, at that instant (Berlin summer time)
        "|iso8601|2005-08-02T08:05:09+02:00",
        "|zone|+0200",
        "|weekday|2",
        "|julian|53584",
        ":zone \"+0000\"|iso8601|2005-08-02T06:05:09Z",
        ":zone \"+0000\"|std11|Tue, 02 Aug 2005 06:05:09 +0000",
        ":zone \"-0000\"|zone|+0000",
        ":zone \"+0530\"|time|11:35:09",
        ":zone \"-1100\"|date|2005-08-01",
        ":zone \"-1100\"|iso8601|2005-08-01T19:05:09-11:00",
    })
    void zoneShiftsTheTime(String zone, String part, String expected) {
        String z = zone == null ? "" : zone + " ";
        assertEquals(expected, matched("Date: " + DATE, "date :matches " + z + "\"date\" \"" + part + "\""));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Mon, 01 Aug 2005 23:05:09 -0700|2005-08-02T06:05:09Z",
        "01 Aug 2005 23:05:09 -0700|2005-08-02T06:05:09Z",
        "Mon, 1 Aug 2005 23:05 -0700|2005-08-02T06:05:00Z",
        "Monday, 1 August 2005 23:05:09 -0700|2005-08-02T06:05:09Z",
        "mon, 01 aug 2005 23:05:09 -0700|2005-08-02T06:05:09Z",
        "Mon, 01 Aug 2005 23:05:09 GMT|2005-08-01T23:05:09Z",
        "Mon, 01 Aug 2005 23:05:09 UT|2005-08-01T23:05:09Z",
        "Mon, 01 Aug 2005 23:05:09 EST|2005-08-02T04:05:09Z",
        "Mon, 01 Aug 2005 23:05:09 EDT|2005-08-02T03:05:09Z",
        "Mon, 01 Aug 2005 23:05:09 PDT|2005-08-02T06:05:09Z",
        "Mon, 01 Aug 2005 23:05:09 CEST|2005-08-01T23:05:09Z",
        "Mon, 01 Aug 2005 23:05:09|2005-08-01T23:05:09Z",
        "Mon, 01 Aug 2005 23:05:09 +02:00|2005-08-01T21:05:09Z",
        "Mon (first), 01 Aug 2005 23:05:09 +0200 (CEST)|2005-08-01T21:05:09Z",
        "(sent (late\\) at night)) 01 Aug 2005 23:05:09 +0200|2005-08-01T21:05:09Z",
        "Mon, 01 Aug 05 23:05:09 +0000|2005-08-01T23:05:09Z",
        "Sun, 01 Aug 99 23:05:09 +0000|1999-08-01T23:05:09Z",
        "Mon, 01 Aug 105 23:05:09 +0000|2005-08-01T23:05:09Z",
        "Thu, 31 Dec 1998 23:59:60 +0000|1998-12-31T23:59:59Z",
    })
    void realMailDatesAreRead(String value, String expected) {
        assertEquals(expected, matched("Date: " + value, "date :matches :zone \"+0000\" \"date\" \"iso8601\""));
    }

    @Test
    void foldedDateFieldIsRead() {
        assertEquals("2005-08-01", matched("Date: Mon, 01 Aug 2005\n 23:05:09 -0700", "date :matches :originalzone \"date\" \"date\""));
    }

    @Test
    void obsoleteZonesKeepTheirOffsetAsOriginalZone() {
        assertEquals("-0500", matched("Date: Mon, 01 Aug 2005 23:05:09 EST", "date :matches :originalzone \"date\" \"zone\""));
        // RFC 5322 §4.3: an unknown zone is "-0000"; RFC 5260 §4.2: zero has a positive sign
        assertEquals("+0000", matched("Date: Mon, 01 Aug 2005 23:05:09 -0000", "date :matches :originalzone \"date\" \"zone\""));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "not a date",
        "",
        "Mon, 32 Aug 2005 10:00:00 +0000",
        "Mon, 29 Feb 2005 10:00:00 +0000",
        "Mon, 01 Foo 2005 10:00:00 +0000",
        "Mon, 01 Aug 2005 24:00:00 +0000",
        "Mon, 01 Aug 2005 10:60:00 +0000",
        "Mon, 01 Aug 2005 +0000",
        "Mon, 01 Aug 2005 10:00:00 +01",
        "Mon, 01 Aug 2005 10:00:00 +0popular",
        "Mon, 01 Aug 2005 10:00:00 +0160",
        "Xyz, 01 Aug 2005 10:00:00 +0000",
        "2005-08-01T10:00:00Z",
    })
    void fieldWithoutADateMakesTheTestFalse(String value) {
        assertEquals("none", matched("Date: " + value, "date :matches \"date\" \"date\""));
        assertFalse(holds("Date: " + value, "date :count \"eq\" \"date\" \"date\" \"1\""));
    }

    @Test
    void missingFieldMakesTheTestFalse() {
        assertEquals("none", matched("Subject: x", "date :matches \"date\" \"year\""));
        assertTrue(holds("Subject: x", "date :count \"eq\" \"date\" \"year\" \"0\""));
    }

    @Test
    void everyOccurrenceWithADateCounts() {
        String header = "Date: garbage\nDate: Mon, 01 Aug 2005 23:05:09 -0700\nDate: Tue, 02 Aug 2005 10:00:00 -0700";
        assertTrue(holds(header, "date :is :originalzone \"date\" \"day\" \"02\""));
        assertTrue(holds(header, "date :count \"eq\" \"date\" \"day\" \"2\""));
    }

    @Test
    void receivedFieldDateIsAfterTheLastSemicolon() {
        String header = "Received: from a.example (a.example [192.0.2.1]) by mx.example.org; Mon, 01 Aug 2005 23:05:09 -0700";
        assertEquals("2005-08-01", matched(header, "date :matches :originalzone \"received\" \"date\""));
    }

    @Test
    void rfc5260FilingBySentHourInTheSendersZone() {
        // RFC 5260 §4.4: working hours as the sender saw them
        String script = "require [\"date\", \"relational\", \"fileinto\"];\n"
                + "if allof(header :is \"from\" \"boss@example.com\",\n"
                + "         date :value \"ge\" :originalzone \"date\" \"hour\" \"09\",\n"
                + "         date :value \"lt\" :originalzone \"date\" \"hour\" \"17\")\n"
                + "{ fileinto \"urgent\"; }";
        assertEquals(List.of("urgent"), filed(script, message("From: boss@example.com\nDate: Mon, 01 Aug 2005 16:59:00 -0700"), ENV));
        assertEquals(List.of(), filed(script, message("From: boss@example.com\nDate: Mon, 01 Aug 2005 17:00:00 -0700"), ENV));
    }

    @Test
    void rfc5260FilingWeekendMail() {
        // RFC 5260 §4.4: the weekday of the Received date, in the local zone
        String script = "require [\"date\", \"fileinto\"];\n"
                + "if anyof(date :is \"received\" \"weekday\" \"0\",\n"
                + "         date :is \"received\" \"weekday\" \"6\")\n"
                + "{ fileinto \"weekend\"; }";
        // Friday 23:30 in New York is Saturday 05:30 in Berlin; Friday 17:30 there is still Friday here
        assertEquals(List.of("weekend"), filed(script, message("Received: by mx; Fri, 05 Aug 2005 23:30:00 -0400"), ENV));
        assertEquals(List.of(), filed(script, message("Received: by mx; Fri, 05 Aug 2005 17:30:00 -0400"), ENV));
    }

    @Test
    void datePartAndZoneMayComeFromVariables() {
        String header = "Date: " + DATE;
        List<String> f = filed(REQUIRE + "set \"p\" \"hour\"; set \"z\" \"+0100\";\n"
                + "if date :matches :zone \"${z}\" \"date\" \"${p}\" \"*\" { fileinto \"${0}\"; }", message(header), ENV);
        assertEquals(List.of("07"), f);
    }

    @Test
    void unknownDatePartFromAVariableMatchesNothing() {
        List<String> f = filed(REQUIRE + "set \"p\" \"fortnight\";\n"
                + "if date :matches \"date\" \"${p}\" \"*\" { fileinto \"yes\"; }", message("Date: " + DATE), ENV);
        assertEquals(List.of(), f);
    }

    @Test
    void badZoneFromAVariableShowsTheLocalZone() {
        List<String> f = filed(REQUIRE + "set \"z\" \"CEST\";\n"
                + "if date :matches :zone \"${z}\" \"date\" \"zone\" \"*\" { fileinto \"${0}\"; }", message("Date: " + DATE), ENV);
        assertEquals(List.of("+0200"), f);
    }

    // currentdate (RFC 5260 §5), against the fixed clock

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "|iso8601|2024-03-10T13:34:56+01:00",
        "|std11|Sun, 10 Mar 2024 13:34:56 +0100",
        "|weekday|0",
        "|zone|+0100",
        "|julian|60379",
        ":zone \"+0000\"|iso8601|2024-03-10T12:34:56Z",
        ":zone \"-1200\"|date|2024-03-10",
        ":zone \"+1300\"|date|2024-03-11",
    })
    void currentdateReadsTheEnvironmentClock(String zone, String part, String expected) {
        String z = zone == null ? "" : zone + " ";
        assertEquals(expected, matched("Subject: x", "currentdate :matches " + z + "\"" + part + "\""));
    }

    @Test
    void rfc5260VacationDuringAPeriod() {
        // RFC 5260 §5.1, with dates around the fixed clock
        String script = "require [\"date\", \"relational\", \"vacation\"];\n"
                + "if allof(currentdate :value \"ge\" \"date\" \"2024-03-09\",\n"
                + "         currentdate :value \"le\" \"date\" \"2024-03-16\")\n"
                + "{ vacation :days 7 \"I'm away during the second week in March.\"; }";
        assertTrue(run(script, message("Subject: x"), ENV).actions().stream().anyMatch(a -> a instanceof SieveAction.Vacation));
        SieveEnvironment later = new SieveEnvironment(Clock.offset(CLOCK, java.time.Duration.ofDays(7)), "", "", "", "", "");
        assertFalse(run(script, message("Subject: x"), later).actions().stream().anyMatch(a -> a instanceof SieveAction.Vacation));
    }

    @Test
    void rfc5260FilingByCurrentMonthAndYear() {
        // RFC 5260 §5.1
        String script = "require [\"date\", \"variables\", \"fileinto\"];\n"
                + "if currentdate :matches \"month\" \"*\" { set \"month\" \"${1}\"; }\n"
                + "if currentdate :matches \"year\"  \"*\" { set \"year\"  \"${1}\"; }\n"
                + "fileinto \"${month}-${year}\";";
        assertEquals(List.of("03-2024"), filed(script, message("Subject: x"), ENV));
    }

    @Test
    void everyCurrentdateOfARunSeesTheSameInstant() {
        Clock ticking = new Clock() {
            private long seconds = CLOCK.instant().getEpochSecond();

            @Override
            public ZoneId getZone() {
                return ZoneId.of("UTC");
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochSecond(seconds++);
            }
        };
        String script = REQUIRE + "if currentdate :matches \"second\" \"*\" { set \"a\" \"${0}\"; }\n"
                + "if currentdate :matches \"second\" \"*\" { set \"b\" \"${0}\"; }\n"
                + "fileinto \"${a}-${b}\";";
        assertEquals(List.of("56-56"), filed(script, message("Subject: x"), new SieveEnvironment(ticking, "", "", "", "", "")));
    }

    // index (RFC 5260 §6)

    private static final String RECEIVED = """
            Received: from c by d; Wed, 03 Aug 2005 10:00:00 +0000
            Received: from b by c; Tue, 02 Aug 2005 10:00:00 +0000
            Received: from a by b; Mon, 01 Aug 2005 10:00:00 +0000
            To: first@example.org
            To: "Second" <second@example.net>
            """;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        ":index 1|03",
        ":index 2|02",
        ":index 3|01",
        ":index 1 :last|01",
        ":index 3 :last|03",
        ":index 4|none",
        ":index 4 :last|none",
    })
    void indexPicksOneReceivedField(String index, String day) {
        assertEquals(day, matched(RECEIVED, "date :matches " + index + " :originalzone \"received\" \"day\""));
    }

    @Test
    void indexOnHeader() {
        assertTrue(holds(RECEIVED, "header :index 2 :contains \"received\" \"from b\""));
        assertFalse(holds(RECEIVED, "header :index 1 :contains \"received\" \"from b\""));
        assertTrue(holds(RECEIVED, "header :index 1 :last :contains \"received\" \"from a\""));
        assertTrue(holds(RECEIVED, "header :count \"eq\" :index 2 \"received\" \"1\""));
        assertFalse(holds(RECEIVED, "header :index 9 :matches \"received\" \"*\""));
    }

    @Test
    void indexCountsEachFieldNameApart() {
        // the second Received and the second To, not the second of all five
        assertTrue(holds(RECEIVED, "header :count \"eq\" :index 2 [\"received\", \"to\"] \"2\""));
    }

    @Test
    void indexOnAddress() {
        assertTrue(holds(RECEIVED, "address :index 2 :is \"to\" \"second@example.net\""));
        assertFalse(holds(RECEIVED, "address :index 1 :is \"to\" \"second@example.net\""));
        assertTrue(holds(RECEIVED, "address :index 2 :last :domain :is \"to\" \"example.org\""));
    }

    @Test
    void rfc5260IndexedReceivedDateAfterACutoff() {
        // in the manner of RFC 5260 §6.1: the date the message reached the second relay
        String script = "require [\"date\", \"relational\", \"index\", \"fileinto\"];\n"
                + "if date :value \"gt\" :index 2 :zone \"-0500\" \"received\" \"iso8601\" \"2005-08-02T04:59:59-05:00\"\n"
                + "{ fileinto \"late\"; }";
        assertEquals(List.of("late"), filed(script, message(RECEIVED), ENV));
        assertEquals(List.of(), filed(script.replace(":index 2", ":index 3"), message(RECEIVED), ENV));
    }

    // compile-time errors

    @Test
    void dateAndIndexNeedTheirRequire() {
        assertError("needs require \"date\"", "if date \"date\" \"year\" \"2005\" { }");
        assertError("needs require \"date\"", "if currentdate \"year\" \"2005\" { }");
        assertError("needs require \"index\"", "require \"date\"; if date :index 1 \"date\" \"year\" \"2005\" { }");
        assertError("needs require \"index\"", "if header :index 1 \"subject\" \"x\" { }");
    }

    @ParameterizedTest
    @ValueSource(strings = {"+5", "0500", "+05:00", "+0560", "CEST", "", "+05000", "-00a0"})
    void malformedLiteralZoneIsACompileError(String zone) {
        assertError(":zone needs an offset", REQUIRE + "if date :zone \"" + zone + "\" \"date\" \"year\" \"2005\" { }");
        assertError(":zone needs an offset", REQUIRE + "if currentdate :zone \"" + zone + "\" \"year\" \"2005\" { }");
    }

    @Test
    void unknownLiteralDatePartIsACompileError() {
        assertError("unknown date-part \"fortnight\"", REQUIRE + "if date \"date\" \"fortnight\" \"1\" { }");
        assertError("unknown date-part \"yr\"", REQUIRE + "if currentdate \"yr\" \"2024\" { }");
    }

    @Test
    void otherDateArgumentErrors() {
        assertError("cannot be used together", REQUIRE + "if date :zone \"+0000\" :originalzone \"date\" \"year\" \"1\" { }");
        assertError("currentdate has no tag \":originalzone\"", REQUIRE + "if currentdate :originalzone \"year\" \"1\" { }");
        assertError("is not a header field name", REQUIRE + "if date \"bad name\" \"year\" \"1\" { }");
        assertError("date takes 3 arguments", REQUIRE + "if date \"date\" \"year\" { }");
        assertError(":last needs :index", REQUIRE + "if header :last \"subject\" \"x\" { }");
        assertError(":index counts fields from 1", REQUIRE + "if header :index 0 \"subject\" \"x\" { }");
        assertError("must be followed by a number", REQUIRE + "if header :index \"1\" \"subject\" \"x\" { }");
    }

    @Test
    void variableZoneAndPartAreCheckedOnlyAtRunTime() throws SieveException {
        SieveScript.parse(REQUIRE + "if date :zone \"${z}\" \"date\" \"${part}\" \"1\" { }");
        // at run time neither fails the script: a part that is none makes the test false, a zone that
        // is none shows the local zone (the hour 08 in Berlin, where +0000 shows 06)
        String test = "if date :is :zone \"${z}\" \"date\" \"${part}\" \"08\" { fileinto \"yes\"; }";
        SieveMessage m = message("Date: " + DATE);
        assertEquals(List.of(), filed(REQUIRE + "set \"z\" \"+0000\"; set \"part\" \"hour\";\n" + test, m, ENV));
        assertEquals(List.of("yes"), filed(REQUIRE + "set \"z\" \"+0060\"; set \"part\" \"hour\";\n" + test, m, ENV));
        assertEquals(List.of("yes"), filed(REQUIRE + "set \"part\" \"hour\";\n" + test, m, ENV), "an empty zone");
        assertEquals(List.of(), filed(REQUIRE + "set \"z\" \"+0200\"; set \"part\" \"hours\";\n" + test, m, ENV));
        assertEquals(List.of(), filed(REQUIRE + test, m, ENV), "both empty");
    }
}

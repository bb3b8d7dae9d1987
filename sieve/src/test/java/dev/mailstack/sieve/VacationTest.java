package dev.mailstack.sieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 5230 vacation and RFC 6131 :seconds. */
class VacationTest {

    private static SieveAction.Vacation vacation(String script) {
        List<SieveAction> a = SampleMessage.actions(script);
        return (SieveAction.Vacation) a.stream().filter(x -> x instanceof SieveAction.Vacation).findFirst().orElseThrow();
    }

    @Test
    void rfc5230ExampleWithAllParameters() {
        SieveAction.Vacation v = vacation("""
                require "vacation";
                vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"]
                   :subject "Out of office" :from "tjs@example.edu" :handle "away-1"
                   "I'm away until October 19.  If it's an emergency, call 911, I guess." ;
                """);
        assertEquals("I'm away until October 19.  If it's an emergency, call 911, I guess.", v.reason());
        assertEquals(Duration.ofDays(23), v.period());
        assertEquals(List.of("tjs@example.edu", "ts4z@landru.example.edu"), v.addresses());
        assertEquals(Optional.of("Out of office"), v.subject());
        assertEquals(Optional.of("tjs@example.edu"), v.from());
        assertEquals("away-1", v.handle());
        assertEquals(false, v.mime());
    }

    @Test
    void defaultsToSevenDays() {
        SieveAction.Vacation v = vacation("require \"vacation\"; vacation \"away\";");
        assertEquals(Duration.ofDays(7), v.period());
        assertEquals(Optional.empty(), v.subject());
        assertEquals(Optional.empty(), v.from());
    }

    @ParameterizedTest
    @CsvSource({"0, 1", "1, 1", "30, 30", "90, 90", "91, 90", "100000, 90"})
    void daysAreClamped(long days, long expected) {
        assertEquals(Duration.ofDays(expected), vacation("require \"vacation\"; vacation :days " + days + " \"x\";").period());
    }

    @ParameterizedTest
    @CsvSource({"0, 0", "1800, 1800", "86400, 86400", "999999999, 7776000"})
    void secondsAreClamped(long seconds, long expected) {
        assertEquals(Duration.ofSeconds(expected),
                vacation("require [\"vacation\", \"vacation-seconds\"]; vacation :seconds " + seconds + " \"x\";").period());
    }

    @Test
    void secondsNeedsItsExtensionAndExcludesDays() {
        SieveException e = org.junit.jupiter.api.Assertions.assertThrows(SieveException.class,
                () -> SieveScript.parse("require \"vacation\"; vacation :seconds 60 \"x\";"));
        assertTrue(e.getMessage().contains(":seconds needs require \"vacation-seconds\""), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(SieveException.class,
                () -> SieveScript.parse("require [\"vacation\", \"vacation-seconds\"]; vacation :days 1 :seconds 60 \"x\";"));
        assertTrue(e.getMessage().contains("cannot be used together"), e.getMessage());
    }

    @Test
    void mimeFlagAndMultiLineReason() {
        SieveAction.Vacation v = vacation("require \"vacation\";\nvacation :mime text:\nContent-Type: text/plain\n\nAway.\n.\n;");
        assertTrue(v.mime());
        assertEquals("Content-Type: text/plain\r\n\r\nAway.\r\n", v.reason());
    }

    @Test
    void defaultHandleDependsOnTheTexts() {
        String a = vacation("require \"vacation\"; vacation \"one\";").handle();
        String b = vacation("require \"vacation\"; vacation \"two\";").handle();
        assertNotEquals(a, b);
        assertEquals(a, vacation("require \"vacation\"; vacation \"one\";").handle());
    }

    @Test
    void secondVacationIsARuntimeError() {
        SieveOutcome o = SampleMessage.run("require \"vacation\";\nvacation \"a\";\nvacation \"b\";");
        assertEquals(List.of("line 3: vacation may only be used once per run"), o.errors());
    }

    @Test
    void badFromIsARuntimeError() {
        SieveOutcome o = SampleMessage.run("require \"vacation\";\nvacation :from \"nobody\" \"a\";");
        assertTrue(o.failed());
        assertTrue(o.errors().get(0).startsWith("line 2: vacation :from"), o.errors().toString());
    }

    @Test
    void badAddressesAreAParseError() {
        SieveException e = org.junit.jupiter.api.Assertions.assertThrows(SieveException.class,
                () -> SieveScript.parse("require \"vacation\";\nvacation :addresses [\"ok@example.org\", \"bad\"] \"x\";"));
        assertEquals(2, e.line());
    }
}

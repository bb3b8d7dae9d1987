package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class SentDateTest {
    private static void sent(String header, String utc) {
        assertEquals(OptionalLong.of(Instant.parse(utc).getEpochSecond()), SentDate.parse(header), header);
    }

    /** RFC 5256 §2.2: date and time normalised to UTC, the example of the RFC included. */
    @Test
    void datesAreNormalisedToUtc() {
        sent("31 Dec 2000 16:01:33 -0800", "2001-01-01T00:01:33Z");
        sent("Tue, 1 Dec 2026 10:00:00 +0000", "2026-12-01T10:00:00Z");
        sent("Wed, 2 Dec 2026 10:00:00 +0800", "2026-12-02T02:00:00Z");
        sent("Wed,  2 Dec 2026 10:00 +0800 (CST)", "2026-12-02T02:00:00Z");
        sent("2 Dec 26 10:00:00 EST", "2026-12-02T15:00:00Z"); // RFC 5322 §4.3 two-digit year and zone name
        sent("2 dec 1999 10:00:00 PDT", "1999-12-02T17:00:00Z");
        sent("2 December 2026 10:00:00 XYZ", "2026-12-02T10:00:00Z"); // an unknown zone is UTC
        sent("2 Dec 2026", "2026-12-02T00:00:00Z"); // no time: 00:00:00
        sent("2 Dec 2026 25:99 +0100", "2026-12-01T23:00:00Z");
    }

    @Test
    void aValueWithoutADateGivesNothing() {
        assertEquals(OptionalLong.empty(), SentDate.parse(null));
        assertEquals(OptionalLong.empty(), SentDate.parse("yesterday"));
        assertEquals(OptionalLong.empty(), SentDate.parse("31 Feb 2026 10:00:00 +0000"));
        assertEquals(OptionalLong.empty(), SentDate.parse("Tue, 1 Dex 2026 10:00:00 +0000"));
    }
}

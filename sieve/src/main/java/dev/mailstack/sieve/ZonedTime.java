package dev.mailstack.sieve;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * A point in time as the date tests see it (RFC 5260 §4.1): seconds since the epoch, and the zone
 * offset, in minutes east of UTC, it is shown in. The offset is kept as minutes rather than a
 * {@link ZoneOffset} because RFC 5322 and RFC 5260 zones are any "+hhmm", beyond ±18:00.
 */
record ZonedTime(long epochSecond, int offsetMinutes) {
    /** "+9959": the largest offset four digits can write. */
    static final int MAX_OFFSET_MINUTES = 99 * 60 + 59;

    ZonedTime {
        if (Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) {
            throw new IllegalArgumentException("zone offset out of range: " + offsetMinutes + " minutes");
        }
    }

    /** The same instant shown in another zone. */
    ZonedTime inZone(int minutes) {
        return new ZonedTime(epochSecond, minutes);
    }

    /** The wall-clock date and time in this zone. */
    LocalDateTime local() {
        return LocalDateTime.ofEpochSecond(epochSecond + offsetMinutes * 60L, 0, ZoneOffset.UTC);
    }

    /** RFC 5260 §4.2 "zone": "+hhmm" or "-hhmm"; an offset of 0 always has a positive sign. */
    String zone() {
        int abs = Math.abs(offsetMinutes);
        return String.format(Locale.ROOT, "%c%02d%02d", offsetMinutes < 0 ? '-' : '+', abs / 60, abs % 60);
    }

    /**
     * RFC 5260 §4.1: a :zone argument is "+hhmm" or "-hhmm" (the zone of RFC 5322 §3.3); the
     * minutes must be under 60. Empty for anything else.
     */
    static OptionalInt parseZone(String text) {
        if (text.length() != 5 || text.charAt(0) != '+' && text.charAt(0) != '-') {
            return OptionalInt.empty();
        }
        for (int i = 1; i < 5; i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return OptionalInt.empty();
            }
        }
        int hours = Integer.parseInt(text, 1, 3, 10);
        int minutes = Integer.parseInt(text, 3, 5, 10);
        if (minutes > 59) {
            return OptionalInt.empty();
        }
        int offset = hours * 60 + minutes;
        return OptionalInt.of(text.charAt(0) == '-' ? -offset : offset);
    }
}

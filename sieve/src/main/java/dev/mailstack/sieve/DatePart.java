package dev.mailstack.sieve;

import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The date-part argument of the date and currentdate tests (RFC 5260 §4.2): which piece of a
 * {@link ZonedTime} a test compares, and the fixed-width text it is compared as. Names are
 * case-insensitive.
 */
enum DatePart {
    /** "0000" .. "9999". */
    YEAR,
    /** "01" .. "12". */
    MONTH,
    /** "01" .. "31". */
    DAY,
    /** "yyyy-mm-dd". */
    DATE,
    /** The Modified Julian Day: days since 1858-11-17 (Julian Day − 2400000.5), of the date shown. */
    JULIAN,
    /** "00" .. "23". */
    HOUR,
    /** "00" .. "59". */
    MINUTE,
    /** "00" .. "60" (a leap second reads as :59: the epoch seconds we keep have none). */
    SECOND,
    /** "hh:mm:ss". */
    TIME,
    /** RFC 3339 §5.6 date-time, "Z" for a zero offset (as Pigeonhole writes it). */
    ISO8601,
    /** An RFC 5322 §3.3 date-time, as a Date: field would hold it. */
    STD11,
    /** "+hhmm" or "-hhmm", the zone the time is shown in. */
    ZONE,
    /** "0" (Sunday) .. "6" (Saturday). */
    WEEKDAY;

    /** Modified Julian Day of 1970-01-01, the epoch day 0. */
    private static final long MJD_OF_EPOCH = 40587;
    private static final List<String> DAY_NAMES = List.of("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun");
    private static final List<String> MONTH_NAMES = List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
            "Sep", "Oct", "Nov", "Dec");

    static Optional<DatePart> named(String name) {
        for (DatePart p : values()) {
            if (p.name().equalsIgnoreCase(name)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The names a script may give, for error messages. */
    static String names() {
        return String.join(", ", Arrays.stream(values()).map(p -> p.name().toLowerCase(Locale.ROOT)).toList());
    }

    String of(ZonedTime t) {
        LocalDateTime l = t.local();
        return switch (this) {
            case YEAR -> String.format(Locale.ROOT, "%04d", l.getYear());
            case MONTH -> String.format(Locale.ROOT, "%02d", l.getMonthValue());
            case DAY -> String.format(Locale.ROOT, "%02d", l.getDayOfMonth());
            case DATE -> String.format(Locale.ROOT, "%04d-%02d-%02d", l.getYear(), l.getMonthValue(), l.getDayOfMonth());
            case JULIAN -> String.valueOf(l.toLocalDate().toEpochDay() + MJD_OF_EPOCH);
            case HOUR -> String.format(Locale.ROOT, "%02d", l.getHour());
            case MINUTE -> String.format(Locale.ROOT, "%02d", l.getMinute());
            case SECOND -> String.format(Locale.ROOT, "%02d", l.getSecond());
            case TIME -> String.format(Locale.ROOT, "%02d:%02d:%02d", l.getHour(), l.getMinute(), l.getSecond());
            case ISO8601 -> DATE.of(t) + "T" + TIME.of(t) + (t.offsetMinutes() == 0 ? "Z"
                    : t.zone().substring(0, 3) + ":" + t.zone().substring(3));
            case STD11 -> String.format(Locale.ROOT, "%s, %02d %s %04d %s %s", DAY_NAMES.get(l.getDayOfWeek().getValue() - 1),
                    l.getDayOfMonth(), MONTH_NAMES.get(l.getMonthValue() - 1), l.getYear(), TIME.of(t), t.zone());
            case ZONE -> t.zone();
            case WEEKDAY -> String.valueOf(l.getDayOfWeek().getValue() % 7);
        };
    }
}

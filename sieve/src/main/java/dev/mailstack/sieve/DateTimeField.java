package dev.mailstack.sieve;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Reads the date-time of a header field for the date test (RFC 5260 §4): RFC 5322 §3.3 with the
 * obsolete forms of §4.3, as tolerant as real mail needs. Comments anywhere are dropped; the day
 * name is optional and not checked against the date; seconds may be missing; two- and
 * three-digit years are widened (§4.3); UT, GMT and the US zone names have their offsets;
 * military letters and unknown names count as "-0000" (§4.3), and so does a missing zone. What
 * follows the zone is ignored. A value without a valid day, month, year, hour and minute has no
 * date-time, and the date test then finds nothing in that field.
 */
final class DateTimeField {
    private static final List<String> DAYS = List.of("mon", "tue", "wed", "thu", "fri", "sat", "sun");
    private static final List<String> MONTHS = List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
            "oct", "nov", "dec");

    private DateTimeField() {
    }

    /**
     * The date-time of a field value (unfolded). A Received field (RFC 5321 §4.4) holds its date
     * after the last ";", so when the whole value is no date-time, the text after the last ";" is tried.
     */
    static Optional<ZonedTime> parse(String value) {
        Optional<ZonedTime> whole = parseDateTime(value);
        int semicolon = value.lastIndexOf(';');
        if (whole.isPresent() || semicolon < 0) {
            return whole;
        }
        return parseDateTime(value.substring(semicolon + 1));
    }

    private static Optional<ZonedTime> parseDateTime(String value) {
        List<String> t = tokens(value);
        int i = 0;
        if (i < t.size() && isLetters(t.get(i))) {
            String word = t.get(i).toLowerCase(Locale.ROOT);
            if (word.length() < 3 || !DAYS.contains(word.substring(0, 3))) {
                return Optional.empty();
            }
            i++; // day-of-week ("Mon" or, in old mail, "Monday")
        }
        if (i + 3 >= t.size()) {
            return Optional.empty();
        }
        int day = number(t.get(i), 1, 2);
        int month = month(t.get(i + 1));
        String yearText = t.get(i + 2);
        int year = number(yearText, 2, 4);
        if (day < 0 || month < 0 || year < 0) {
            return Optional.empty();
        }
        if (yearText.length() == 2) {
            year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
        } else if (yearText.length() == 3) {
            year += 1900;
        }
        String[] hms = t.get(i + 3).split(":", -1);
        if (hms.length < 2 || hms.length > 3) {
            return Optional.empty();
        }
        int hour = number(hms[0], 1, 2);
        int minute = number(hms[1], 1, 2);
        int second = hms.length == 3 ? number(hms[2], 1, 2) : 0;
        if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
            return Optional.empty();
        }
        OptionalInt zone = i + 4 < t.size() ? zone(t.get(i + 4)) : OptionalInt.of(0);
        if (zone.isEmpty()) {
            return Optional.empty();
        }
        LocalDate date;
        try {
            date = LocalDate.of(year, month, day);
        } catch (DateTimeException e) {
            return Optional.empty(); // 31 Feb and the like
        }
        // a leap second (:60) is kept as :59; the epoch seconds below cannot hold it
        long local = date.atTime(hour, minute, Math.min(second, 59)).toEpochSecond(ZoneOffset.UTC);
        return Optional.of(new ZonedTime(local - zone.getAsInt() * 60L, zone.getAsInt()));
    }

    /** Words between white space and commas, comments (RFC 5322 §3.2.2, nested, with quoted pairs) dropped. */
    private static List<String> tokens(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        int depth = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (depth > 0) {
                if (c == '\\') {
                    i++;
                } else if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
                continue;
            }
            if (c == '(' || c == ',' || Character.isWhitespace(c)) {
                if (!word.isEmpty()) {
                    out.add(word.toString());
                    word.setLength(0);
                }
                if (c == '(') {
                    depth++;
                }
            } else {
                word.append(c);
            }
        }
        if (!word.isEmpty()) {
            out.add(word.toString());
        }
        return out;
    }

    private static boolean isLetters(String s) {
        return s.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z');
    }

    /** 1..12 for "Jan".."Dec", any case; full names ("January") too, as some old software wrote them. */
    private static int month(String s) {
        if (s.length() < 3 || !isLetters(s)) {
            return -1;
        }
        String lower = s.toLowerCase(Locale.ROOT);
        int m = MONTHS.indexOf(lower.substring(0, 3));
        return m < 0 ? -1 : m + 1;
    }

    private static int number(String s, int minDigits, int maxDigits) {
        if (s.length() < minDigits || s.length() > maxDigits) {
            return -1;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return -1;
            }
        }
        return Integer.parseInt(s);
    }

    /**
     * The zone's offset in minutes east of UTC: "+hhmm"/"-hhmm" (RFC 5322 §3.3), or the obsolete
     * names of §4.3. Military letters and other names are unknown, "-0000" by §4.3: 0. Empty for a
     * numeric zone that is malformed, which says the field is broken rather than old.
     */
    private static OptionalInt zone(String z) {
        if (z.startsWith("+") || z.startsWith("-")) {
            String compact = z.length() == 6 && z.charAt(3) == ':' ? z.substring(0, 3) + z.substring(4) : z;
            return ZonedTime.parseZone(compact);
        }
        return OptionalInt.of(switch (z.toUpperCase(Locale.ROOT)) {
            case "EDT" -> -4 * 60;
            case "EST", "CDT" -> -5 * 60;
            case "CST", "MDT" -> -6 * 60;
            case "MST", "PDT" -> -7 * 60;
            case "PST" -> -8 * 60;
            default -> 0; // UT, GMT, Z, military letters, names we do not know
        });
    }
}

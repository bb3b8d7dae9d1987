package dev.mailstack.imapd;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The "sent date" of RFC 5256 §2.2: the Date: header's date and time (RFC 5322 §3.3, with the
 * obsolete forms of §4.3) in seconds since the epoch, normalised to UTC. Read as Dovecot reads it:
 * the day of the week is skipped, comments are ignored, an unknown zone counts as UTC. A header
 * that has no date in it gives nothing, and the caller falls back to INTERNALDATE.
 */
final class SentDate {
    private static final List<String> MONTHS = List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
            "oct", "nov", "dec");

    private SentDate() {
    }

    /** Seconds since the epoch, or empty when the value holds no day, month and year. */
    static OptionalLong parse(String value) {
        if (value == null) {
            return OptionalLong.empty();
        }
        List<String> t = tokens(value);
        int i = 0;
        if (i < t.size() && t.get(i).length() >= 3 && Character.isLetter(t.get(i).charAt(0))) {
            i++; // day-of-week
            if (i < t.size() && t.get(i).equals(",")) {
                i++;
            }
        }
        if (i + 2 >= t.size()) {
            return OptionalLong.empty();
        }
        int day = number(t.get(i), 1, 2);
        int month = t.get(i + 1).length() >= 3 ? MONTHS.indexOf(t.get(i + 1).substring(0, 3).toLowerCase(Locale.ROOT)) : -1;
        int year = number(t.get(i + 2), 2, 4);
        if (day < 0 || month < 0 || year < 0) {
            return OptionalLong.empty();
        }
        int digits = t.get(i + 2).length();
        if (digits == 2) {
            year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
        } else if (digits == 3) {
            year += 1900;
        }
        i += 3;
        LocalDate date;
        try {
            date = LocalDate.of(year, month + 1, day);
        } catch (DateTimeException e) {
            return OptionalLong.empty();
        }
        // RFC 5256 §2.2: an invalid time counts as 00:00:00, an invalid zone as UTC
        LocalTime time = LocalTime.MIDNIGHT;
        if (i + 2 < t.size() && t.get(i + 1).equals(":")) {
            int hour = number(t.get(i), 1, 2);
            int minute = number(t.get(i + 2), 2, 2);
            int second = 0;
            int next = i + 3;
            if (next + 1 < t.size() && t.get(next).equals(":")) {
                second = number(t.get(next + 1), 2, 2);
                next += 2;
            }
            if (hour >= 0 && hour < 24 && minute >= 0 && minute < 60 && second >= 0 && second < 61) {
                time = LocalTime.of(hour, minute, Math.min(second, 59));
            }
            i = next;
        }
        int offsetMinutes = i < t.size() ? zone(t.get(i)) : 0;
        return OptionalLong.of(date.atTime(time).toEpochSecond(ZoneOffset.UTC) - offsetMinutes * 60L);
    }

    /** Words, numbers, ',' and ':' apart, comments (RFC 5322 §3.2.2) dropped. */
    private static List<String> tokens(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        int depth = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && depth > 0) {
                depth--;
            } else if (depth > 0) {
                continue;
            } else if (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                if (!word.isEmpty()) {
                    out.add(word.toString());
                    word.setLength(0);
                }
                if (c == ',' || c == ':') {
                    out.add(String.valueOf(c));
                }
                continue;
            } else {
                word.append(c);
                continue;
            }
            if (!word.isEmpty()) {
                out.add(word.toString());
                word.setLength(0);
            }
        }
        if (!word.isEmpty()) {
            out.add(word.toString());
        }
        return out;
    }

    private static int number(String s, int minDigits, int maxDigits) {
        if (s.length() < minDigits || s.length() > maxDigits) {
            return -1;
        }
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    /**
     * The zone's offset from UTC in minutes: +hhmm/-hhmm, or the obsolete names of RFC 5322 §4.3
     * (UT, GMT, EST ... PDT). Military letters and anything unknown count as UTC (§4.3: "-0000").
     */
    private static int zone(String z) {
        if (z.length() == 5 && (z.charAt(0) == '+' || z.charAt(0) == '-')) {
            int hhmm = number(z.substring(1), 4, 4);
            if (hhmm < 0) {
                return 0;
            }
            int minutes = hhmm / 100 * 60 + hhmm % 100;
            return z.charAt(0) == '+' ? minutes : -minutes;
        }
        return switch (z.toUpperCase(Locale.ROOT)) {
            case "EDT" -> -4 * 60;
            case "EST", "CDT" -> -5 * 60;
            case "CST", "MDT" -> -6 * 60;
            case "MST", "PDT" -> -7 * 60;
            case "PST" -> -8 * 60;
            default -> 0;
        };
    }
}

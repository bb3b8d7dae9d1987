package dev.mailstack.sieve;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a spam or virus scanner left its verdict in the message's header, and how to read it, for
 * the spamtest and virustest tests (RFC 5235), configured as Dovecot Pigeonhole's
 * sieve_spamtest_* and sieve_virustest_* settings: the status field, what kind of status it holds
 * (a score, a run of identical characters, or a word), and the score that counts as the top of the
 * scale (a fixed value, or read from a field too). The site says which fields its own scanner
 * writes: a field of that name the sender wrote cannot be told from the scanner's, so the
 * scanner (rspamd's or SpamAssassin's milter) must replace any it finds. {@link #NONE}: no scanner
 * configured, and every test yields "0", the value for a message that was not tested (§3.1).
 *
 * @param type       how the status value is read
 * @param status     the field holding the status; empty: not configured
 * @param maxValue   the score at the top of the scale, for {@link Type#SCORE} and {@link Type#STRLEN}
 * @param maxField   the field holding that score instead, when the scanner writes it (SpamAssassin's
 *                   "required=5.0"); read first, and without it the test yields "0"
 * @param textValues for {@link Type#TEXT}: the status text that means each value (0 to 10 for
 *                   spamtest, 0 to 5 for virustest), compared whole and case-sensitively
 */
public record ScannerVerdict(Type type, Optional<FieldPattern> status, OptionalDouble maxValue,
        Optional<FieldPattern> maxField, Map<Integer, String> textValues) {

    /** Nothing configured: the test yields "0" for every message. */
    public static final ScannerVerdict NONE = new ScannerVerdict(Type.SCORE, Optional.empty(), OptionalDouble.empty(),
            Optional.empty(), Map.of());

    /** Pigeonhole's sieve_spamtest_status_type: score, strlen or text. */
    public enum Type {
        /** A decimal number, e.g. "5.3" of "score=5.3". */
        SCORE,
        /** A run of one character repeated, its length the score, e.g. "*****" (X-Spam-Level). */
        STRLEN,
        /** A word meaning a value, e.g. "Yes" or "infected". */
        TEXT;

        /** The type named as in the configuration, any case. */
        public static Type named(String name) {
            return switch (name.strip().toLowerCase(Locale.ROOT)) {
                case "score" -> SCORE;
                case "strlen" -> STRLEN;
                case "text" -> TEXT;
                default -> throw new IllegalArgumentException("must be score, strlen or text");
            };
        }
    }

    /**
     * A header field and, optionally, a regular expression (Java syntax) whose first group is the
     * value, searched for in the field's value: "X-Spam-Status: score=(-?[0-9.]+)". Written as
     * the field name, a colon, white space, the expression; the name alone takes the whole value.
     */
    public record FieldPattern(String field, Optional<Pattern> pattern) {
        public FieldPattern {
            if (!HeaderSection.isFieldName(field)) {
                throw new IllegalArgumentException("\"" + field + "\" is not a header field name");
            }
            Objects.requireNonNull(pattern, "pattern");
            if (pattern.isPresent() && pattern.get().matcher("").groupCount() < 1) {
                throw new IllegalArgumentException("the expression needs a group in ( ) around the value");
            }
        }

        /** "Name" or "Name: expression"; throws IllegalArgumentException (a bad expression too). */
        public static FieldPattern parse(String spec) {
            int colon = spec.indexOf(':');
            String name = (colon < 0 ? spec : spec.substring(0, colon)).strip();
            String expression = colon < 0 ? "" : spec.substring(colon + 1).strip();
            return new FieldPattern(name, expression.isEmpty() ? Optional.empty() : Optional.of(Pattern.compile(expression)));
        }

        /** The value in the first such field, as {@code first} gives it; empty when absent or not matching. */
        Optional<String> read(Function<String, Optional<String>> first) {
            Optional<String> value = first.apply(field);
            if (value.isEmpty() || pattern.isEmpty()) {
                return value;
            }
            Matcher m = pattern.get().matcher(value.get());
            return m.find() && m.group(1) != null ? Optional.of(m.group(1)) : Optional.empty();
        }
    }

    public ScannerVerdict {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(maxValue, "maxValue");
        Objects.requireNonNull(maxField, "maxField");
        textValues = Map.copyOf(textValues);
    }

    /** Whether a status field is configured: without one every test yields "0". */
    public boolean configured() {
        return status.isPresent();
    }

    /**
     * Pigeonhole's sieve_spamtest_text_valueN settings in one: "1=No, 10=Yes", each value 0 to
     * {@code top}. Throws IllegalArgumentException for anything else.
     */
    public static Map<Integer, String> textValues(String spec, int top) {
        Map<Integer, String> out = new TreeMap<>();
        for (String item : spec.split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            int n;
            try {
                n = eq < 0 ? -1 : Integer.parseInt(item.substring(0, eq).strip());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 0 || n > top || item.substring(eq + 1).isBlank()) {
                throw new IllegalArgumentException("expected VALUE=TEXT pairs with values 0 to " + top
                        + ", comma-separated, like 1=No, " + top + "=Yes; not \"" + item.strip() + "\"");
            }
            out.put(n, item.substring(eq + 1).strip());
        }
        return out;
    }

    /**
     * RFC 5235 §3.1-§3.3: the value the test compares, from the message's fields as {@code first}
     * gives the first of a name (unfolded, decoded): "0" when the message was not tested (nothing
     * configured, the field absent or not as expected); otherwise 1 ("definitely not") to {@code
     * top} (10 for spamtest, "definitely spam"; 5 for virustest, "known virus"), or with {@code
     * percent} (spamtestplus, §3.2) 0 to 100. A score is scaled against the maximum as Pigeonhole
     * does, rounding down: below 0 counts as 0, above the maximum as the maximum.
     */
    String value(Function<String, Optional<String>> first, int top, boolean percent) {
        if (status.isEmpty()) {
            return "0";
        }
        Optional<String> read = status.get().read(first);
        if (read.isEmpty()) {
            return "0";
        }
        String text = read.get().strip();
        double ratio;
        if (type == Type.TEXT) {
            Optional<Integer> n = textValues.entrySet().stream().filter(e -> e.getValue().equals(text))
                    .map(Map.Entry::getKey).findFirst();
            if (n.isEmpty() || n.get() == 0) {
                return "0"; // a word not configured, or the one configured to mean "not tested"
            }
            if (!percent) {
                return String.valueOf(n.get());
            }
            ratio = (n.get() - 1) / (double) (top - 1);
        } else {
            OptionalDouble max = maxField.isPresent() ? maxField.get().read(first).map(ScannerVerdict::decimal)
                    .orElse(OptionalDouble.empty()) : maxValue;
            OptionalDouble score = type == Type.SCORE ? decimal(text) : strlen(text);
            if (max.isEmpty() || max.getAsDouble() <= 0 || score.isEmpty()) {
                return "0";
            }
            ratio = Math.max(0, Math.min(1, score.getAsDouble() / max.getAsDouble()));
        }
        // as Pigeonhole: truncated, with a little slack so 0.3 × 10 is not 2.999
        return String.valueOf(percent ? (int) (ratio * 100 + 0.001) : (int) (ratio * (top - 1) + 1.001));
    }

    /** A decimal number as scanners write them: "-1.6", "5", "5.", ".13"; empty for anything else. */
    static OptionalDouble decimal(String s) {
        String t = s.strip();
        if (!t.matches("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)") || t.length() > 32) {
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(Double.parseDouble(t));
    }

    /** Pigeonhole's strlen: the length of a run of one character ("*****" is 5); empty if they differ. */
    private static OptionalDouble strlen(String s) {
        if (s.isEmpty()) {
            return OptionalDouble.of(0);
        }
        int first = s.codePointAt(0);
        return s.codePoints().allMatch(c -> c == first) ? OptionalDouble.of(s.codePointCount(0, s.length()))
                : OptionalDouble.empty();
    }
}

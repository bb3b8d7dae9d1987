package dev.mailstack.mta.milter;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The ESMTP arguments a milter gives with an address it adds or sets (smfi_addrcpt_par,
 * smfi_chgfrom): "KEYWORD=value" items separated by spaces, as after RCPT TO or MAIL FROM.
 * Only keywords a client could give us there are taken, checked as a client's would be; any
 * other is a protocol error rather than an argument silently lost.
 */
record EsmtpArguments(Map<String, String> values) {
    /** RFC 3461 §4.1, 4.2: what RCPT TO takes. */
    static final List<String> RCPT = List.of("NOTIFY", "ORCPT");
    /** RFC 1870, 6152, 6531, 3461 §4.3-4.4, 4954 §5: what MAIL FROM takes. */
    static final List<String> MAIL = List.of("SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "AUTH");
    private static final List<String> NOTIFY_KINDS = List.of("SUCCESS", "FAILURE", "DELAY");

    EsmtpArguments {
        values = Map.copyOf(values);
    }

    static EsmtpArguments parse(String text, List<String> allowed) throws MilterProtocolException {
        Map<String, String> values = new LinkedHashMap<>();
        for (String item : text.strip().split(" +")) {
            if (item.isEmpty()) {
                continue;
            }
            int eq = item.indexOf('=');
            String key = (eq < 0 ? item : item.substring(0, eq)).toUpperCase(Locale.ROOT);
            String value = eq < 0 ? "" : item.substring(eq + 1);
            if (!allowed.contains(key) || values.put(key, value) != null || !valid(key, value)) {
                throw new MilterProtocolException("ESMTP argument not taken: '" + item.replaceAll("[^\\x21-\\x7e]", "?") + "'");
            }
            values.put(key, key.equals("NOTIFY") || key.equals("RET") ? value.toUpperCase(Locale.ROOT) : value);
        }
        return new EsmtpArguments(values);
    }

    Optional<String> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    private static boolean valid(String key, String v) {
        String upper = v.toUpperCase(Locale.ROOT);
        return switch (key) {
            case "NOTIFY" -> upper.equals("NEVER")
                    || List.of(upper.split(",", -1)).stream().allMatch(NOTIFY_KINDS::contains);
            case "ORCPT" -> v.indexOf(';') > 0 && v.length() <= 500 && xtext(v.substring(v.indexOf(';') + 1));
            case "SIZE" -> v.matches("[0-9]{1,20}");
            case "BODY" -> upper.equals("7BIT") || upper.equals("8BITMIME");
            case "SMTPUTF8" -> v.isEmpty();
            case "RET" -> upper.equals("FULL") || upper.equals("HDRS");
            case "ENVID" -> v.length() <= 100 && xtext(v);
            case "AUTH" -> !v.isEmpty() && xtext(v);
            default -> false;
        };
    }

    /** RFC 3461 §4: printable ASCII but "+" and "=", "+" only as "+XX" in upper-case hex. */
    private static boolean xtext(String v) {
        return !v.isEmpty() && v.matches("(?:[\\x21-\\x2a\\x2c-\\x3c\\x3e-\\x7e]|\\+[0-9A-F]{2})*");
    }
}

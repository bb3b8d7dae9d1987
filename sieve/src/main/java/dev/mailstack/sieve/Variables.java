package dev.mailstack.sieve;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The variables of one run (RFC 5229): named variables, case-insensitive, and the match variables
 * ${0}..${9} left by the last successful :matches. Values longer than
 * {@link #MAX_VALUE_LENGTH} are cut (§6 lets an implementation limit them).
 */
final class Variables {
    /** Characters kept in one value (Pigeonhole's default variable size is 4 KiB). */
    static final int MAX_VALUE_LENGTH = 4096;
    /** RFC 5229 §3.2: at least ${0} to ${9} must be kept; we keep exactly those. */
    static final int MATCH_VARIABLES = 10;

    private final Map<String, String> named = new HashMap<>();
    /** RFC 6609 §3.4: the execution's global variables, which this script sees once it declares them. */
    private final Map<String, String> globals;
    private final Set<String> declaredGlobal = new HashSet<>();
    /** Whether the script required include, which brings the "global." namespace (RFC 6609 §3.5). */
    private final boolean globalNamespace;
    private List<String> matches = List.of();

    Variables() {
        this(new HashMap<>(), false);
    }

    Variables(Map<String, String> globals, boolean globalNamespace) {
        this.globals = globals;
        this.globalNamespace = globalNamespace;
    }

    /** RFC 6609 §3.5: "global.NAME" names the global variable NAME; null for any other name. */
    static String globalName(String s) {
        return s.length() > 7 && s.regionMatches(true, 0, "global.", 0, 7) && isName(s.substring(7)) ? s.substring(7) : null;
    }

    /** RFC 6609 §3.4: from here on, {@code name} is the execution's global variable of that name. */
    void declareGlobal(String name) {
        declaredGlobal.add(name.toLowerCase(Locale.ROOT));
    }

    /** RFC 5229 §3: identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_"). */
    static boolean isName(String s) {
        if (s.isEmpty() || s.charAt(0) >= '0' && s.charAt(0) <= '9') {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    void set(String name, String value) {
        String global = globalNamespace ? globalName(name) : null;
        String key = (global == null ? name : global).toLowerCase(Locale.ROOT);
        (global != null || declaredGlobal.contains(key) ? globals : named).put(key, truncate(value));
    }

    String get(String name) {
        String global = globalNamespace ? globalName(name) : null;
        String key = (global == null ? name : global).toLowerCase(Locale.ROOT);
        return (global != null || declaredGlobal.contains(key) ? globals : named).getOrDefault(key, "");
    }

    /** RFC 5229 §3.2: a successful :matches replaces all the match variables. */
    void setMatches(List<String> values) {
        matches = List.copyOf(values.subList(0, Math.min(values.size(), MATCH_VARIABLES)));
    }

    /**
     * RFC 5229 §3: replaces each ${name} and ${digits} with its value; an unset variable is the
     * empty string; anything else that looks like a reference (a namespace, a bad name) stays as
     * written. Replaced text is not expanded again.
     */
    String expand(String s) {
        if (!s.contains("${")) {
            return s;
        }
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            int open = s.indexOf("${", i);
            if (open < 0) {
                out.append(s, i, s.length());
                break;
            }
            out.append(s, i, open);
            // the reference ends at the first character that cannot be in a name: scanning only
            // that far keeps a string full of "${" linear
            int end = open + 2;
            while (end < s.length() && (isNameChar(s.charAt(end)) || s.charAt(end) == '.')) {
                end++;
            }
            String value = end < s.length() && s.charAt(end) == '}' ? lookup(s.substring(open + 2, end)) : null;
            if (value == null) {
                out.append("${");
                i = open + 2;
            } else {
                out.append(value);
                i = end + 1;
            }
            if (out.length() > MAX_VALUE_LENGTH * 4) {
                break; // the caller truncates; no need to build more
            }
        }
        return out.toString();
    }

    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }

    /** The value of a name or a match-variable number; null when the text is neither. */
    private String lookup(String ref) {
        if (!ref.isEmpty() && ref.chars().allMatch(c -> c >= '0' && c <= '9')) {
            String digits = ref.replaceFirst("^0+(?=.)", "");
            if (digits.length() > 2) {
                return "";
            }
            int n = Integer.parseInt(digits);
            return n < matches.size() ? matches.get(n) : "";
        }
        if (globalNamespace && globalName(ref) != null) {
            return get(ref);
        }
        return isName(ref) ? get(ref) : null; // another namespace (RFC 5229 §3): left as written
    }

    static String truncate(String value) {
        if (value.length() <= MAX_VALUE_LENGTH) {
            return value;
        }
        int end = MAX_VALUE_LENGTH;
        if (Character.isHighSurrogate(value.charAt(end - 1))) {
            end--; // never split a character
        }
        return value.substring(0, end);
    }

    /**
     * Applies set's modifiers in RFC 5229 §4.1's order of precedence: :lower/:upper (40),
     * :lowerfirst/:upperfirst (30), :quotewildcard (20), RFC 5435 §4.1's :encodeurl (15), :length (10).
     */
    static String modify(String value, Arguments a) {
        String v = value;
        if (a.has("lower")) {
            v = v.toLowerCase(Locale.ROOT);
        } else if (a.has("upper")) {
            v = v.toUpperCase(Locale.ROOT);
        }
        if (!v.isEmpty() && (a.has("lowerfirst") || a.has("upperfirst"))) {
            int first = v.codePointAt(0);
            int changed = a.has("lowerfirst") ? Character.toLowerCase(first) : Character.toUpperCase(first);
            v = new StringBuilder().appendCodePoint(changed).append(v, Character.charCount(first), v.length()).toString();
        }
        if (a.has("quotewildcard")) {
            StringBuilder q = new StringBuilder();
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c == '*' || c == '?' || c == '\\') {
                    q.append('\\');
                }
                q.append(c);
            }
            v = q.toString();
        }
        if (a.has("encodeurl")) {
            v = MailtoUri.encode(v);
        }
        if (a.has("length")) {
            v = String.valueOf(v.codePointCount(0, v.length()));
        }
        return v;
    }
}

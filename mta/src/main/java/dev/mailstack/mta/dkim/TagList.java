package dev.mailstack.mta.dkim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tag=value lists of DKIM-Signature fields and key records (RFC 6376 §3.2): tag names as
 * written (they are case-sensitive), values with the folding whitespace around them removed. A tag given twice, or an entry without
 * '=', makes the whole list invalid (IllegalArgumentException).
 */
final class TagList {
    private TagList() {
    }

    static Map<String, String> parse(String text) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (String entry : text.split(";", -1)) {
            if (entry.isBlank()) {
                continue; // a trailing ';' is allowed
            }
            int eq = entry.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("no '=' in \"" + entry.strip() + "\"");
            }
            String name = unfolded(entry.substring(0, eq)); // RFC 6376 §3.2: names are case-sensitive
            if (!name.matches("[A-Za-z][A-Za-z0-9_]*")) {
                throw new IllegalArgumentException("bad tag name \"" + name + "\"");
            }
            if (tags.put(name, unfolded(entry.substring(eq + 1))) != null) {
                throw new IllegalArgumentException("tag " + name + "= given twice");
            }
        }
        return tags;
    }

    private static String unfolded(String s) {
        return s.replace("\r\n", "").strip();
    }

    /** A base64 value (b=, bh=, p=) with the whitespace DKIM allows inside it removed (§3.2). */
    static String base64(String value) {
        return value.replaceAll("[ \t\r\n]", "");
    }
}

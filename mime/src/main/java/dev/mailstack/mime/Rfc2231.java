package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * RFC 2231 parameter values: continuations ({@code name*0=}, {@code name*1=}, §3), and
 * charset'language'percent-encoded values ({@code name*=utf-8'zh'%E6%8A%A5}, §4), the form mail
 * clients use for non-ASCII attachment names. Tolerant: gaps in the continuation numbers, a
 * missing charset (UTF-8 assumed), unknown charsets (guessed), and the RFC 2047 encoded-words
 * that Outlook and others put inside quoted parameter values.
 */
public final class Rfc2231 {
    private Rfc2231() {
    }

    /**
     * Decodes parameters as they were written (names lower case, values unquoted, in header
     * order) into one value per parameter name, in the order each name first appeared. Where both
     * {@code name} and {@code name*} are present the RFC 2231 form wins (§4: it is the one a
     * client that knows RFC 2231 wrote for itself).
     */
    public static Map<String, String> decode(Map<String, String> raw) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, String> plain = new LinkedHashMap<>();
        Map<String, TreeMap<Integer, Piece>> pieces = new LinkedHashMap<>();
        Map<String, String> extended = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            boolean encoded = name.endsWith("*");
            String base = encoded ? name.substring(0, name.length() - 1) : name;
            int star = base.indexOf('*');
            if (star > 0) {
                Integer index = number(base.substring(star + 1));
                if (index != null) {
                    String key = base.substring(0, star);
                    out.putIfAbsent(key, null); // the name's place in the order
                    pieces.computeIfAbsent(key, k -> new TreeMap<>()).putIfAbsent(index, new Piece(e.getValue(), encoded));
                    continue;
                }
            }
            out.putIfAbsent(base, null);
            if (encoded) {
                extended.putIfAbsent(base, e.getValue());
            } else {
                plain.putIfAbsent(base, e.getValue());
            }
        }
        for (Map.Entry<String, String> e : out.entrySet()) {
            String name = e.getKey();
            String value;
            if (pieces.containsKey(name)) {
                value = joined(pieces.get(name));
            } else if (extended.containsKey(name)) {
                value = extendedValue(extended.get(name));
            } else {
                String v = plain.get(name);
                value = v.contains("=?") ? Rfc2047.decode(v) : v; // not RFC 2231, but common (Outlook)
            }
            e.setValue(value);
        }
        return out;
    }

    /** One {@code charset'language'percent-encoded} value (RFC 2231 §4), decoded. */
    public static String extendedValue(String value) {
        String[] cs = new String[1];
        String text = stripCharset(value, cs);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        percentDecode(text, bytes);
        return decode(bytes.toByteArray(), cs[0]);
    }

    /** RFC 2231 §7 attribute-char: what a section may carry unescaped (no tspecials, '*', ' or '%'). */
    private static final String ATTRIBUTE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$&+-.^_`|~";

    /**
     * The parameter {@code name} with a value of {@code octets} in {@code charset}, written as
     * RFC 2231 §4 {@code name*=charset''%E6%8A%A5}, or as numbered sections {@code name*0*=},
     * {@code name*1*=}, ... (§3, §4.1) when that does not fit a folded line: each returned token
     * is at most {@code lineRoom} characters, and a %XX escape is never cut.
     */
    static java.util.List<String> encode(String name, byte[] octets, java.nio.charset.Charset charset, int lineRoom) {
        StringBuilder escaped = new StringBuilder();
        for (byte b : octets) {
            int c = b & 0xff;
            if (c < 0x80 && ATTRIBUTE_CHARS.indexOf(c) >= 0) {
                escaped.append((char) c);
            } else {
                escaped.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        String prefix = charset.name() + "''";
        String whole = name + "*=" + prefix + escaped;
        if (whole.length() <= lineRoom) {
            return java.util.List.of(whole);
        }
        java.util.List<String> sections = new java.util.ArrayList<>();
        int i = 0;
        while (i < escaped.length()) {
            String head = name + "*" + sections.size() + "*=" + (sections.isEmpty() ? prefix : "");
            int end = Math.min(escaped.length(), i + Math.max(3, lineRoom - head.length()));
            if (end < escaped.length()) {
                // keep %XX whole: only the last two places can hold a cut escape's '%' (looking back
                // further for one, as lastIndexOf did, was quadratic on a long run without escapes)
                if (escaped.charAt(end - 1) == '%') {
                    end -= 1;
                } else if (end - 2 > i && escaped.charAt(end - 2) == '%') {
                    end -= 2;
                }
            }
            sections.add(head + escaped.substring(i, end));
            i = end;
        }
        return sections;
    }

    /** RFC 2231 §4.1: only the first section names the charset; encoded sections are percent-decoded. */
    private static String joined(TreeMap<Integer, Piece> sections) {
        String charset = null;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean first = true;
        for (Piece piece : sections.values()) {
            String v = piece.value();
            if (piece.encoded()) {
                if (first) {
                    String[] cs = new String[1];
                    v = stripCharset(v, cs);
                    charset = cs[0];
                }
                percentDecode(v, bytes);
            } else {
                bytes.writeBytes(v.getBytes(StandardCharsets.UTF_8));
            }
            first = false;
        }
        String text = decode(bytes.toByteArray(), charset);
        return charset == null && text.contains("=?") ? Rfc2047.decode(text) : text;
    }

    private record Piece(String value, boolean encoded) {
    }

    private static String decode(byte[] b, String charset) {
        return MailCharset.decode(b, 0, b.length, charset == null || charset.isEmpty() ? "utf-8" : charset);
    }

    private static String stripCharset(String v, String[] charset) {
        int q1 = v.indexOf('\'');
        int q2 = q1 < 0 ? -1 : v.indexOf('\'', q1 + 1);
        if (q2 < 0) {
            return v; // no charset'language' prefix: tolerated
        }
        charset[0] = v.substring(0, q1);
        return v.substring(q2 + 1);
    }

    private static Integer number(String s) {
        if (s.isEmpty() || s.length() > 4 || !s.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return Integer.parseInt(s);
    }

    private static void percentDecode(String v, ByteArrayOutputStream out) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '%' && i + 2 < v.length() && hex(v.charAt(i + 1)) >= 0 && hex(v.charAt(i + 2)) >= 0) {
                out.write(hex(v.charAt(i + 1)) << 4 | hex(v.charAt(i + 2)));
                i += 2;
                continue;
            }
            out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8)); // a lone '%' or raw text stays
        }
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }
}

package dev.mailstack.mta.inbound;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The macro language of RFC 7208 §7 and the values its letters stand for in one check_host():
 * {@code localPart}, {@code senderDomain} (together the sender, %{s}), {@code domain} (%{d}, the
 * domain whose record is being read), the client {@code ip}, the {@code helo} name, the
 * {@code receiver} (%{r}), the {@code time} in seconds (%{t}) and the client's validated name
 * for a domain (%{p}), asked for only when a macro uses it: it costs DNS lookups.
 */
record SpfMacros(String localPart, String senderDomain, String domain, InetAddress ip, String helo,
                 String receiver, long time, UnaryOperator<String> validatedName) {
    /** RFC 7208 §7.1: the characters a macro may split its value on. */
    private static final String DELIMITERS = ".-+,/_=";
    /** RFC 1035 §2.3.4 in text form, without the trailing dot. */
    private static final int MAX_NAME = 253;

    /** The same values, for the record of another domain (include and redirect, §5.2 and §6.1). */
    SpfMacros forDomain(String other) {
        return new SpfMacros(localPart, senderDomain, other, ip, helo, receiver, time, validatedName);
    }

    /**
     * Checks the syntax of a macro-string (§7.1) without expanding it, so that an error anywhere
     * in a record is found before any of it is evaluated (§4.6). The letters c, r and t are
     * allowed only in {@code explanation} text, which may also hold spaces.
     */
    static void checkSyntax(String text, boolean explanation) throws SpfError {
        expand(text, explanation, null);
    }

    /** {@code text} with its macros replaced (§7.3). */
    String expand(String text, boolean explanation) throws SpfError {
        return expand(text, explanation, this);
    }

    /**
     * A domain-spec expanded into the name to ask DNS for: without a trailing dot, and cut from
     * the left a label at a time when longer than DNS allows (§7.3, last paragraph).
     */
    String name(String domainSpec) throws SpfError {
        String name = expand(domainSpec, false);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        // left-hand labels go until it fits; moving an index, not copying the rest for each label
        // (a record of many short labels made that quadratic)
        int start = 0;
        while (name.length() - start > MAX_NAME && name.indexOf('.', start) >= 0) {
            start = name.indexOf('.', start) + 1;
        }
        return name.substring(start);
    }

    private static String expand(String text, boolean explanation, SpfMacros values) throws SpfError {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c != '%') {
                // macro-literal = %x21-24 / %x26-7E; explain-string adds SP
                if ((c < 0x21 || c > 0x7e) && !(explanation && c == ' ')) {
                    throw SpfError.permanent("character " + (int) c + " not allowed in " + text);
                }
                out.append(c);
                continue;
            }
            char next = i + 1 < text.length() ? text.charAt(i + 1) : 0;
            i++;
            switch (next) {
                case '%' -> out.append('%');
                case '_' -> out.append(' ');
                case '-' -> out.append("%20");
                case '{' -> {
                    int end = text.indexOf('}', i);
                    if (end < 0) {
                        throw SpfError.permanent("unterminated macro in " + text);
                    }
                    String macro = text.substring(i + 1, end);
                    out.append(values == null ? checkMacro(macro, explanation, text) : values.macro(macro, explanation, text));
                    i = end;
                }
                default -> throw SpfError.permanent("'%' not followed by '{', '%', '_' or '-' in " + text);
            }
        }
        return out.toString();
    }

    /** One macro's inside: letter, optional digits and 'r', delimiters (§7.1 macro-expand). */
    private record Macro(char letter, boolean upper, int parts, boolean reverse, String delimiters) {
    }

    private static Macro parse(String macro, boolean explanation, String text) throws SpfError {
        if (macro.isEmpty()) {
            throw SpfError.permanent("empty macro in " + text);
        }
        char letter = Character.toLowerCase(macro.charAt(0));
        if ("slodipvh".indexOf(letter) < 0 && !(explanation && "crt".indexOf(letter) >= 0)) {
            throw SpfError.permanent("macro letter '" + macro.charAt(0) + "' not allowed in " + text);
        }
        int i = 1;
        int parts = 0;
        while (i < macro.length() && Character.isDigit(macro.charAt(i))) {
            parts = Math.min(parts * 10 + (macro.charAt(i++) - '0'), 1000); // more than any name has
        }
        if (i > 1 && parts == 0) {
            throw SpfError.permanent("macro keeps zero parts in " + text); // §7.3: the number MUST be nonzero
        }
        boolean reverse = i < macro.length() && Character.toLowerCase(macro.charAt(i)) == 'r';
        if (reverse) {
            i++;
        }
        String delimiters = macro.substring(i);
        for (char d : delimiters.toCharArray()) {
            if (DELIMITERS.indexOf(d) < 0) {
                throw SpfError.permanent("macro delimiter '" + d + "' not allowed in " + text);
            }
        }
        return new Macro(letter, Character.isUpperCase(macro.charAt(0)), parts, reverse, delimiters.isEmpty() ? "." : delimiters);
    }

    private static String checkMacro(String macro, boolean explanation, String text) throws SpfError {
        parse(macro, explanation, text);
        return "";
    }

    private String macro(String text, boolean explanation, String whole) throws SpfError {
        Macro m = parse(text, explanation, whole);
        // §7.3: split on the delimiters, reverse, keep the right-hand parts, join with dots
        List<String> parts = new ArrayList<>();
        String value = value(m.letter());
        int start = 0;
        for (int i = 0; i <= value.length(); i++) {
            if (i == value.length() || m.delimiters().indexOf(value.charAt(i)) >= 0) {
                parts.add(value.substring(start, i));
                start = i + 1;
            }
        }
        if (m.reverse()) {
            Collections.reverse(parts);
        }
        if (m.parts() > 0 && m.parts() < parts.size()) {
            parts = parts.subList(parts.size() - m.parts(), parts.size());
        }
        String out = String.join(".", parts);
        return m.upper() ? urlEscaped(out) : out;
    }

    private String value(char letter) {
        return switch (letter) {
            case 's' -> localPart + "@" + senderDomain;
            case 'l' -> localPart;
            case 'o' -> senderDomain;
            case 'd' -> domain;
            case 'i' -> dotted(ip);
            case 'p' -> validatedName.apply(domain);
            case 'v' -> ip instanceof Inet4Address ? "in-addr" : "ip6";
            case 'h' -> helo;
            case 'c' -> readable(ip);
            case 'r' -> receiver;
            case 't' -> Long.toString(time);
            default -> throw new IllegalArgumentException("macro letter " + letter); // parse() let it through
        };
    }

    /** §7.3: IPv4 as dotted octets, IPv6 as dot-separated nibbles ("1.0.b.c.0.0..."), so that %{ir} reverses it. */
    static String dotted(InetAddress ip) {
        byte[] b = ip.getAddress();
        StringBuilder out = new StringBuilder();
        for (byte octet : b) {
            if (!out.isEmpty()) {
                out.append('.');
            }
            if (ip instanceof Inet4Address) {
                out.append(octet & 0xff);
            } else {
                out.append(Character.forDigit((octet >> 4) & 0xf, 16)).append('.').append(Character.forDigit(octet & 0xf, 16));
            }
        }
        return out.toString();
    }

    /** §7.3 for %{c}: an address as people write it; for IPv6 the shortest form of RFC 5952 §4. */
    static String readable(InetAddress ip) {
        if (ip instanceof Inet4Address) {
            return ip.getHostAddress();
        }
        byte[] b = ip.getAddress();
        int[] groups = new int[8];
        for (int g = 0; g < 8; g++) {
            groups[g] = ((b[2 * g] & 0xff) << 8) | (b[2 * g + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
        for (int g = 0; g < 8; g++) {
            int length = 0;
            while (g + length < 8 && groups[g + length] == 0) {
                length++;
            }
            if (length > bestLength) {
                bestStart = g;
                bestLength = length;
            }
        }
        StringBuilder out = new StringBuilder();
        for (int g = 0; g < 8; g++) {
            if (g == bestStart) {
                out.append("::");
                g += bestLength - 1;
                continue;
            }
            if (!out.isEmpty() && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[g]));
        }
        return out.toString();
    }

    /** §7.3: an upper-case macro letter URL-escapes its value, everything outside RFC 3986's unreserved set. */
    private static String urlEscaped(String value) {
        StringBuilder out = new StringBuilder();
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}

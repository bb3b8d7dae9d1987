package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A structured header value such as Content-Type or Content-Disposition: the leading token and
 * its parameters (RFC 2045 §5.1), with RFC 2231 continuations ({@code name*0=}, {@code name*1=}) and
 * charset/language ({@code name*=utf-8'zh'%E6%8A%A5...}) decoded. Broken input gives what it can.
 */
public record HeaderValue(String value, Map<String, String> params) {
    public static HeaderValue parse(String text, int maxParams) {
        String s = text == null ? "" : stripComments(text);
        int semi = indexOutsideQuotes(s, ';', 0);
        String value = (semi < 0 ? s : s.substring(0, semi)).strip().toLowerCase(Locale.ROOT);
        Map<String, String> raw = new LinkedHashMap<>();
        int pos = semi;
        while (pos >= 0 && pos < s.length() && raw.size() < maxParams) {
            int next = indexOutsideQuotes(s, ';', pos + 1);
            String param = (next < 0 ? s.substring(pos + 1) : s.substring(pos + 1, next)).strip();
            int eq = param.indexOf('=');
            if (eq > 0) {
                String name = param.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                String v = param.substring(eq + 1).strip();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = unquote(v.substring(1, v.length() - 1));
                } else if (v.startsWith("\"")) {
                    v = unquote(v.substring(1)); // unterminated quote: take the rest
                }
                raw.putIfAbsent(name, v);
            }
            pos = next;
        }
        return new HeaderValue(value, rfc2231(raw));
    }

    /** RFC 2231 §3-4: joins name*0, name*1... and decodes charset'language'percent-encoded values. */
    static Map<String, String> rfc2231(Map<String, String> raw) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, TreeMap<Integer, String[]>> pieces = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String name = e.getKey();
            boolean encoded = name.endsWith("*");
            String base = encoded ? name.substring(0, name.length() - 1) : name;
            int star = base.indexOf('*');
            if (star > 0) {
                try {
                    int index = Integer.parseInt(base.substring(star + 1));
                    pieces.computeIfAbsent(base.substring(0, star), k -> new TreeMap<>())
                            .put(index, new String[]{e.getValue(), encoded ? "1" : "0"});
                    continue;
                } catch (NumberFormatException ignored) {
                    // not a continuation: keep the name as it is
                }
            }
            if (encoded) {
                out.put(base, decodeExtended(e.getValue(), null, true));
            } else {
                out.putIfAbsent(base, e.getValue().contains("=?") ? Rfc2047.decode(e.getValue()) : e.getValue());
            }
        }
        for (Map.Entry<String, TreeMap<Integer, String[]>> p : pieces.entrySet()) {
            String charset = null;
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            boolean first = true;
            for (String[] piece : p.getValue().values()) {
                String v = piece[0];
                if (piece[1].equals("1")) {
                    if (first) {
                        int q1 = v.indexOf('\'');
                        int q2 = q1 < 0 ? -1 : v.indexOf('\'', q1 + 1);
                        if (q2 > 0) {
                            charset = v.substring(0, q1);
                            v = v.substring(q2 + 1);
                        }
                    }
                    percentDecode(v, bytes);
                } else {
                    byte[] b = v.getBytes(StandardCharsets.UTF_8);
                    bytes.write(b, 0, b.length);
                }
                first = false;
            }
            byte[] b = bytes.toByteArray();
            out.put(p.getKey(), MailCharset.decode(b, 0, b.length, charset == null || charset.isEmpty() ? "utf-8" : charset));
        }
        return out;
    }

    private static String decodeExtended(String v, String charset, boolean withCharset) {
        String cs = charset;
        String text = v;
        if (withCharset) {
            int q1 = v.indexOf('\'');
            int q2 = q1 < 0 ? -1 : v.indexOf('\'', q1 + 1);
            if (q2 > 0) {
                cs = v.substring(0, q1);
                text = v.substring(q2 + 1);
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        percentDecode(text, bytes);
        byte[] b = bytes.toByteArray();
        return MailCharset.decode(b, 0, b.length, cs == null || cs.isEmpty() ? "utf-8" : cs);
    }

    private static void percentDecode(String v, ByteArrayOutputStream out) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '%' && i + 2 < v.length()) {
                try {
                    out.write(Integer.parseInt(v.substring(i + 1, i + 3), 16));
                    i += 2;
                    continue;
                } catch (NumberFormatException e) {
                    // a lone '%': keep it
                }
            }
            byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
            out.write(b, 0, b.length);
        }
    }

    private static String unquote(String s) {
        return HeaderSyntax.unescape(s);
    }

    private static int indexOutsideQuotes(String s, char target, int from) {
        return HeaderSyntax.indexOutsideQuotes(s, target, from);
    }

    /** RFC 5322 comments "(...)" outside quotes, which some senders put in Content-Type. */
    private static String stripComments(String s) {
        if (s.indexOf('(') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder();
        boolean quoted = false;
        int depth = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' && depth == 0) {
                quoted = !quoted;
            } else if (!quoted && c == '(') {
                depth++;
                continue;
            } else if (!quoted && c == ')' && depth > 0) {
                depth--;
                continue;
            }
            if (depth == 0) {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}

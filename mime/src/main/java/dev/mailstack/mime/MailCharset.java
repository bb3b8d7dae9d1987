package dev.mailstack.mime;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Charset names as mail software meets them, mapped the way mail readers do: GB2312 and GBK
 * text is decoded as GB18030 (their superset, so the characters senders' software really used
 * come out), ks_c_5601-1987 as windows-949, and unknown names fall back instead of failing.
 */
public final class MailCharset {
    /**
     * The fallback chain for raw 8-bit text that is not UTF-8 (config mime.fallback_charsets):
     * GB18030 (a superset of GB2312 and GBK), then ISO-8859-1, which decodes any octets and so
     * ends every guess without failing.
     */
    public static final List<Charset> DEFAULT_FALLBACK = List.of(Charset.forName("GB18030"), StandardCharsets.ISO_8859_1);
    /** A fallback charset is still taken when at most this share of its 8-bit octets is malformed (stray bytes). */
    private static final double TOLERATED_ERRORS = 0.01;

    private static final Map<String, String> ALIASES = Map.ofEntries(
            Map.entry("gb2312", "GB18030"), Map.entry("gbk", "GB18030"), Map.entry("x-gbk", "GB18030"),
            Map.entry("cp936", "GB18030"), Map.entry("ms936", "GB18030"), Map.entry("gb_2312-80", "GB18030"),
            Map.entry("euc-cn", "GB18030"), Map.entry("csgb2312", "GB18030"), Map.entry("chinese", "GB18030"),
            // the JDK's other names for strict GB2312 (EUC_CN), where GBK characters would become U+FFFD
            Map.entry("gb2312-80", "GB18030"), Map.entry("gb2312-1980", "GB18030"), Map.entry("euccn", "GB18030"),
            Map.entry("x-euc-cn", "GB18030"), Map.entry("euc_cn", "GB18030"), Map.entry("windows-936", "GB18030"),
            Map.entry("cp949", "x-windows-949"), Map.entry("cp950", "x-windows-950"),
            Map.entry("ks_c_5601-1987", "x-windows-949"), Map.entry("ks_c_5601", "x-windows-949"),
            Map.entry("euc-kr", "x-windows-949"), Map.entry("utf8", "UTF-8"), Map.entry("utf-8", "UTF-8"),
            Map.entry("big5", "Big5-HKSCS"), Map.entry("iso-8859-8-i", "ISO-8859-8"),
            Map.entry("unicode-1-1-utf-8", "UTF-8"), Map.entry("iso-8859-1", "windows-1252"),
            Map.entry("latin1", "windows-1252"));

    private MailCharset() {
    }

    /** The charset to decode with; empty when the name is unknown here. */
    public static Optional<Charset> lookup(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String n = name.strip().toLowerCase(Locale.ROOT);
        int star = n.indexOf('*'); // RFC 2231 §5: charset*language
        if (star >= 0) {
            n = n.substring(0, star);
        }
        if (n.startsWith("\"") && n.endsWith("\"") && n.length() > 1) {
            n = n.substring(1, n.length() - 1);
        }
        String mapped = ALIASES.get(n);
        try {
            return Optional.of(Charset.forName(mapped != null ? mapped : n));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Decodes with the named charset, or guesses (UTF-8, then the default fallback chain) when it is unknown. */
    public static String decode(byte[] bytes, int off, int len, String name) {
        return decode(bytes, off, len, name, DEFAULT_FALLBACK);
    }

    /**
     * Decodes with the named charset; never fails. A missing, unknown or us-ascii name with 8-bit
     * octets (a label that is a lie, as RFC 2045's default often is) is guessed: UTF-8 if the
     * octets are valid UTF-8, else the first of {@code fallback} they decode in. Malformed octets
     * in a known charset become U+FFFD.
     */
    public static String decode(byte[] bytes, int off, int len, String name, List<Charset> fallback) {
        if (name == null || name.equalsIgnoreCase("us-ascii") || name.equalsIgnoreCase("ascii")) {
            return guess(bytes, off, len, fallback);
        }
        Optional<Charset> cs = lookup(name);
        if (cs.isPresent()) {
            return new String(bytes, off, len, cs.get());
        }
        return guess(bytes, off, len, fallback);
    }

    /** Valid UTF-8 (which covers pure ASCII) decodes as UTF-8; anything else with the first fallback. */
    public static String guess(byte[] bytes, int off, int len, List<Charset> fallback) {
        return new String(bytes, off, len, detect(bytes, off, len, fallback));
    }

    /**
     * The charset raw octets are in: UTF-8 (which covers ASCII) when they are valid UTF-8, else the
     * first fallback they decode in, allowing a few stray bytes (1%), else the last fallback.
     */
    public static Charset detect(byte[] bytes, int off, int len, List<Charset> fallback) {
        if (isUtf8(bytes, off, len)) {
            return StandardCharsets.UTF_8;
        }
        if (fallback.isEmpty()) {
            return StandardCharsets.ISO_8859_1;
        }
        long high = 0;
        for (int i = off; i < off + len; i++) {
            high += bytes[i] < 0 ? 1 : 0;
        }
        for (Charset c : fallback) {
            if (malformed(bytes, off, len, c) <= high * TOLERATED_ERRORS) {
                return c;
            }
        }
        return fallback.get(fallback.size() - 1);
    }

    /** How many malformed or unmappable sequences decoding meets. */
    private static long malformed(byte[] bytes, int off, int len, Charset c) {
        java.nio.charset.CharsetDecoder d = c.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, off, len);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(Math.max(16, len));
        long errors = 0;
        while (true) {
            java.nio.charset.CoderResult r = d.decode(in, out, true);
            if (r.isError()) {
                errors++;
                in.position(in.position() + r.length());
                continue;
            }
            if (r.isOverflow()) {
                out.clear();
                continue;
            }
            return errors;
        }
    }

    public static boolean isUtf8(byte[] bytes, int off, int len) {
        return decodesCleanly(bytes, off, len, StandardCharsets.UTF_8);
    }

    /**
     * The bytes as UTF-8 text, or empty when they are not UTF-8: strictly, where a lenient decode
     * would put U+FFFD into a name, a script or a reply that nobody wrote that way.
     */
    public static java.util.Optional<String> decodeUtf8(byte[] bytes, int off, int len) {
        try {
            return java.util.Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, off, len)).toString());
        } catch (CharacterCodingException e) {
            return java.util.Optional.empty();
        }
    }

    private static boolean decodesCleanly(byte[] bytes, int off, int len, Charset c) {
        try {
            c.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, off, len));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}

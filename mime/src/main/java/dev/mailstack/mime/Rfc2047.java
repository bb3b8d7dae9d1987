package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * RFC 2047 encoded-words in headers. Decoding joins adjacent words of one charset at the byte
 * level before converting (senders split a multi-byte character across two words), and their
 * base64 text when a sender split it mid-quantum, drops the
 * whitespace between encoded-words (§6.2), and accepts the usual breakage: lower-case b/q,
 * words glued to text, and unknown charsets (guessed).
 */
public final class Rfc2047 {
    private static final Pattern WORD = Pattern.compile("=\\?([^?\\s]+)\\?([bBqQ])\\?([^?]*)\\?=");
    /** RFC 2047 §2: an encoded-word is at most 75 characters. */
    private static final int MAX_WORD = 75;

    private Rfc2047() {
    }

    public static String decode(String value) {
        if (value == null || !value.contains("=?")) {
            return value;
        }
        StringBuilder out = new StringBuilder();
        Matcher m = WORD.matcher(value);
        int last = 0;
        String pendingCharset = null;
        ByteArrayOutputStream pending = new ByteArrayOutputStream();
        List<String> pendingBase64 = new ArrayList<>();
        while (m.find()) {
            String gap = value.substring(last, m.start());
            boolean adjacent = pendingCharset != null && gap.isBlank();
            String charset = m.group(1);
            boolean b = m.group(2).equalsIgnoreCase("B");
            if (!adjacent || !charset.equalsIgnoreCase(pendingCharset)) {
                flush(out, pending, pendingBase64, pendingCharset);
                pendingCharset = null;
                if (!adjacent) {
                    out.append(gap);
                }
            }
            if (b) {
                pendingBase64.add(m.group(3));
            } else {
                base64(pendingBase64, pending, charset);
                byte[] text = m.group(3).getBytes(StandardCharsets.ISO_8859_1);
                pending.writeBytes(TransferEncoding.quotedPrintable(text, 0, text.length, true));
            }
            pendingCharset = charset;
            last = m.end();
        }
        flush(out, pending, pendingBase64, pendingCharset);
        out.append(value.substring(last));
        return out.toString();
    }

    private static void flush(StringBuilder out, ByteArrayOutputStream pending, List<String> pendingBase64, String charset) {
        base64(pendingBase64, pending, charset);
        if (charset != null && pending.size() > 0) {
            byte[] b = pending.toByteArray();
            out.append(MailCharset.decode(b, 0, b.length, charset));
        }
        pending.reset();
    }

    /**
     * The text of adjacent B-words of one charset, decoded. Broken senders split the base64 of
     * the whole text into words at any character, mid-quantum ("5Lit5paH5r" "WL6K+V"), and others
     * leave out each word's padding ("QQ" "QQ", "AA"): both are valid base64 word by word and
     * joined. Each word on its own is RFC 2047 §5's reading; the joined text is taken instead only
     * when it reads better in the charset (fewer undecodable octets and control characters), which
     * a split character makes plain.
     */
    private static void base64(List<String> words, ByteArrayOutputStream pending, String charset) {
        if (words.isEmpty()) {
            return;
        }
        ByteArrayOutputStream each = new ByteArrayOutputStream();
        for (String w : words) {
            byte[] text = w.getBytes(StandardCharsets.ISO_8859_1);
            each.writeBytes(TransferEncoding.base64(text, 0, text.length));
        }
        byte[] chosen = each.toByteArray();
        String joined = String.join("", words);
        if (words.stream().anyMatch(w -> w.length() % 4 != 0) && joined.length() % 4 == 0) {
            byte[] text = joined.getBytes(StandardCharsets.ISO_8859_1);
            byte[] whole = TransferEncoding.base64(text, 0, text.length);
            if (flaws(whole, charset) < flaws(chosen, charset)) {
                chosen = whole;
            }
        }
        pending.writeBytes(chosen);
        words.clear();
    }

    /** How badly octets read in a charset: characters it cannot decode, and control characters. */
    private static long flaws(byte[] octets, String charset) {
        return MailCharset.decode(octets, 0, octets.length, charset).chars()
                .filter(c -> c == '\uFFFD' || c < 0x20 && c != '\t' && c != '\r' && c != '\n').count();
    }

    /** {@link #encode(String, Charset, int)} for a value that starts a line (column 0). */
    public static String encode(String text, Charset cs) {
        return encode(text, cs, 0);
    }

    /**
     * Encodes text as B encoded-words in {@code cs}, never splitting a character (RFC 2047 §5:
     * each word must decode on its own), each word at most 75 characters (§2), words separated by
     * CRLF SP so that no line passes 78 columns (RFC 5322 §2.1.1) when the value is written after
     * {@code firstLineUsed} columns (the field name, colon and space). After a name too long to
     * leave room for one word the value starts with CRLF SP, its first word on a line of its own.
     */
    public static String encode(String text, Charset cs, int firstLineUsed) {
        StringBuilder out = new StringBuilder();
        List<String> words = words(text, cs, FOLD_AT - firstLineUsed);
        for (String w : words) {
            if (!out.isEmpty() || firstLineUsed > 0 && firstLineUsed + w.length() > FOLD_AT) {
                out.append("\r\n ");
            }
            out.append(w);
        }
        return out.toString();
    }

    /** RFC 5322 §2.1.1: lines SHOULD be at most 78 characters. */
    static final int FOLD_AT = 78;

    /**
     * The encoded-words for {@code text}; the first is at most {@code firstRoom} characters when
     * that leaves room for at least one character, every other one at most 75 (a folded line starts
     * with one space, 1 + 75 ≤ 78).
     */
    static List<String> words(String text, Charset cs, int firstRoom) {
        String prefix = "=?" + cs.name() + "?B?";
        List<String> out = new ArrayList<>();
        int i = 0;
        int room = Math.min(MAX_WORD, firstRoom);
        int maxChar = (int) Math.ceil(cs.newEncoder().maxBytesPerChar()) * 2; // a surrogate pair at worst
        if ((room - prefix.length() - 2) / 4 * 3 < maxChar) {
            room = MAX_WORD; // not even one character fits: the caller folds before the first word
        }
        while (i < text.length()) {
            int maxBytes = (room - prefix.length() - 2) / 4 * 3;
            int j = i;
            int bytes = 0;
            while (j < text.length()) {
                int cp = text.codePointAt(j);
                int n = new String(Character.toChars(cp)).getBytes(cs).length;
                if (bytes + n > maxBytes && j > i) {
                    break;
                }
                bytes += n;
                j += Character.charCount(cp);
            }
            out.add(prefix + Base64.getEncoder().encodeToString(text.substring(i, j).getBytes(cs)) + "?=");
            i = j;
            room = MAX_WORD;
        }
        return out;
    }
}

package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * RFC 2047 encoded-words in headers. Decoding joins adjacent words of one charset at the byte
 * level before converting (senders split a multi-byte character across two words), drops the
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
        while (m.find()) {
            String gap = value.substring(last, m.start());
            boolean adjacent = pendingCharset != null && gap.isBlank();
            String charset = m.group(1);
            if (!adjacent || !charset.equalsIgnoreCase(pendingCharset)) {
                flush(out, pending, pendingCharset);
                pendingCharset = null;
                if (!adjacent) {
                    out.append(gap);
                }
            }
            byte[] text = m.group(3).getBytes(StandardCharsets.ISO_8859_1);
            byte[] bytes = m.group(2).equalsIgnoreCase("B") ? TransferEncoding.base64(text, 0, text.length)
                    : TransferEncoding.quotedPrintable(text, 0, text.length, true);
            pending.write(bytes, 0, bytes.length);
            pendingCharset = charset;
            last = m.end();
        }
        flush(out, pending, pendingCharset);
        out.append(value.substring(last));
        return out.toString();
    }

    private static void flush(StringBuilder out, ByteArrayOutputStream pending, String charset) {
        if (charset != null && pending.size() > 0) {
            byte[] b = pending.toByteArray();
            out.append(MailCharset.decode(b, 0, b.length, charset));
        }
        pending.reset();
    }

    /**
     * Encodes text as B encoded-words in {@code cs}, never splitting a character, each word at most
     * 75 characters, words separated by CRLF SP so a header folds at 78 columns.
     * {@code firstLineUsed} is how many columns the field name already takes.
     */
    public static String encode(String text, Charset cs, int firstLineUsed) {
        String prefix = "=?" + cs.name() + "?B?";
        StringBuilder out = new StringBuilder();
        int room = MAX_WORD - prefix.length() - 2;
        int maxBytes = room / 4 * 3;
        int i = 0;
        int column = firstLineUsed;
        while (i < text.length()) {
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
            String word = prefix + java.util.Base64.getEncoder().encodeToString(text.substring(i, j).getBytes(cs)) + "?=";
            if (out.length() > 0) {
                out.append("\r\n ");
                column = 1;
            }
            out.append(word);
            column += word.length();
            i = j;
        }
        return out.toString();
    }
}

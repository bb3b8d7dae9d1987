package dev.mailstack.mime;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One header field being written token by token as octets, folded before a token that would take
 * its line past 78 columns (RFC 5322 §2.1.1, §2.2.3: folding inserts CRLF before whitespace). A
 * token longer than a line stays whole. Tokens are ASCII text, or octets kept as they came
 * (8-bit text that no encoding may replace, such as an internationalised address).
 */
final class FoldedField {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int column;
    private boolean empty = true;

    /** Starts the field with {@code name} and its colon. */
    FoldedField(String name) {
        byte[] head = (name + ":").getBytes(StandardCharsets.ISO_8859_1);
        out.writeBytes(head);
        column = head.length;
    }

    /** The columns used on the current line. */
    int column() {
        return column;
    }

    void place(String ascii) {
        place(ascii.getBytes(StandardCharsets.US_ASCII));
    }

    /** RFC 5322 §2.1.1: no line may be longer than 998 octets, whatever the folding at 78 does. */
    private static final int MAX_LINE = 998;

    /**
     * Appends a token after a space, or on a new folded line when it would pass 78 columns. A token
     * that would not fit even on a line of its own (a comment or quoted string the sender folded,
     * unfolded into one) is folded at its own white space, which RFC 5322 §3.2.2 and §3.2.4 allow
     * inside comments and quoted strings: each run of it becomes one fold.
     */
    void place(byte[] token) {
        if (1 + token.length > MAX_LINE && hasSpace(token)) {
            int start = 0;
            for (int i = 0; i <= token.length; i++) {
                if (i == token.length || token[i] == ' ' || token[i] == '\t') {
                    if (i > start) {
                        placeWhole(java.util.Arrays.copyOfRange(token, start, i));
                    }
                    start = i + 1;
                }
            }
            return;
        }
        placeWhole(token);
    }

    private static boolean hasSpace(byte[] token) {
        for (byte b : token) {
            if (b == ' ' || b == '\t') {
                return true;
            }
        }
        return false;
    }

    private void placeWhole(byte[] token) {
        // the first token too goes to a line of its own after a long field name, when it fits there
        // ("Name:" CRLF SP token: RFC 5322 §3.2.2's FWS may start an unstructured field body)
        if (column + 1 + token.length > Rfc2047.FOLD_AT && (!empty || 1 + token.length <= Rfc2047.FOLD_AT)) {
            out.write('\r');
            out.write('\n');
            column = 0;
        }
        out.write(' ');
        out.writeBytes(token);
        column += 1 + token.length;
        empty = false;
    }

    /** The field with its line end. */
    byte[] bytes() {
        out.write('\r');
        out.write('\n');
        return out.toByteArray();
    }
}

package dev.mailstack.imapd;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the values of IMAP response data (RFC 3501 §4, §9) as a client does, so that tests compare
 * what was said rather than how: a parenthesized list is a {@code List}, NIL is null, a quoted
 * string and a literal are the same {@code String} (their octets as UTF-8), and everything else is
 * an {@link Atom} (numbers included, which a string in their place is not).
 */
final class ImapValues {
    /** An atom or number as sent; kept apart from strings, which the grammar does not mix. */
    record Atom(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    private final byte[] b;
    private int pos;

    ImapValues(byte[] b) {
        this.b = b;
    }

    /** The values of one response line from here, literals included; then past its line end. */
    List<Object> line() {
        List<Object> values = new ArrayList<>();
        while (true) {
            skipSpaces();
            if (pos >= b.length || b[pos] == '\r' || b[pos] == '\n') {
                pos += pos < b.length && b[pos] == '\r' ? 2 : 1;
                return values;
            }
            values.add(value());
        }
    }

    /** Moves to {@code n}: where the next line starts, for a caller that reads its own prefix. */
    ImapValues at(int n) {
        pos = n;
        return this;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos >= b.length;
    }

    /** The values of one line of text. */
    static List<Object> parse(String line) {
        return new ImapValues(line.getBytes(StandardCharsets.UTF_8)).line();
    }

    private void skipSpaces() {
        while (pos < b.length && b[pos] == ' ') {
            pos++;
        }
    }

    private Object value() {
        byte c = b[pos];
        if (c == '(') {
            pos++;
            List<Object> items = new ArrayList<>();
            while (true) {
                skipSpaces();
                if (pos >= b.length || b[pos] == '\r' || b[pos] == '\n') {
                    throw new IllegalArgumentException("list not closed at " + pos);
                }
                if (b[pos] == ')') {
                    pos++;
                    return items;
                }
                items.add(value());
            }
        }
        if (c == '"') {
            pos++;
            ByteArrayOutputStream s = new ByteArrayOutputStream();
            while (b[pos] != '"') {
                if (b[pos] == '\r' || b[pos] == '\n') {
                    throw new IllegalArgumentException("CR or LF in a quoted string at " + pos); // RFC 3501 §4.3
                }
                if (b[pos] == '\\') {
                    pos++;
                    if (b[pos] != '\\' && b[pos] != '"') {
                        throw new IllegalArgumentException("only \\\\ and \\\" may be escaped, at " + pos); // RFC 3501 §9 quoted-specials
                    }
                }
                s.write(b[pos++]);
            }
            pos++;
            return s.toString(StandardCharsets.UTF_8);
        }
        if (c == '{') {
            int close = pos;
            while (b[close] != '}') {
                close++;
            }
            int n = Integer.parseInt(new String(b, pos + 1, close - pos - 1, StandardCharsets.US_ASCII));
            pos = close + 1;
            if (b[pos] != '\r' || b[pos + 1] != '\n') {
                throw new IllegalArgumentException("a literal's count is followed by CRLF, at " + pos);
            }
            pos += 2;
            String s = new String(b, pos, n, StandardCharsets.UTF_8);
            pos += n;
            return s;
        }
        int start = pos;
        while (pos < b.length && b[pos] != ' ' && b[pos] != '(' && b[pos] != ')' && b[pos] != '\r' && b[pos] != '\n') {
            pos++;
        }
        String atom = new String(b, start, pos - start, StandardCharsets.US_ASCII);
        return atom.equals("NIL") ? null : new Atom(atom);
    }
}

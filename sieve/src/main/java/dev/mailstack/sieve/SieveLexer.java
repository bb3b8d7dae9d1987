package dev.mailstack.sieve;

/**
 * Splits script text into {@link Token}s on demand (RFC 5228 §8.1): identifiers, tags, numbers
 * with K/M/G quantifiers, quoted strings, multi-line {@code text:} strings, punctuation; skips
 * white space and both comment forms. One pass over the text, no backtracking, so a long script
 * lexes in linear time. Lines end in CRLF or a bare LF.
 */
final class SieveLexer {
    private final String text;
    private int pos;
    private int line = 1;

    SieveLexer(String text) {
        this.text = text;
    }

    /** The next token; {@code END} (again and again) once the text is used up. */
    Token next() throws SieveException {
        skipWhiteSpaceAndComments();
        if (pos >= text.length()) {
            return new Token(Token.Kind.END, "", 0, line);
        }
        char c = text.charAt(pos);
        int start = line;
        switch (c) {
            case '[': pos++; return punct(Token.Kind.LEFT_BRACKET, "[");
            case ']': pos++; return punct(Token.Kind.RIGHT_BRACKET, "]");
            case '(': pos++; return punct(Token.Kind.LEFT_PAREN, "(");
            case ')': pos++; return punct(Token.Kind.RIGHT_PAREN, ")");
            case '{': pos++; return punct(Token.Kind.LEFT_BRACE, "{");
            case '}': pos++; return punct(Token.Kind.RIGHT_BRACE, "}");
            case ';': pos++; return punct(Token.Kind.SEMICOLON, ";");
            case ',': pos++; return punct(Token.Kind.COMMA, ",");
            case '"': return quoted();
            case ':':
                pos++;
                if (pos >= text.length() || !identifierStart(text.charAt(pos))) {
                    throw new SieveException(start, "\":\" must be followed by a tag name, as in :contains");
                }
                return new Token(Token.Kind.TAG, identifier(), 0, start);
            default:
                break;
        }
        if (c >= '0' && c <= '9') {
            return number();
        }
        if (identifierStart(c)) {
            String id = identifier();
            if (id.equals("text") && pos < text.length() && text.charAt(pos) == ':') {
                pos++;
                return multiLine(start);
            }
            return new Token(Token.Kind.IDENTIFIER, id, 0, start);
        }
        throw new SieveException(start, "unexpected character " + printable(c));
    }

    private Token punct(Token.Kind kind, String s) {
        return new Token(kind, s, 0, line);
    }

    private void skipWhiteSpaceAndComments() throws SieveException {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '\n') {
                line++;
                pos++;
            } else if (c == ' ' || c == '\t' || c == '\r') {
                pos++;
            } else if (c == '#') {
                while (pos < text.length() && text.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (c == '/' && pos + 1 < text.length() && text.charAt(pos + 1) == '*') {
                int start = line;
                int end = text.indexOf("*/", pos + 2);
                if (end < 0) {
                    throw new SieveException(start, "comment \"/*\" is never closed with \"*/\"");
                }
                countLines(pos, end);
                pos = end + 2;
            } else {
                return;
            }
        }
    }

    private void countLines(int from, int to) {
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
    }

    private static boolean identifierStart(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_';
    }

    private static boolean identifierPart(char c) {
        return identifierStart(c) || c >= '0' && c <= '9';
    }

    private String identifier() {
        int start = pos;
        while (pos < text.length() && identifierPart(text.charAt(pos))) {
            pos++;
        }
        return text.substring(start, pos).toLowerCase(java.util.Locale.ROOT);
    }

    /** RFC 5228 §2.4.1: digits with an optional K, M or G (powers of 1024). */
    private Token number() throws SieveException {
        int start = pos;
        long value = 0;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            value = value * 10 + (text.charAt(pos) - '0');
            pos++;
            if (value > MAX_NUMBER) {
                throw new SieveException(line, "number " + text.substring(start, pos) + "... is too large");
            }
        }
        if (pos < text.length()) {
            int shift = switch (text.charAt(pos)) {
                case 'k', 'K' -> 10;
                case 'm', 'M' -> 20;
                case 'g', 'G' -> 30;
                default -> 0;
            };
            if (shift > 0) {
                pos++;
                if (value > MAX_NUMBER >> shift) {
                    throw new SieveException(line, "number " + text.substring(start, pos) + " is too large");
                }
                value <<= shift;
            }
        }
        if (pos < text.length() && identifierPart(text.charAt(pos))) {
            throw new SieveException(line, "a number must end with K, M or G or nothing, not "
                    + printable(text.charAt(pos)));
        }
        return new Token(Token.Kind.NUMBER, text.substring(start, pos), value, line);
    }

    /** Numbers are kept well below long overflow; RFC 5228 §2.4.1 only asks for 2^31. */
    static final long MAX_NUMBER = 1L << 53;

    /** RFC 5228 §2.4.2: a backslash takes the next character literally, whatever it is. */
    private Token quoted() throws SieveException {
        int start = line;
        pos++;
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw new SieveException(start, "string is never closed with '\"'");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return new Token(Token.Kind.STRING, out.toString(), 0, start);
            }
            if (c == '\\') {
                if (pos >= text.length()) {
                    throw new SieveException(start, "string is never closed with '\"'");
                }
                c = text.charAt(pos++);
            }
            if (c == '\n') {
                line++;
            }
            out.append(c);
        }
    }

    /**
     * RFC 5228 §2.4.2 multi-line string: after "text:", white space and an optional hash comment up
     * to the end of the line, then lines up to one holding a lone "."; a leading ".." loses a dot.
     * The value's lines end in CRLF whatever the script used.
     */
    private Token multiLine(int start) throws SieveException {
        while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
            pos++;
        }
        if (pos < text.length() && text.charAt(pos) == '#') {
            while (pos < text.length() && text.charAt(pos) != '\n') {
                pos++;
            }
        }
        if (pos < text.length() && text.charAt(pos) == '\r') {
            pos++;
        }
        if (pos >= text.length() || text.charAt(pos) != '\n') {
            throw new SieveException(start, "\"text:\" must be followed by the end of the line");
        }
        pos++;
        line++;
        StringBuilder out = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw new SieveException(start, "multi-line string is never ended by a line holding only \".\"");
            }
            int eol = text.indexOf('\n', pos);
            int end = eol < 0 ? text.length() : eol;
            int contentEnd = end > pos && text.charAt(end - 1) == '\r' ? end - 1 : end;
            String l = text.substring(pos, contentEnd);
            pos = eol < 0 ? text.length() : eol + 1;
            if (eol >= 0) {
                line++;
            }
            if (l.equals(".")) {
                return new Token(Token.Kind.STRING, out.toString(), 0, start);
            }
            if (eol < 0) {
                throw new SieveException(start, "multi-line string is never ended by a line holding only \".\"");
            }
            out.append(l.startsWith("..") ? l.substring(1) : l).append("\r\n");
        }
    }

    private static String printable(char c) {
        return c >= 0x21 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }
}

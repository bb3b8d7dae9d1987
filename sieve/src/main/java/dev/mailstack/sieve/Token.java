package dev.mailstack.sieve;

/**
 * One lexical token of a Sieve script (RFC 5228 §8.1). Identifiers and tags are lower-cased, as
 * they are case-insensitive (§2.4, §2.6.2); strings hold their value with escapes removed.
 */
record Token(Kind kind, String text, long number, int line) {

    /** What a token is. */
    enum Kind {
        IDENTIFIER, TAG, NUMBER, STRING, LEFT_BRACKET, RIGHT_BRACKET, LEFT_PAREN, RIGHT_PAREN,
        LEFT_BRACE, RIGHT_BRACE, SEMICOLON, COMMA, END;
    }

    /** How the token reads in an error message. */
    String describe() {
        return switch (kind) {
            case IDENTIFIER -> "\"" + text + "\"";
            case TAG -> "\":" + text + "\"";
            case NUMBER -> "the number " + number;
            case STRING -> "a string";
            case END -> "the end of the script";
            default -> "\"" + text + "\"";
        };
    }
}

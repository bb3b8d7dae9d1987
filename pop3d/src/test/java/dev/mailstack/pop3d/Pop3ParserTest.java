package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class Pop3ParserTest {
    private static Pop3Reply error(String line) {
        return assertThrows(Pop3SyntaxException.class, () -> Pop3Parser.parse(line)).reply();
    }

    @Test
    void keywordsAreCaseInsensitiveAndArgumentsAreTyped() throws Exception {
        assertEquals(new Pop3Command.Stat(), Pop3Parser.parse("stat"));
        assertEquals(new Pop3Command.Retr(12), Pop3Parser.parse("Retr 12"));
        assertEquals(new Pop3Command.Top(3, 0), Pop3Parser.parse("TOP 3 0"));
        assertEquals(new Pop3Command.List(Optional.empty()), Pop3Parser.parse("LIST"));
        assertEquals(new Pop3Command.Uidl(Optional.of(2)), Pop3Parser.parse("UIDL 2"));
        assertEquals(new Pop3Command.User("alice@example.org"), Pop3Parser.parse("USER alice@example.org"));
        assertEquals(new Pop3Command.Noop(), Pop3Parser.parse("  NOOP  "));
        // a TAB after the keyword, as between arguments (telnet users)
        assertEquals(new Pop3Command.List(Optional.of(1)), Pop3Parser.parse("LIST\t1"));
        assertEquals(new Pop3Command.Top(1, 2), Pop3Parser.parse("TOP\t1\t2"));
        assertEquals(new Pop3Command.Pass("secret"), Pop3Parser.parse("PASS\tsecret"));
    }

    @Test
    void thePasswordIsTheWholeRestOfTheLineSpacesIncluded() throws Exception {
        assertEquals(new Pop3Command.Pass("correct horse  battery "), Pop3Parser.parse("PASS correct horse  battery "));
        assertEquals(new Pop3Command.Pass(""), Pop3Parser.parse("PASS"));
    }

    @Test
    void authTakesAMechanismAndAnOptionalInitialResponse() throws Exception {
        assertEquals(new Pop3Command.Auth(Optional.empty(), Optional.empty()), Pop3Parser.parse("AUTH"));
        assertEquals(new Pop3Command.Auth(Optional.of("PLAIN"), Optional.empty()), Pop3Parser.parse("auth plain"));
        assertEquals(new Pop3Command.Auth(Optional.of("PLAIN"), Optional.of("AGEAYg==")), Pop3Parser.parse("AUTH PLAIN AGEAYg=="));
        assertEquals(Pop3Replies.TOO_MANY_ARGUMENTS, error("AUTH PLAIN a b"));
    }

    @Test
    void badArgumentsGetTheirOwnErrors() {
        assertEquals(Pop3Replies.UNKNOWN, error("FROB"));
        assertEquals(Pop3Replies.UNKNOWN, error(""));
        assertEquals(Pop3Replies.NEED_NUMBER, error("RETR"));
        assertEquals(Pop3Replies.BAD_NUMBER, error("RETR x"));
        assertEquals(Pop3Replies.BAD_NUMBER, error("DELE -1"));
        assertEquals(Pop3Replies.NO_SUCH_MESSAGE, error("DELE 0"));
        assertEquals(Pop3Replies.NO_SUCH_MESSAGE, error("RETR 99999999999"));
        assertEquals(Pop3Replies.TOO_MANY_ARGUMENTS, error("RETR 1 2"));
        assertEquals(Pop3Replies.TOO_MANY_ARGUMENTS, error("STAT 1"));
        assertEquals(Pop3Replies.TOP_USAGE, error("TOP 1"));
        assertEquals(Pop3Replies.BAD_LINE_COUNT, error("TOP 1 -5"));
        assertEquals(Pop3Replies.USER_NEEDS_NAME, error("USER"));
        assertEquals(Pop3Replies.CONTROL_CHARACTERS, error("USER a\u0000b"));
    }

    @Test
    void aHugeTopLineCountMeansTheWholeBody() throws Exception {
        assertEquals(new Pop3Command.Top(1, Long.MAX_VALUE), Pop3Parser.parse("TOP 1 99999999999999999999999"));
    }

    @Test
    void credentialsNeverShowInToString() throws Exception {
        assertEquals("Pass[***]", Pop3Parser.parse("PASS secret").toString());
        assertEquals("Auth[PLAIN ***]", Pop3Parser.parse("AUTH PLAIN c2VjcmV0").toString());
    }
}

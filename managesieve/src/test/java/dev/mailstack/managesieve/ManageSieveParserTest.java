package dev.mailstack.managesieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ManageSieveParserTest {
    private static ManageSieveCommand parse(String line) throws ManageSieveSyntaxException {
        List<Token> tokens = new ArrayList<>();
        CommandReader.tokenize(line, tokens);
        return ManageSieveParser.parse(tokens);
    }

    @Test
    void commandsAreCaseInsensitiveAndTakeQuotedStrings() throws Exception {
        assertEquals(new ManageSieveCommand.PutScript("my \"s\"", "keep;"), parse("putScript \"my \\\"s\\\"\" \"keep;\""));
        assertEquals(new ManageSieveCommand.RenameScript("a", "b\\c"), parse("RENAMESCRIPT \"a\" \"b\\\\c\""));
        assertEquals(new ManageSieveCommand.HaveSpace("x", 4_294_967_295L), parse("HAVESPACE \"x\" 4294967295"));
        assertEquals(new ManageSieveCommand.SetActive(""), parse("SETACTIVE \"\""));
        assertEquals(new ManageSieveCommand.Noop(Optional.of("t")), parse("NOOP \"t\""));
        assertEquals(new ManageSieveCommand.Authenticate("PLAIN", Optional.of("AA==")), parse("Authenticate \"plain\" \"AA==\""));
        assertEquals(new ManageSieveCommand.Capability(), parse("  CAPABILITY\t"));
    }

    @Test
    void badInputIsASyntaxErrorWithItsOwnText() {
        assertEquals(ManageSieveReplies.BAD_NUMBER,
                assertThrows(ManageSieveSyntaxException.class, () -> parse("HAVESPACE \"x\" 4294967296")).response());
        assertEquals(ManageSieveReplies.UNKNOWN, assertThrows(ManageSieveSyntaxException.class, () -> parse("FOO")).response());
        assertEquals(ManageSieveReplies.EXPECTED_COMMAND, assertThrows(ManageSieveSyntaxException.class, () -> parse("")).response());
        assertEquals(ManageSieveReplies.EXPECTED_COMMAND,
                assertThrows(ManageSieveSyntaxException.class, () -> parse("\"PUTSCRIPT\"")).response());
        assertEquals(ManageSieveReplies.stringExpected("DELETESCRIPT"),
                assertThrows(ManageSieveSyntaxException.class, () -> parse("DELETESCRIPT x")).response());
    }

    @Test
    void aLiteralMustEndItsLine() {
        List<Token> tokens = new ArrayList<>();
        CommandReader.tokenize("PUTSCRIPT {5+} \"x\"", tokens);
        assertEquals(List.of(new Token.Atom("PUTSCRIPT")), tokens);
    }

    @Test
    void responsesQuoteTheirTexts() {
        assertEquals("NO (TAG \"a\\\"b\") \"x\\\\y\"",
                new SieveResponse(SieveResponse.Status.NO, Optional.of(SieveResponse.Code.TAG), Optional.of("a\"b"), "x\\y").line());
        assertEquals("\"a b\"", SieveStrings.string("a b"));
        assertEquals("{4}\r\na\r\nb", SieveStrings.string("a\r\nb"));
    }
}

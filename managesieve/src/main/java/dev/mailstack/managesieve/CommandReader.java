package dev.mailstack.managesieve;

import dev.mailstack.net.Connection;
import dev.mailstack.net.LineTooLongException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one whole ManageSieve command from the connection: its first line, and after each literal
 * the literal's octets and the line that goes on after them (RFC 5804 §4). A bad command is read
 * to its end all the same, literals included, so the next command starts where the client thinks.
 */
final class CommandReader {
    /** Literals one command may carry: PUTSCRIPT and RENAMESCRIPT take two strings, AUTHENTICATE two or three. */
    static final int MAX_LITERALS = 4;
    /** Room beside the one big string (a script) for the small ones of the same command (names). */
    static final long NAME_ROOM = 4096;
    /** What reading a command gave. */
    sealed interface Read {
    }

    record Tokens(List<Token> tokens) implements Read {
    }

    /** Read to its end but unusable: answer NO, the session goes on. */
    record Bad(SieveResponse response) implements Read {
    }

    /** Not read to its end (an over-size string not drained): answer BYE and close. */
    record Fatal(SieveResponse response) implements Read {
    }

    /** The client closed the connection. */
    record End() implements Read {
    }

    /**
     * RFC 5804 §4 literal-c2s is {n+}. {n} is taken the same way: ManageSieve has no continuation
     * for a synchronizing literal (the server never says "go ahead"), older clients and telnet users
     * send it, and Dovecot takes it too. Blanks after it are forgiven (telnet users leave them).
     */
    static final Pattern LITERAL = Pattern.compile("\\{(\\d+)(\\+?)}[ \\t]*$");

    private final Connection connection;

    CommandReader(Connection connection) {
        this.connection = connection;
    }

    /** How the first line is read: as a command, or as the rest of one. */
    @FunctionalInterface
    private interface FirstLine {
        String read() throws IOException;
    }

    /**
     * Reads the next command. Strings of more than {@code maxStringBytes} octets are refused: read
     * and dropped when {@code drainLimit} allows (the session stays in step), else {@link Fatal}.
     */
    Read next(long maxStringBytes, long drainLimit) throws IOException {
        return read(connection::readCommand, maxStringBytes, drainLimit);
    }

    /**
     * Reads a SASL response (one string, RFC 5804 §2.1) as {@link #next} reads a command, but as part
     * of the AUTHENTICATE under way: a stop or the account's deletion lets the exchange finish.
     */
    Read response(long maxStringBytes, long drainLimit) throws IOException {
        return read(connection::readContinuation, maxStringBytes, drainLimit);
    }

    private Read read(FirstLine first, long maxStringBytes, long drainLimit) throws IOException {
        String line;
        try {
            line = first.read();
        } catch (LineTooLongException e) {
            return lineTooLong(e, maxStringBytes, drainLimit);
        }
        if (line == null) {
            return new End();
        }
        List<Token> tokens = new ArrayList<>();
        Optional<SieveResponse> error = Optional.empty();
        // The command as a whole is bounded too: no command takes more than a few strings, and
        // literal after literal on one command would otherwise be read (or held) without end.
        long octetsSoFar = 0;
        int literals = 0;
        while (true) {
            Line parsed = tokenize(line, tokens);
            if (error.isEmpty() && !connection.reader().lastLineUtf8()) {
                // RFC 5804 §4: quoted strings are UTF-8 as literals are; the line's text has U+FFFD
                // where it was not, which would have gone into a script's name unseen
                error = Optional.of(ManageSieveReplies.NOT_UTF8);
            }
            if (error.isEmpty()) {
                error = parsed.error();
            }
            if (parsed.literal().isEmpty()) {
                break;
            }
            long octets = parsed.literal().get();
            octetsSoFar += octets;
            if (++literals > MAX_LITERALS || octetsSoFar > Math.max(maxStringBytes, drainLimit) + NAME_ROOM) {
                return new Fatal(drainLimit == 0 ? ManageSieveReplies.STRING_TOO_LONG_BEFORE_LOGIN
                        : ManageSieveReplies.stringTooLongClosing(octetsSoFar, maxStringBytes));
            }
            if (octets > maxStringBytes) {
                if (octets > drainLimit) {
                    return new Fatal(drainLimit == 0 ? ManageSieveReplies.STRING_TOO_LONG_BEFORE_LOGIN
                            : ManageSieveReplies.stringTooLongClosing(octets, maxStringBytes));
                }
                skipLiteral(octets);
                if (error.isEmpty()) {
                    error = Optional.of(ManageSieveReplies.stringTooLong(octets, maxStringBytes));
                }
            } else {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) octets);
                // at net.min_data_rate (Postfix's smtpd_min_data_rate): a script trickled a byte per
                // idle period would hold the session and a connection permit for days
                try (Connection.Payload payload = connection.payload()) {
                    payload.reader().readExactly(octets, bytes);
                }
                Optional<String> text = utf8(bytes.toByteArray());
                if (text.isPresent()) {
                    tokens.add(new Token.Str(text.get()));
                } else if (error.isEmpty()) {
                    error = Optional.of(ManageSieveReplies.NOT_UTF8);
                }
            }
            try {
                // what follows the literal on its line, whole within the idle timeout as the line before it
                line = connection.readContinuation();
            } catch (LineTooLongException e) {
                return lineTooLong(e, maxStringBytes, drainLimit);
            }
            if (line == null) {
                return new End();
            }
        }
        return error.<Read>map(Bad::new).orElseGet(() -> new Tokens(tokens));
    }

    /**
     * An over-long line was consumed. If it ended in a literal, the rest of the command is dropped
     * as {@link #read} would take it (RFC 5804 §4: after a literal the command goes on, and may end
     * in another literal), within the same limits, so the client's script is not read as commands.
     * A line after a literal that is too long as well leaves no way to find where the command ends:
     * BYE.
     */
    private Read lineTooLong(LineTooLongException e, long maxStringBytes, long drainLimit) throws IOException {
        long drainable = Math.max(maxStringBytes, drainLimit);
        long octetsSoFar = 0;
        int literals = 0;
        Matcher m = LITERAL.matcher(e.tail());
        while (m.find()) {
            long octets = octets(m.group(1));
            if (octets > drainable || ++literals > MAX_LITERALS || (octetsSoFar += octets) > drainable + NAME_ROOM) {
                return new Fatal(drainLimit == 0 ? ManageSieveReplies.STRING_TOO_LONG_BEFORE_LOGIN
                        : ManageSieveReplies.stringTooLongClosing(Math.max(octets, octetsSoFar), maxStringBytes));
            }
            skipLiteral(octets);
            String line;
            try {
                line = connection.readContinuation();
            } catch (LineTooLongException again) {
                return new Fatal(ManageSieveReplies.LINE_TOO_LONG_CLOSING);
            }
            if (line == null) {
                return new End();
            }
            m = LITERAL.matcher(line);
        }
        return new Bad(ManageSieveReplies.LINE_TOO_LONG);
    }

    /** Drops a refused literal's octets, at the rate a taken one must come. */
    private void skipLiteral(long octets) throws IOException {
        try (Connection.Payload payload = connection.payload()) {
            payload.reader().skip(octets);
        }
    }

    /** One line's tokens, the first error in it, and the size of the literal that ends it, if one does. */
    private record Line(Optional<SieveResponse> error, Optional<Long> literal) {
    }

    /** Adds the line's atoms and quoted strings to {@code tokens}; pure. */
    static Line tokenize(String line, List<Token> tokens) {
        Matcher m = LITERAL.matcher(line);
        Optional<Long> literal = Optional.empty();
        String body = line;
        if (m.find()) {
            literal = Optional.of(octets(m.group(1)));
            body = line.substring(0, m.start());
        }
        int i = 0;
        int n = body.length();
        while (i < n) {
            char c = body.charAt(i);
            if (c == ' ' || c == '\t') { // Deviation from §4's single SP: telnet users type tabs and double spaces
                i++;
            } else if (c == '"') {
                StringBuilder sb = new StringBuilder();
                i++;
                boolean closed = false;
                while (i < n) {
                    char q = body.charAt(i++);
                    if (q == '"') {
                        closed = true;
                        break;
                    }
                    if (q == '\\') {
                        if (i == n || body.charAt(i) != '"' && body.charAt(i) != '\\') {
                            return new Line(Optional.of(ManageSieveReplies.BAD_ESCAPE), literal);
                        }
                        q = body.charAt(i++);
                    }
                    sb.append(q);
                }
                if (!closed) {
                    return new Line(Optional.of(ManageSieveReplies.UNTERMINATED_STRING), literal);
                }
                tokens.add(new Token.Str(sb.toString()));
            } else if (c == '{') {
                return new Line(Optional.of(ManageSieveReplies.LITERAL_NOT_LAST), literal);
            } else {
                int start = i;
                while (i < n && body.charAt(i) != ' ' && body.charAt(i) != '\t' && body.charAt(i) != '"') {
                    i++;
                }
                tokens.add(new Token.Atom(body.substring(start, i)));
            }
        }
        return new Line(Optional.empty(), literal);
    }

    /** A literal's size; one too large for a long is simply too large (Long.MAX_VALUE). */
    private static long octets(String digits) {
        String d = digits.replaceFirst("^0+(?=.)", "");
        return d.length() > 18 ? Long.MAX_VALUE : Long.parseLong(d);
    }

    private static Optional<String> utf8(byte[] bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}

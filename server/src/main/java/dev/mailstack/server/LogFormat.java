package dev.mailstack.server;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One line per event: UTC time, level, logger, message with key=value pairs (STYLE.md §5).
 *
 * <p>Our own formatter rather than {@link java.util.logging.SimpleFormatter}: that one asks every
 * record for its caller (a stack walk) and parses the message as a {@link java.text.MessageFormat}
 * pattern on each call, together about 4 % of the server's CPU while SMTP ingests at full speed.
 * Here {@code {n}} and {@code {n,number,#}} are filled in directly, numbers without grouping so a
 * {@code size=} value stays one token; anything else in braces is printed as written.
 */
final class LogFormat extends Formatter {
    /** Held so the level sticks: java.util.logging keeps loggers only weakly. */
    private static final Logger FLYWAY = Logger.getLogger("org.flywaydb");
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final String NUMBER_STYLE = ",number,#}";

    /**
     * Puts this format on the console handler, unless the administrator configured logging
     * themselves (a logging config file or SimpleFormatter's format property), which then wins.
     */
    static void install() {
        // Flyway narrates every start; its warnings and errors still show.
        FLYWAY.setLevel(Level.WARNING);
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null
                || System.getProperty("java.util.logging.SimpleFormatter.format") != null) {
            return;
        }
        for (Handler h : Logger.getLogger("").getHandlers()) {
            if (h instanceof ConsoleHandler) {
                h.setFormatter(new LogFormat());
            }
        }
    }

    @Override
    public String format(LogRecord r) {
        StringBuilder line = new StringBuilder(160);
        TIME.formatTo(r.getInstant(), line);
        line.append(' ').append(r.getLevel().getName()).append(' ').append(r.getLoggerName()).append(": ");
        appendMessage(line, r.getMessage(), r.getParameters());
        if (r.getThrown() != null) {
            StringWriter trace = new StringWriter();
            try (PrintWriter w = new PrintWriter(trace)) {
                w.println();
                r.getThrown().printStackTrace(w);
            }
            line.append(trace.getBuffer(), 0, trace.getBuffer().length() - System.lineSeparator().length());
        }
        return line.append(System.lineSeparator()).toString();
    }

    /** The message with each {@code {n}} or {@code {n,number,#}} replaced by parameter n. */
    static void appendMessage(StringBuilder out, String message, Object[] params) {
        if (message == null) {
            out.append("null");
            return;
        }
        if (params == null || params.length == 0) {
            out.append(message);
            return;
        }
        int i = 0;
        while (i < message.length()) {
            char ch = message.charAt(i);
            int end = ch == '{' ? placeholderEnd(message, i) : -1;
            if (end < 0) {
                out.append(ch);
                i++;
                continue;
            }
            int digitsEnd = i + 1;
            while (message.charAt(digitsEnd) != '}' && message.charAt(digitsEnd) != ',') {
                digitsEnd++;
            }
            int index = Integer.parseInt(message, i + 1, digitsEnd, 10);
            if (index < params.length) {
                out.append(params[index]);
            } else {
                out.append(message, i, end);
            }
            i = end;
        }
    }

    /** The index after a placeholder starting at {@code open}, or -1 when none starts there. */
    private static int placeholderEnd(String message, int open) {
        int j = open + 1;
        while (j < message.length() && j - open <= 3 && message.charAt(j) >= '0' && message.charAt(j) <= '9') {
            j++;
        }
        if (j == open + 1 || j - open > 3 || j >= message.length()) {
            return -1;
        }
        if (message.charAt(j) == '}') {
            return j + 1;
        }
        return message.startsWith(NUMBER_STYLE, j) ? j + NUMBER_STYLE.length() : -1;
    }
}

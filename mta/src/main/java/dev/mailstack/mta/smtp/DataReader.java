package dev.mailstack.mta.smtp;

import dev.mailstack.net.LineReader;
import dev.mailstack.net.LineTooLongException;
import java.io.EOFException;
import java.io.IOException;

/**
 * Reads DATA (RFC 5321 §4.1.1.4): dot-unstuffs, and ends only at CRLF "." CRLF. A "." line that
 * follows or ends with a bare LF is content, never the end: that is what stops SMTP smuggling
 * (CVE-2023-51764 and relatives: {@code \n.\n}, {@code \n.\r\n}, {@code \r.\r\n}).
 * <p>One exception keeps netcat users happy: a client that ended every command and every data
 * line with bare LF may end with {@code \n.\n}. No MTA sends LF-only commands, so a relay that
 * passes a bare-LF sequence through inside CRLF traffic cannot use it to split a message.
 */
final class DataReader {
    /** Longer lines than this (RFC 5321 asks for 1000) are kept, split; only absurd ones are cut. */
    static final int MAX_LINE = 1024 * 1024;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LF = {'\n'};

    private DataReader() {
    }

    /** Copies the message to {@code sink} until the end marker; returns false if a line was too long. */
    static boolean read(LineReader reader, IncomingMessage sink, boolean lfOnlyClient) throws IOException {
        boolean afterCrlf = !lfOnlyClient;
        boolean allLf = lfOnlyClient;
        boolean linesOk = true;
        while (true) {
            LineReader.RawLine line;
            try {
                line = reader.readRawLine(MAX_LINE);
            } catch (LineTooLongException e) {
                linesOk = false;
                // a "." after it ends the message only as after any line: when it ended with CRLF
                if (e.ending() == LineReader.Ending.NONE) {
                    throw new EOFException("connection closed during DATA");
                }
                afterCrlf = e.ending() == LineReader.Ending.CRLF;
                allLf &= e.ending() == LineReader.Ending.LF;
                continue;
            }
            if (line == null) {
                throw new EOFException("connection closed during DATA");
            }
            boolean crlf = line.ending() == LineReader.Ending.CRLF;
            if (afterCrlf && crlf && line.is(".")) {
                return linesOk;
            }
            allLf &= line.ending() == LineReader.Ending.LF;
            if (allLf && line.is(".")) {
                return linesOk;
            }
            int off = line.length() > 0 && line.bytes()[0] == '.' ? 1 : 0;
            sink.write(line.bytes(), off, line.length() - off);
            switch (line.ending()) {
                case CRLF -> sink.write(CRLF, 0, 2);
                case LF -> sink.write(LF, 0, 1);
                case NONE -> throw new EOFException("connection closed during DATA");
            }
            afterCrlf = crlf;
        }
    }
}

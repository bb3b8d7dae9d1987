package dev.mailstack.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Plays a protocol transcript against a server on loopback, as a telnet user would (James MPT,
 * dovecot imaptest). Lines: {@code C: text} is sent with CRLF; {@code S: regex} must match the
 * next line received; {@code L: text} is sent with a bare LF (netcat); {@code SESSION n:} switches to (or opens) connection n; {@code #} comments
 * and blank lines are skipped; {@code CLOSED} expects the server to close the connection.
 */
public final class TranscriptRunner {
    private TranscriptRunner() {
    }

    public static void run(String resource, IntFunction<LineClient> connect) throws IOException {
        String script;
        try (InputStream in = TranscriptRunner.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no transcript " + resource);
            }
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<Integer, LineClient> sessions = new HashMap<>();
        int current = 1;
        int lineNo = 0;
        try {
            for (String line : script.split("\n", -1)) {
                lineNo++;
                line = line.stripTrailing();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("SESSION ")) {
                    current = Integer.parseInt(line.substring(8, line.length() - 1).trim());
                    continue;
                }
                LineClient c = sessions.computeIfAbsent(current, connect::apply);
                try {
                    if (line.startsWith("C: ") || line.equals("C:")) {
                        c.send(line.length() > 3 ? line.substring(3) : "");
                    } else if (line.startsWith("L: ") || line.equals("L:")) {
                        c.sendRaw((line.length() > 3 ? line.substring(3) : "") + "\n");
                    } else if (line.startsWith("S: ") || line.equals("S:")) {
                        c.expect(line.length() > 3 ? line.substring(3) : "");
                    } else if (line.equals("CLOSED")) {
                        c.expectClosed();
                    } else {
                        throw new IllegalArgumentException("unknown transcript line");
                    }
                } catch (AssertionError | IOException | RuntimeException e) {
                    throw new AssertionError(resource + ":" + lineNo + ": " + line + " -> " + e.getMessage(), e);
                }
            }
        } finally {
            for (LineClient c : sessions.values()) {
                c.close();
            }
        }
    }
}

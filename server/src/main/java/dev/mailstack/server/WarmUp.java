package dev.mailstack.server;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.PasswordScheme;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Before the real listeners open, runs SMTP, POP3 and IMAP sessions over loopback against a scratch
 * store in the data folder, through the same front-end classes and configuration. A JVM that has
 * just started interprets its code and meets each SQL statement for the first time: the first IMAP
 * MOVE after a start took 20–40 ms where a warm server takes 2–4 ms, and Thunderbird, which plays a
 * move back to the server while it also refreshes the target folder, lost its own refresh in that
 * window (NOTES.md, issue 7). Nothing of the scratch store survives; a failure here is logged and
 * the start goes on, only slower for its first clients.
 */
final class WarmUp {
    private static final System.Logger LOG = System.getLogger(WarmUp.class.getName());
    private static final String DOMAIN = "warm-up.invalid";
    private static final String USER = "user@" + DOMAIN;
    private static final String PASSWORD = "warm-up";
    /** Enough passes for the code every command runs to leave the interpreter. */
    private static final int ROUNDS = 3;
    private static final int TIMEOUT_MILLIS = 5_000;

    private WarmUp() {
    }

    static void run(Config config, NetLimits limits) {
        long start = System.nanoTime();
        Path scratch = config.dataDir().resolve("warm-up");
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        java.util.logging.Level level = root.getLevel();
        // Its sessions would read like real traffic in the log.
        root.setLevel(java.util.logging.Level.WARNING);
        String failure = null;
        try {
            delete(scratch);
            exercise(config, limits, scratch);
        } catch (IOException | RuntimeException e) {
            failure = String.valueOf(e.getMessage());
        } finally {
            root.setLevel(level);
            try {
                delete(scratch);
            } catch (IOException | UncheckedIOException e) {
                LOG.log(Level.WARNING, "warm-up: cannot remove {0}: {1}", scratch, e.getMessage());
            }
        }
        if (failure == null) {
            LOG.log(Level.INFO, "warm-up: done millis={0,number,#}", (System.nanoTime() - start) / 1_000_000);
        } else {
            LOG.log(Level.WARNING, "warm-up: skipped, the first clients will be served by a cold server error=\"{0}\"",
                    failure);
        }
    }

    private static void exercise(Config config, NetLimits limits, Path scratch) throws IOException {
        MailboxStore store = MailboxStore.open(scratch, null);
        List<AutoCloseable> open = new ArrayList<>(List.of(store)); // closed listeners first, the store last
        try {
            store.accounts().addDomain(DOMAIN);
            store.accounts().addUser(USER, PasswordScheme.hash(PASSWORD));
            // Its own listeners are on loopback: password logins there whatever auth.plaintext says.
            Config loopback = Config.defaults();
            config.effective().forEach((k, v) -> loopback.set(k, v.text(), v.origin()));
            loopback.set(ConfigKey.PLAINTEXT_AUTH, "loopback", "warm-up");
            FrontEnds frontEnds = new FrontEnds(loopback, store, config.hostname(), AuthThrottle.defaults());
            open.addAll(0, frontEnds.services());
            // Not paced or capped like real clients: a strict net.* setting must not stretch the start.
            NetLimits own = new NetLimits(Math.max(limits.maxLineBytes(), 8192), limits.idleTimeout(), 16, 16, 0, limits.minDataRate());
            int smtp = 0;
            int pop3 = 0;
            int imap = 0;
            for (FrontEnds.Planned p : frontEnds.planned()) {
                if (p.tls() == TlsMode.IMPLICIT || !List.of("smtp", "pop3", "imap").contains(p.name())) {
                    continue;
                }
                TcpListener l = TcpListener.start(new Endpoint("warm-up-" + p.name(),
                        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), TlsMode.NONE), p.protocol(), own, null);
                open.add(0, l);
                switch (p.name()) {
                    case "smtp" -> smtp = l.port();
                    case "pop3" -> pop3 = l.port();
                    default -> imap = l.port();
                }
            }
            for (int round = 0; round < ROUNDS; round++) {
                smtp(smtp);
                imap(imap, round);
                pop3(pop3);
            }
        } finally {
            for (AutoCloseable c : open) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.log(Level.DEBUG, "warm-up: close failed: " + e);
                }
            }
        }
    }

    private static final String TEXT = """
            From: =?UTF-8?B?5byg5LiJ?= <a@warm-up.invalid>\r
            To: user@warm-up.invalid\r
            Subject: =?GBK?B?1tDOxNb3zOI=?= warm-up\r
            Date: Fri, 04 Dec 2026 10:00:00 +0000\r
            Message-ID: <warm-up-1@warm-up.invalid>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b"\r
            \r
            --b\r
            Content-Type: text/plain; charset=UTF-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            =E4=B8=AD=E6=96=87 body text\r
            --b\r
            Content-Type: application/octet-stream; name="a.bin"\r
            Content-Transfer-Encoding: base64\r
            Content-Disposition: attachment; filename="a.bin"\r
            \r
            AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r
            --b--\r
            """;

    /** A raw 8-bit message as a telnet user types it: the intake's normaliser labels it. */
    private static final String RAW = "Subject: 你好\r\n\r\n中文正文\r\n";

    private static void smtp(int port) throws IOException {
        try (Script s = new Script(port)) {
            s.smtp(null);
            s.smtp("EHLO warm-up.invalid");
            for (String body : List.of(TEXT, RAW)) {
                s.smtp("MAIL FROM:<a@" + DOMAIN + "> BODY=8BITMIME");
                s.smtp("RCPT TO:<" + USER + ">");
                s.smtp("DATA");
                s.smtp(body + ".");
            }
            s.smtp("QUIT");
        }
    }

    private static void imap(int port, int round) throws IOException {
        try (Script s = new Script(port)) {
            s.imap(null);
            s.imap("LOGIN " + USER + " " + PASSWORD);
            if (round > 0) {
                s.compress(); // Thunderbird always turns it on
            }
            s.imap("ENABLE UTF8=ACCEPT");
            s.imap("LIST (SUBSCRIBED) \"\" \"*\" RETURN (SPECIAL-USE)");
            s.imap("CREATE Work" + round);
            byte[] message = TEXT.getBytes(StandardCharsets.UTF_8);
            s.imap("APPEND INBOX (\\Seen) {" + message.length + "+}\r\n" + TEXT);
            s.imap("STATUS INBOX (UIDNEXT MESSAGES UNSEEN RECENT)");
            s.imap("SELECT INBOX");
            s.imap("UID FETCH 1:* (FLAGS)");
            s.imap("UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID"
                    + " Content-Type)])");
            s.imap("UID FETCH 1:* (ENVELOPE BODYSTRUCTURE INTERNALDATE)");
            s.imap("UID FETCH 1:* (UID RFC822.SIZE BODY.PEEK[]<0.65536>)");
            s.imap("FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[2])");
            s.imap("UID SEARCH UNDELETED SUBJECT warm-up");
            s.imap("SEARCH CHARSET UTF-8 BODY \"中文\"");
            s.imap("UID STORE 1:* +FLAGS (\\Seen)");
            s.imap("UID STORE 1:* -FLAGS.SILENT (\\Seen)");
            s.imap("STORE 1 +FLAGS ($Junk \\Flagged)");
            s.imap("UID COPY 1 Work" + round);
            s.imap("UID MOVE 2 Work" + round);
            s.imap("UID STORE 1 +FLAGS (\\Deleted)");
            s.imap("UID EXPUNGE 1");
            s.imap("EXPUNGE");
            s.idle();
            s.imap("STATUS Work" + round + " (UIDNEXT MESSAGES UNSEEN RECENT)");
            s.imap("LOGOUT");
        }
    }

    private static void pop3(int port) throws IOException {
        try (Script s = new Script(port)) {
            s.pop3(null, false);
            s.pop3("USER " + USER, false);
            s.pop3("PASS " + PASSWORD, false);
            s.pop3("STAT", false);
            s.pop3("UIDL", true);
            s.pop3("LIST", true);
            s.pop3("TOP 1 0", true);
            s.pop3("RETR 1", true);
            s.pop3("DELE 1", false);
            s.pop3("QUIT", false);
        }
    }

    /** One scripted connection: sends a command and reads its whole reply. Replies are not judged. */
    private static final class Script implements AutoCloseable {
        private final Socket socket;
        private InputStream in;
        private OutputStream out;
        private int tag;

        Script(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        /** Until a line of the form {@code 250 ...} (RFC 5321 §4.2.1: the last line of a reply has a space). */
        void smtp(String command) throws IOException {
            send(command);
            String line;
            do {
                line = line();
            } while (line.length() > 3 && line.charAt(3) == '-');
        }

        /** The greeting ({@code command} null), or a command until its tagged reply. */
        String imap(String command) throws IOException {
            if (command == null) {
                return line();
            }
            String t = "w" + (++tag);
            send(t + " " + command);
            return untilTagged(t);
        }

        /** RFC 4978: both directions deflated from the next octet on, flushed after each command. */
        void compress() throws IOException {
            if (!imap("COMPRESS DEFLATE").contains(" OK ")) {
                return;
            }
            in = new InflaterInputStream(in, new Inflater(true));
            out = new DeflaterOutputStream(out, new Deflater(Deflater.DEFAULT_COMPRESSION, true), true);
        }

        /** RFC 2177: IDLE, its continuation, then DONE. */
        void idle() throws IOException {
            String t = "w" + (++tag);
            send(t + " IDLE");
            if (line().startsWith("+")) {
                send("DONE");
                untilTagged(t);
            }
        }

        /** Literals in responses are skipped whole (RFC 3501 §4.3). */
        private String untilTagged(String t) throws IOException {
            while (true) {
                String line = line();
                if (line.startsWith(t + " ")) {
                    return line;
                }
                if (line.endsWith("}") && line.lastIndexOf('{') >= 0) {
                    long n = Long.parseLong(line.substring(line.lastIndexOf('{') + 1, line.length() - 1).replace("+", ""));
                    in.skipNBytes(n);
                }
            }
        }

        /** A status line, then the body up to "." when the command has one (RFC 1939 §3). */
        void pop3(String command, boolean multiLine) throws IOException {
            send(command);
            if (line().startsWith("+OK") && multiLine) {
                while (!line().equals(".")) {
                    // the listing or message, dot-stuffed
                }
            }
        }

        private void send(String command) throws IOException {
            if (command != null) {
                out.write((command + "\r\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        }

        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0) {
                    throw new IOException("the warm-up connection closed early");
                }
                b.write(c);
            }
            String s = b.toString(StandardCharsets.UTF_8);
            return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}

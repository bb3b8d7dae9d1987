package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailstack user del} and {@code user passwd} while the server runs: a real CLI process asks
 * the server through its control socket, so the server makes the change in turn with its own
 * writers and acts on it at once: the deleted account's IMAP client (idling) and POP3 client are
 * told and closed, and new logins follow the change.
 */
class LiveUserAdminTest {
    private static final String BYE = "\\* BYE This account was deleted or disabled; closing the connection";
    private static final String POP3_GONE = "-ERR \\[SYS/PERM\\] This account was deleted or disabled; closing the connection";

    @TempDir
    Path dir;

    private Cli user(String input, String... args) throws IOException, InterruptedException {
        String[] all = new String[args.length + 3];
        all[0] = "user";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--data";
        all[args.length + 2] = dir.resolve("data").toString();
        return Cli.withInput(dir, input, all);
    }

    private static LineClient imapLogin(RunningServer mx, String user, String password) throws IOException {
        LineClient c = new LineClient(mx.port("imap"));
        c.expect("\\* OK .*");
        c.send("a LOGIN " + user + " " + password).expect("a OK .*Logged in");
        return c;
    }

    private static LineClient pop3Login(RunningServer mx, String user, String password) throws IOException {
        LineClient c = new LineClient(mx.port("pop3"));
        c.expect("\\+OK .*");
        c.send("USER " + user).expect("\\+OK .*");
        c.send("PASS " + password).expect("\\+OK .*");
        return c;
    }

    private static void imapRefuses(RunningServer mx, String user, String password) throws IOException {
        try (LineClient c = new LineClient(mx.port("imap"))) {
            c.expect("\\* OK .*");
            c.send("a LOGIN " + user + " " + password).expect("a NO \\[AUTHENTICATIONFAILED\\] Authentication failed");
        }
    }

    private static void pop3Refuses(RunningServer mx, String user, String password) throws IOException {
        try (LineClient c = new LineClient(mx.port("pop3"))) {
            c.expect("\\+OK .*");
            c.send("USER " + user).expect("\\+OK .*");
            c.send("PASS " + password).expect("-ERR \\[AUTH\\] Authentication failed");
        }
    }

    @Test
    void deletingAUserEndsItsIdlingImapAndItsPop3SessionAtOnce() throws Exception {
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of())) {
            mx.addUser("alice", "secret");
            mx.addUser("bob", "other");
            RelayTest.submit(mx, "alice@example.org", "Subject: hi\r\n\r\nhello\r\n");
            Await.until("the message in alice's INBOX", Duration.ofSeconds(20),
                    () -> RelayTest.count(mx, "alice@example.org") == 1);
            try (LineClient idling = imapLogin(mx, "alice@example.org", "secret");
                 LineClient pop3 = pop3Login(mx, "alice@example.org", "secret");
                 LineClient bob = imapLogin(mx, "bob@example.org", "other")) {
                idling.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
                idling.send("i IDLE").expect("\\+ idling");
                pop3.send("DELE 1").expect("\\+OK Message 1 deleted");

                Cli del = user("", "del", "alice@example.org");
                assertEquals(0, del.exit(), del.output());
                assertTrue(del.output().contains("deleted user alice@example.org (through the running server)"), del.output());
                idling.expect(BYE);
                idling.expectClosed();
                pop3.expect(POP3_GONE); // unasked: what the client reads as the answer to its next command
                pop3.expectClosed();
                bob.send("b NOOP").expect("b OK NOOP completed"); // another account's session goes on
            }
            imapRefuses(mx, "alice@example.org", "secret");
            pop3Refuses(mx, "alice@example.org", "secret");
            assertTrue(mx.server.store().accounts().find("alice@example.org").isEmpty());

            Cli again = user("", "del", "alice@example.org");
            assertEquals(1, again.exit(), again.output());
            assertTrue(again.output().contains("mailstack: no user alice@example.org"), again.output());
        }
    }

    /** user disable (a stolen password): the sessions end, logins are refused, mail still arrives; enable undoes it. */
    @Test
    void disablingAUserEndsItsSessionsRefusesItsLoginsAndKeepsItsMailComing() throws Exception {
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of())) {
            mx.addUser("alice", "secret");
            try (LineClient idling = imapLogin(mx, "alice@example.org", "secret")) {
                idling.send("s SELECT INBOX").expectEventually("s OK \\[READ-WRITE\\] SELECT completed");
                idling.send("i IDLE").expect("\\+ idling");
                Cli disable = user("", "disable", "alice@example.org");
                assertEquals(0, disable.exit(), disable.output());
                assertTrue(disable.output().contains("disabled user alice@example.org (through the running server)"),
                        disable.output());
                idling.expect(BYE);
                idling.expectClosed();
            }
            imapRefuses(mx, "alice@example.org", "secret");
            pop3Refuses(mx, "alice@example.org", "secret");
            try (LineClient smtp = new LineClient(mx.port("smtp"))) { // another server's mail to her
                smtp.expect("220 .*");
                smtp.send("EHLO mail.remote.test").expectEventually("250 HELP");
                smtp.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
                smtp.send("RCPT TO:<alice@example.org>").expect("250 .*");
                smtp.send("DATA").expect("354 .*");
                smtp.sendRaw("Subject: still delivered\r\n\r\nhello\r\n.\r\n").expect("250 .*");
            }
            Await.until("the message in alice's INBOX", Duration.ofSeconds(20),
                    () -> RelayTest.count(mx, "alice@example.org") == 1);

            Cli enable = user("", "enable", "alice@example.org");
            assertEquals(0, enable.exit(), enable.output());
            try (LineClient pop3 = pop3Login(mx, "alice@example.org", "secret")) {
                pop3.send("STAT").expect("\\+OK 1 .*");
                pop3.send("QUIT").expect("\\+OK .*");
            }
        }
    }

    @Test
    void aPasswordChangedThroughTheServerLeavesOpenSessionsAndRefusesTheOldOne() throws Exception {
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of())) {
            mx.addUser("alice", "secret");
            try (LineClient open = imapLogin(mx, "alice@example.org", "secret")) {
                Cli passwd = user("changed\n", "passwd", "alice@example.org", "--password-stdin");
                assertEquals(0, passwd.exit(), passwd.output());
                assertTrue(passwd.output().contains("password changed for alice@example.org (through the running server)"),
                        passwd.output());
                open.send("n NOOP").expect("n OK NOOP completed"); // as in Dovecot: a logged-in client stays
                imapRefuses(mx, "alice@example.org", "secret");
                pop3Refuses(mx, "alice@example.org", "secret");
                imapLogin(mx, "alice@example.org", "changed").close();
                try (LineClient pop3 = pop3Login(mx, "alice@example.org", "changed")) {
                    pop3.send("QUIT").expect("\\+OK .*");
                }
            }

            Cli add = user("hers\n", "add", "Carol@Example.org", "--password-stdin");
            assertEquals(0, add.exit(), add.output());
            assertTrue(add.output().contains("added user carol@example.org (through the running server)"), add.output());
            imapLogin(mx, "carol@example.org", "hers").close();
            Cli nobody = user("x\n", "passwd", "nobody@example.org", "--password-stdin");
            assertEquals(1, nobody.exit(), nobody.output());
            assertTrue(nobody.output().contains("mailstack: no user nobody@example.org"), nobody.output());
        }
    }
}

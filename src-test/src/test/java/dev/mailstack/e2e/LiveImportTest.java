package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.server.ConfigException;
import dev.mailstack.store.Flag;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailstack import} while the server runs: a real CLI process hands its messages to the
 * server through the control socket, so an IMAP client idling on the mailbox hears of them.
 */
class LiveImportTest {
    @TempDir
    Path dir;

    private Cli cli(String... args) throws IOException, InterruptedException {
        return Cli.run(dir, args);
    }

    @Test
    void anImportWhileTheServerRunsWakesAnIdlingClientAndKeepsFlags() throws Exception {
        Path data = dir.resolve("data");
        Path mbox = dir.resolve("old.mbox");
        Files.writeString(mbox, "From someone Tue Dec  1 10:00:00 2026\nSubject: one\n\n>From the archive\n\n"
                + "From other Tue Dec  1 11:00:00 2026\nSubject: two\n\nbody\n");
        Path maildir = dir.resolve("Maildir");
        Files.createDirectories(maildir.resolve("cur"));
        Files.createDirectories(maildir.resolve(".Work.Projects/new"));
        Files.writeString(maildir.resolve("cur/1.host:2,SF"), "Subject: read and flagged\n\nx\n");
        Files.writeString(maildir.resolve(".Work.Projects/new/2.host"), "Subject: new\n\ny\n");
        try (RunningServer mx = RunningServer.start(data, "example.org", Map.of())) {
            mx.addUser("alice", "secret");
            try (LineClient imap = new LineClient(mx.port("imap"))) {
                imap.expect("\\* OK .*");
                imap.send("a LOGIN alice@example.org secret").expectEventually("a OK .*");
                imap.send("b SELECT INBOX").expectEventually("b OK .*");
                imap.send("c IDLE").expect("\\+ .*");

                Cli mboxImport = cli("import", "mbox", mbox.toString(), "--user", "alice@example.org", "--data", data.toString());
                assertEquals(0, mboxImport.exit(), mboxImport.output());
                assertTrue(mboxImport.output().contains("imported 2 message(s) into alice@example.org INBOX (through the running server)"),
                        mboxImport.output());
                imap.expectEventually("\\* 2 EXISTS");
                imap.send("DONE").expectEventually("c OK .*");
                imap.send("d FETCH 1 BODY.PEEK[TEXT]").expect("\\* 1 FETCH \\(.*\\{\\d+\\}");
                assertEquals("From the archive", imap.readLine(), "mboxrd's >From lost one '>'");
            }

            Cli maildirImport = cli("import", "maildir", maildir.toString(), "--user", "alice@example.org", "--data", data.toString());
            assertEquals(0, maildirImport.exit(), maildirImport.output());
            StoreSession alice = mx.server.store().open(mx.server.store().accounts().find("alice@example.org").orElseThrow().id());
            try (var inbox = alice.select(MailboxName.INBOX)) {
                MessageRef flagged = inbox.messages().get(2);
                assertEquals(java.util.EnumSet.of(Flag.SEEN, Flag.FLAGGED), flagged.flags().system(), "flags from :2,SF");
            }
            try (var projects = alice.select(new MailboxName("Work/Projects"))) {
                assertEquals(1, projects.size(), "the Maildir++ folder's message went into its own mailbox");
            }

            Cli nobody = cli("import", "mbox", mbox.toString(), "--user", "nobody@example.org", "--data", data.toString());
            assertEquals(1, nobody.exit(), nobody.output());
            assertTrue(nobody.output().contains("no user nobody@example.org: create it first"), nobody.output());

            ConfigException second = assertThrows(ConfigException.class,
                    () -> RunningServer.start(data, "example.org", Map.of()).close());
            assertTrue(second.getMessage().contains("another mailstack process owns the data folder"), second.getMessage());
        }
        assertFalse(Files.exists(data.resolve("control/control.sock")), "a stopped server removes its socket");
        Cli direct = cli("import", "mbox", mbox.toString(), "--user", "alice@example.org", "--mailbox", "Old", "--data", data.toString());
        assertEquals(0, direct.exit(), direct.output());
        assertTrue(direct.output().contains("imported 2 message(s) into alice@example.org Old\n"), direct.output());
    }

    @Test
    void anImportGivesUpAfterItsWaitAndServeRefusesWhileAnotherProcessOwnsTheFolder() throws Exception {
        Path data = dir.resolve("data");
        try (RunningServer mx = RunningServer.start(data, "example.org", Map.of())) {
            mx.addUser("carol", "secret");
        }
        Path mbox = dir.resolve("one.mbox");
        Files.writeString(mbox, "From x Tue Dec  1 10:00:00 2026\nSubject: hi\n\nhello\n");
        // What an import holds while it writes to a stopped server's store: the folder's lock, no socket.
        try (FileChannel lock = FileChannel.open(data.resolve("control/owner.lock"), StandardOpenOption.WRITE);
             FileLock held = lock.lock()) {
            Cli blocked = cli("import", "mbox", mbox.toString(), "--user", "carol@example.org", "--data", data.toString());
            assertEquals(1, blocked.exit(), blocked.output());
            assertTrue(blocked.output().contains("waiting up to 10 s for it"), blocked.output()); // a starting server?
            assertTrue(blocked.output().contains("and no server answered on " + data.resolve("control/control.sock")
                    + " for 10 s: a server that is still starting"), blocked.output());
            Path log = dir.resolve("serve.log");
            Process serve = ServerProcess.builder(data, 0).redirectOutput(log.toFile()).start();
            if (!serve.waitFor(60, TimeUnit.SECONDS)) {
                serve.destroyForcibly();
                throw new AssertionError("serve did not refuse: " + Files.readString(log));
            }
            assertEquals(1, serve.exitValue(), Files.readString(log));
            assertTrue(Files.readString(log).contains("another mailstack process owns the data folder"), Files.readString(log));
        }
        Cli free = cli("import", "mbox", mbox.toString(), "--user", "carol@example.org", "--data", data.toString());
        assertEquals(0, free.exit(), free.output());
    }

    @Test
    void anAdministratorWhoDoesNotOwnTheFolderImportsOnlyThroughTheServer() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "only root can give the folder to another user");
        Path data = dir.resolve("data");
        try (RunningServer mx = RunningServer.start(data, "example.org", Map.of())) {
            mx.addUser("dave", "secret");
        }
        Files.setOwner(data, data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        Path mbox = dir.resolve("one.mbox");
        Files.writeString(mbox, "From x Tue Dec  1 10:00:00 2026\nSubject: hi\n\nhello\n");
        Cli refused = cli("import", "mbox", mbox.toString(), "--user", "dave@example.org", "--data", data.toString());
        assertEquals(1, refused.exit(), refused.output());
        assertTrue(refused.output().contains("belongs to nobody, so without a running server the import must run as nobody"),
                refused.output());
        try (RunningServer mx = RunningServer.start(data, "example.org", Map.of())) {
            Cli through = cli("import", "mbox", mbox.toString(), "--user", "dave@example.org", "--data", data.toString());
            assertEquals(0, through.exit(), through.output());
            assertTrue(through.output().contains("(through the running server)"), through.output());
        }
    }

    @Test
    void aSocketLeftByAKilledServerIsReplaced() throws Exception {
        Path data = dir.resolve("data");
        Path socket = data.resolve("control/control.sock");
        Path former = data.resolve("control/import.sock"); // the name before 'user' requests went there too
        Files.createDirectories(socket.getParent());
        for (Path left : List.of(socket, former)) {
            try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                dead.bind(UnixDomainSocketAddress.of(left)); // closing leaves the file behind, as SIGKILL does
            }
            assertTrue(Files.exists(left));
        }
        try (RunningServer mx = RunningServer.start(data, "example.org", Map.of())) {
            assertFalse(Files.exists(former), "a former version's socket is removed, so nobody takes it for the way in");
            mx.addUser("bob", "secret");
            Path mbox = dir.resolve("one.mbox");
            Files.writeString(mbox, "From x Tue Dec  1 10:00:00 2026\nSubject: hi\n\nhello\n");
            Cli run = cli("import", "mbox", mbox.toString(), "--user", "bob@example.org", "--data", data.toString());
            assertEquals(0, run.exit(), run.output());
            assertTrue(run.output().contains("(through the running server)"), run.output());
        }
    }
}

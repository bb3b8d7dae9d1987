package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.server.ConfigKey;
import dev.mailstack.store.QueueEntry;
import dev.mailstack.store.QueueId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mailstack queue} from a second process while the server runs (issue: queue list, show,
 * flush, retry, hold, release, delete "usable while the server runs").
 */
class QueueAdminTest {
    @TempDir
    Path dir;

    private Cli queue(String... args) throws Exception {
        String[] all = new String[args.length + 3];
        all[0] = "queue";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--data";
        all[args.length + 2] = dir.resolve("a").toString();
        return Cli.run(dir, all);
    }

    private static QueueId waitingFor(RunningServer s, String recipient) {
        return s.server.store().queue().list().stream()
                .filter(e -> e.lastReply() != null)
                .filter(e -> s.server.store().queue().details(e.id()).orElseThrow().recipients().getFirst().address()
                        .equals(recipient))
                .map(QueueEntry::id).findFirst().orElseThrow();
    }

    @Test
    void aHeldMessageWaitsForItsReleaseAndADeletedOneGoesWithoutABounce() throws Exception {
        int bPort = RelayTest.freePort();
        int deadPort = RelayTest.freePort();
        try (RunningServer a = RunningServer.start(dir.resolve("a"), "example.org", Map.of(
                ConfigKey.STATIC_ROUTES, "example.net=127.0.0.1:" + bPort + ",dead.test=127.0.0.1:" + deadPort,
                ConfigKey.RETRY_INITIAL, "1", ConfigKey.RETRY_MAX, "1"))) {
            a.addUser("alice", "secret");
            RelayTest.submit(a, "held@example.net", "Subject: kept back\r\n\r\nwaits for release\r\n");
            RelayTest.submit(a, "bob@example.net", "Subject: goes through\r\n\r\nnot held\r\n");
            RelayTest.submit(a, "gone@dead.test", "Subject: deleted\r\n\r\nnever delivered\r\n");
            Await.until("three deferrals", Duration.ofSeconds(20),
                    () -> a.server.store().queue().list().stream().filter(e -> e.lastReply() != null).count() == 3);
            QueueId held = waitingFor(a, "held@example.net");
            QueueId through = waitingFor(a, "bob@example.net");
            QueueId deleted = waitingFor(a, "gone@dead.test");

            Cli hold = queue("hold", held.toString());
            assertEquals(0, hold.exit(), hold.output());
            assertTrue(hold.output().contains(held + " held"), hold.output());
            String metrics = OperationsTest.get(a.port("http"), "/metrics").body();
            assertTrue(metrics.contains("mailstack_queue_messages 3\n") && metrics.contains("mailstack_queue_held_messages 1\n"),
                    metrics);
            Cli list = queue("list");
            assertTrue(list.output().contains(held + " from=<alice@example.org>") && list.output().contains("next=held"),
                    list.output());
            Cli show = queue("show", held.toString());
            assertEquals(0, show.exit(), show.output());
            assertTrue(show.output().contains("next try:  held (mailstack queue release " + held + ")"), show.output());
            assertTrue(show.output().contains("to:        <held@example.net> pending, "), show.output());
            assertTrue(show.output().contains("last reply: 4"), "the deferral's reply: " + show.output());
            assertTrue(show.output().contains("\nSubject: kept back\r\n") && !show.output().contains("waits for release"),
                    "the header without --body: " + show.output());
            Cli retryHeld = queue("retry", held.toString());
            assertEquals(1, retryHeld.exit(), "a retry does not end a hold: " + retryHeld.output());
            assertTrue(retryHeld.output().contains(held + " is held: mailstack queue release " + held), retryHeld.output());

            try (RunningServer b = RunningServer.startWithUsers(dir.resolve("b"), "example.net",
                    Map.of(ConfigKey.SMTP_PORT, Integer.toString(bPort)), "bob", "held")) {
                Await.until("the message not held is delivered", Duration.ofSeconds(30),
                        () -> RelayTest.count(b, "bob@example.net") == 1);
                Await.until("its queue entry is gone", Duration.ofSeconds(10),
                        () -> a.server.store().queue().details(through).isEmpty());
                assertEquals(0, RelayTest.count(b, "held@example.net"), "held past the retry that delivered the other");
                assertTrue(a.server.store().queue().details(held).orElseThrow().entry().held());

                Cli release = queue("release", "ALL");
                assertEquals(0, release.exit(), release.output());
                assertTrue(release.output().contains(held + " released") && release.output().contains("1 message(s) released"),
                        release.output());
                Await.until("the released message is delivered", Duration.ofSeconds(30),
                        () -> RelayTest.count(b, "held@example.net") == 1);
            }

            Cli delete = queue("delete", deleted.toString(), "Q7FFFFFFF");
            assertEquals(1, delete.exit(), "one of the two did not exist: " + delete.output());
            assertTrue(delete.output().contains(deleted + " deleted"), delete.output());
            assertTrue(delete.output().contains("no queued message Q7FFFFFFF"), delete.output());
            Await.until("the queue empties", Duration.ofSeconds(10), () -> a.server.store().queue().list().isEmpty());
            Cli empty = queue("list");
            assertEquals("the queue is empty\n", empty.output());
            Cli nonsense = queue("hold", "bob");
            assertEquals(1, nonsense.exit());
            assertTrue(nonsense.output().contains("not a queue id: bob"), nonsense.output());
            assertEquals(List.of(), a.server.store().queue().list());
            assertEquals(0, RelayTest.count(a, "alice@example.org"), "no bounce for a deleted message");
        }
    }
}

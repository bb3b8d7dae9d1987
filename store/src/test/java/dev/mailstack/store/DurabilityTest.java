package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A commit acknowledged by the store survives SIGKILL of the JVM right after it (no write delay), small and large messages alike. */
class DurabilityTest {
    @TempDir
    Path dir;

    @Test
    void committedMessagesSurviveSigkillImmediatelyAfterCommit() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                DurabilityChild.class.getName(), dir.toString())
                .redirectErrorStream(true).start();
        List<String> committed = new java.util.ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("committed ")) {
                    committed.add(line.substring(10));
                    if (committed.size() == 20) {
                        // SIGKILL: no shutdown hook, no H2 close; only what reached the files counts.
                        child.destroyForcibly();
                        break;
                    }
                }
            }
        }
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(20, committed.size(), "the child committed twenty messages before it was killed");
        try (MailboxStore store = MailboxStore.open(dir, null)) {
            Account alice = store.accounts().find("alice@example.org").orElseThrow();
            StoreSession s = store.open(alice.id());
            long stored = s.status(MailboxName.INBOX).messages();
            assertTrue(stored >= 20, "every acknowledged commit is there after SIGKILL: " + stored);
            List<MessageRef> messages = s.select(MailboxName.INBOX).messages();
            for (int i = 0; i < 20; i++) { // small ones in the database, every other one in its file
                try (var in = s.openContent(messages.get(i))) {
                    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(text.contains("number " + i + "\r\n"), "message " + i);
                    assertEquals(i % 2 == 1, text.length() > MessageSpool.IN_MEMORY_MAX, "message " + i);
                }
            }
        }
    }
}

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Contents are durable before anyone is told so, even when two writers store the same bytes at once. */
class ContentFilesTest {
    private static final byte[] MESSAGE = "Subject: twice\r\n\r\nsame bytes from two writers\r\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;
    ContentFiles files;
    /** The first writer's spool sync, which each test ends its own way. */
    CompletableFuture<Void> firstSync = new CompletableFuture<>();
    CompletableFuture<Void> first;
    CompletableFuture<Void> second;

    /** Two writers of the same bytes, the second's own file synced, the first's sync still under way. */
    @BeforeEach
    void twoWritersAtOnce() throws Exception {
        files = new ContentFiles(dir);
        first = files.putStarted(spooled("first", firstSync));
        second = files.putStarted(spooled("second", CompletableFuture.completedFuture(null)));
    }

    @Test
    void aSecondWriterOfTheSameContentWaitsForTheFirstWritersSync() throws Exception {
        assertTrue(Files.exists(files.pathOf(sha256())), "linked into place at once");
        assertFalse(second.isDone(), "the file is there, but not yet known to be on disk");
        firstSync.complete(null);
        BackgroundSync.await(first);
        BackgroundSync.await(second);
        assertTrue(files.putStarted(spooled("third", new CompletableFuture<>())).isDone(),
                "once synced, a later writer finds it durable");
    }

    @Test
    void aFailedSyncFailsEveryWaiterAndTheNextWriterStoresTheContentAgain() throws Exception {
        firstSync.completeExceptionally(new IOException("disk went away"));
        assertThrows(IOException.class, () -> BackgroundSync.await(first));
        assertThrows(IOException.class, () -> BackgroundSync.await(second));
        assertFalse(Files.exists(files.pathOf(sha256())), "a file not known to be on disk is not left for others");

        CompletableFuture<Void> retrySync = new CompletableFuture<>();
        CompletableFuture<Void> retry = files.putStarted(spooled("retry", retrySync));
        assertFalse(retry.isDone());
        retrySync.complete(null);
        BackgroundSync.await(retry);
        try (var in = files.open(sha256(), 0, Long.MAX_VALUE)) {
            assertArrayEquals(MESSAGE, in.readAllBytes());
        }
    }

    /** A finished spool file in the store's spool folder whose sync ends when the test says. */
    private MessageSpool.Spooled spooled(String name, CompletableFuture<Void> synced) throws Exception {
        Path file = Files.write(dir.resolve("spool").resolve(name + ".eml"), MESSAGE);
        return new MessageSpool.Spooled.OnDisk(file, MESSAGE.length, sha256(), synced);
    }

    private static String sha256() throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(MESSAGE));
    }
}

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The space kept free for the store, and a spool written into a disk that is really full. */
class DiskSpaceTest {
    @TempDir
    Path dir;

    @Test
    void mailIsRefusedOnlyWhenItWouldLeaveLessThanTheReserve() throws IOException {
        DiskSpace space = new DiskSpace(dir);
        long free = space.usable();
        assertTrue(free > 0 && free < Long.MAX_VALUE, "the file system's free space is read: " + free);
        assertTrue(space.hasRoomFor(free / 2), "no reserve: what fits is taken");
        assertFalse(space.hasRoomFor(free * 2), "no reserve: what cannot fit is refused");
        space.keepFree(free / 2);
        assertTrue(space.hasRoomFor(1000));
        assertFalse(space.hasRoomFor(free), "a message as large as the free space would eat into the reserve");
        space.keepFree(Long.MAX_VALUE / 2);
        assertFalse(space.hasRoomFor(0));
        space.keepFree(-1);
        assertEquals(0, space.reserve());
    }

    /**
     * Deleting a spool file after use never fails its caller: the SMTP 250 for a queued message
     * may be waiting in the output buffer, and an exception would drop the session before it is
     * sent (the client would send the message again). Here the delete fails for want of a file
     * (a folder in its place); the leftover is the sweep's.
     */
    @Test
    void aSpoolFileThatCannotBeDeletedIsLeftWithoutFailingTheCaller() throws IOException {
        Path blocked = dir.resolve("blocked");
        Files.createDirectories(blocked.resolve("inside"));
        MessageSpool.Spooled spooled = new MessageSpool.Spooled.OnDisk(blocked, 0, "0".repeat(64),
                java.util.concurrent.CompletableFuture.completedFuture(null));
        spooled.discard();
        assertTrue(Files.isDirectory(blocked.resolve("inside")), "nothing deleted, nothing thrown");
    }

    /**
     * ENOSPC for real, on a 1 MiB tmpfs (where this test may mount one: Linux, as root): the spool
     * takes every octet without throwing, so a session reads the rest of its client's message, and
     * finish says the write failed and leaves no file; a message that fits then spools as usual.
     */
    @Test
    void aSpoolOnAFullDiskFailsAtFinishAndLeavesNothing() throws Exception {
        Path small = dir.resolve("small");
        Files.createDirectories(small);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString()),
                "needs a tmpfs of its own (Linux, root)");
        try {
            ContentFiles files = new ContentFiles(small);
            try (MessageSpool spool = files.spool()) {
                byte[] line = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n".getBytes();
                for (int i = 0; i < 40_000; i++) { // 2.6 MB into 1 MiB
                    spool.write(line, 0, line.length);
                }
                assertEquals(40_000L * line.length, spool.size(), "every octet is counted");
                assertThrows(MessageSpool.WriteFailed.class, spool::finish);
            }
            try (Stream<Path> left = Files.list(small.resolve("spool"))) {
                assertEquals(0, left.count(), "the failed spool file is deleted");
            }
            try (MessageSpool spool = files.spool()) {
                byte[] fits = ("Subject: fits\r\n\r\n" + "x".repeat(MessageSpool.IN_MEMORY_MAX) + "\r\n").getBytes();
                spool.write(fits);
                MessageSpool.Spooled.OnDisk spooled = (MessageSpool.Spooled.OnDisk) spool.finish();
                spooled.synced().get(10, TimeUnit.SECONDS);
                assertEquals(fits.length, Files.size(spooled.file()));
            }
        } finally {
            assertTrue(run("umount", small.toString()) || run("umount", "-l", small.toString()), "unmounted");
        }
    }

    private static boolean run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }
}

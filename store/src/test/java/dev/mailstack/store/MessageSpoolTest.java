package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MessageSpoolTest {
    @TempDir
    Path dir;

    private final AtomicLong inMemory = new AtomicLong();

    /** Up to IN_MEMORY_MAX in memory; one octet more and the whole message is in a file: the same octets and address either way. */
    @Test
    void aSmallMessageStaysInMemoryAndALargerOneGoesToAFile() throws Exception {
        for (int size : new int[] {1000, MessageSpool.IN_MEMORY_MAX, MessageSpool.IN_MEMORY_MAX + 1}) {
            byte[] octets = octets(size);
            MessageSpool.Spooled spooled = spool(octets, Long.MAX_VALUE);
            if (size <= MessageSpool.IN_MEMORY_MAX) {
                assertInstanceOf(MessageSpool.Spooled.InMemory.class, spooled, "size " + size);
            } else {
                var file = assertInstanceOf(MessageSpool.Spooled.OnDisk.class, spooled);
                file.synced().get();
                assertArrayEquals(octets, Files.readAllBytes(file.file()));
            }
            assertEquals(size, spooled.size());
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(octets)), spooled.sha256());
            try (InputStream in = spooled.open()) {
                assertArrayEquals(octets, in.readAllBytes());
            }
            spooled.discard();
        }
        assertEquals(0, inMemory.get(), "every spool gave its memory back");
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(0, left.count(), "discarded");
        }
    }

    /**
     * Spools hold at most the budget together beyond their first blocks, from their first octet
     * until the message is discarded (stored): one that would pass it goes to its file.
     */
    @Test
    void spoolsTogetherHoldNoMoreThanTheBudget() throws Exception {
        long budget = 16 * 1024;
        byte[] twelve = octets(12 * 1024);
        MessageSpool first = new MessageSpool(dir, inMemory, budget);
        first.write(twelve);
        assertEquals(8 * 1024, inMemory.get(), "grown from its first 4 KiB to 12 KiB");
        MessageSpool.Spooled second = spool(twelve, budget);
        assertInstanceOf(MessageSpool.Spooled.OnDisk.class, second, "no room left in memory");
        MessageSpool.Spooled firstDone = first.finish();
        assertInstanceOf(MessageSpool.Spooled.InMemory.class, firstDone);
        assertEquals(8 * 1024, inMemory.get(), "a finished message not yet stored still counts");
        assertInstanceOf(MessageSpool.Spooled.OnDisk.class, spool(twelve, budget), "still no room");
        firstDone.discard();
        firstDone.discard();
        assertEquals(0, inMemory.get(), "given back once");
        MessageSpool.Spooled third = spool(twelve, budget);
        assertInstanceOf(MessageSpool.Spooled.InMemory.class, third, "room again");
        third.discard();
        second.discard();
        assertEquals(0, inMemory.get());
    }

    /** Octet by octet as in pieces; a spool closed unfinished, or whose file cannot be made, gives its memory back. */
    @Test
    void singleOctetsAnUnfinishedSpoolAndAFailedFile() throws Exception {
        byte[] octets = octets(10_000);
        try (MessageSpool spool = new MessageSpool(dir, inMemory, Long.MAX_VALUE)) {
            for (byte b : octets) {
                spool.write(b);
            }
            MessageSpool.Spooled done = spool.finish();
            try (InputStream in = done.open()) {
                assertArrayEquals(octets, in.readAllBytes());
            }
            done.discard();
        }
        byte[] large = octets(MessageSpool.IN_MEMORY_MAX + 5000);
        try (MessageSpool spool = new MessageSpool(dir, inMemory, Long.MAX_VALUE)) {
            for (byte b : large) { // past memory into the file, octet by octet
                spool.write(b);
            }
            var done = assertInstanceOf(MessageSpool.Spooled.OnDisk.class, spool.finish());
            done.synced().get();
            assertArrayEquals(large, Files.readAllBytes(done.file()));
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(large)), done.sha256());
            done.discard();
        }
        try (MessageSpool spool = new MessageSpool(dir, inMemory, Long.MAX_VALUE)) {
            spool.write(octets);
            assertTrue(inMemory.get() > 0, "held while it is written");
        }
        assertEquals(0, inMemory.get(), "closed unfinished");
        MessageSpool gone = new MessageSpool(dir.resolve("no such folder"), inMemory, Long.MAX_VALUE);
        gone.write(octets(MessageSpool.IN_MEMORY_MAX + 1));
        assertThrows(MessageSpool.WriteFailed.class, gone::finish);
        assertEquals(0, inMemory.get(), "the file could not be made");
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(0, left.count());
        }
    }

    private MessageSpool.Spooled spool(byte[] octets, long budget) throws Exception {
        try (MessageSpool spool = new MessageSpool(dir, inMemory, budget)) {
            for (int at = 0; at < octets.length; at += 1000) { // in pieces, as a session writes
                spool.write(octets, at, Math.min(1000, octets.length - at));
            }
            return spool.finish();
        }
    }

    private static byte[] octets(int size) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) 'x');
        b[0] = 'S';
        return b;
    }
}

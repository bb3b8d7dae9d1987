package dev.mailstack.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A message being received, hashing as it goes. Up to {@link #IN_MEMORY_MAX} octets it is held in
 * memory, and stored in the database with the rows that point at it ({@link ContentOctets}); past
 * that it goes to a temporary file next to the content files, so storing it later is a link, not a
 * copy. Close without {@link #finish()} to discard it.
 * A write that fails (a full disk) does not throw: the octets after it are counted and dropped,
 * so a protocol session can read the rest of what its client sends and stay in step, and
 * {@link #finish()} then throws {@link WriteFailed}, to be answered as a temporary failure.
 */
public final class MessageSpool extends OutputStream {
    /**
     * The largest message kept in memory and then in the database. A file of its own costs a small
     * message more than everything else the store does for it: creating the inode (ext4 looks
     * through recently freed ones for each), syncing the file and then its folder, linking and
     * unlinking; in the database its octets are written and synced with its rows, in the commit
     * the message needs anyway. Past about this size a file is the cheaper again: H2 writes a large
     * value more than once (its page is copied when the next row is added), and its file grows
     * with what it wrote until its chunks are reused (32 clients on this machine: 30 KB messages
     * 700 msg/s in the database against 560 in files, 60 KB alike, 100 KB 360 against 500). A
     * receiving session holds at most this much in memory, and all of them together at most the
     * store's budget (a sixteenth of the heap).
     */
    public static final int IN_MEMORY_MAX = 64 * 1024;

    private final Path dir;
    /**
     * Octets held in memory by every spool of the store beyond each one's first block, against
     * {@code memoryBudget}: a spool that would pass it goes to its file, so that many slow senders
     * at once cost disk, not the heap.
     */
    private final AtomicLong inMemory;
    private final long memoryBudget;
    /** This spool's share of {@code inMemory}. */
    private long reserved;
    /** The octets so far while the message is small; null once it went to a file. */
    private byte[] held = new byte[4096];
    private int heldLength;
    private Path file;
    private FileChannel channel;
    private OutputStream out;
    private final MessageDigest digest;
    private long size;
    private boolean finished;
    private boolean closed;
    /** The first write that failed; nothing is written after it. */
    private IOException failure;

    MessageSpool(Path dir, AtomicLong inMemory, long memoryBudget) {
        this.dir = dir;
        this.inMemory = inMemory;
        this.memoryBudget = memoryBudget;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public void write(int b) {
        boolean open = failure == null && !closed;
        if (open && held != null && heldLength < held.length) {
            held[heldLength++] = (byte) b;
            size++;
            digest.update((byte) b);
        } else if (open && held == null && out != null) {
            size++;
            try {
                out.write(b);
            } catch (IOException e) {
                failure = e;
                return;
            }
            digest.update((byte) b);
        } else {
            write(new byte[] {(byte) b}, 0, 1); // a buffer to grow, a file to make, or a failure to count past
        }
    }

    @Override
    public void write(byte[] b, int off, int len) {
        size += len;
        if (failure != null || closed) {
            return;
        }
        try {
            if (held != null && heldLength + len <= IN_MEMORY_MAX && roomFor(len)) {
                System.arraycopy(b, off, held, heldLength, len);
                heldLength += len;
            } else {
                if (held != null) {
                    toFile();
                }
                out.write(b, off, len);
            }
        } catch (IOException e) {
            failure = e;
            return;
        }
        digest.update(b, off, len);
    }

    /** Whether {@code len} more octets fit in memory, the buffer grown within the store's budget. */
    private boolean roomFor(int len) {
        if (heldLength + len <= held.length) {
            return true;
        }
        int grown = Math.min(IN_MEMORY_MAX, Math.max(held.length * 2, heldLength + len));
        long more = grown - held.length;
        for (long now = inMemory.get(); ; now = inMemory.get()) {
            if (now + more > memoryBudget) {
                return false;
            }
            if (inMemory.compareAndSet(now, now + more)) {
                break;
            }
        }
        reserved += more;
        held = java.util.Arrays.copyOf(held, grown);
        return true;
    }

    /** The memory this spool held goes back to the store's budget. */
    private void release() {
        if (reserved > 0) {
            inMemory.addAndGet(-reserved);
            reserved = 0;
        }
    }

    /** The message outgrew memory: what was held goes first into its file. */
    private void toFile() throws IOException {
        file = Files.createTempFile(dir, "spool-", ".eml");
        channel = FileChannel.open(file, StandardOpenOption.WRITE);
        out = new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
        byte[] before = held;
        held = null;
        release();
        out.write(before, 0, heldLength);
    }

    public long size() {
        return size;
    }

    /**
     * Returns the message as a source for the store. A file's bytes are flushed and their sync to
     * disk is under way: the store waits for it before the rows that make the message count are
     * committed ({@link ContentFiles#put}), and meanwhile the message is parsed and linked into
     * place. One client's message waits for the file's sync and its directory's at once, not one
     * after the other.
     */
    public Spooled finish() throws IOException {
        if (closed) {
            throw new IllegalStateException("spool already finished or closed");
        }
        if (failure == null && out != null) {
            try {
                out.flush();
            } catch (IOException e) {
                failure = e;
            }
        }
        if (failure != null) {
            close();
            throw new WriteFailed(failure);
        }
        finished = true;
        closed = true;
        String sha256 = HexFormat.of().formatHex(digest.digest());
        if (held != null) {
            byte[] octets = heldLength == held.length ? held : java.util.Arrays.copyOf(held, heldLength);
            held = null;
            // its share of the budget stays taken until the message is stored and discarded: a
            // MULTIAPPEND holds every finished message of the command in memory until its commit
            Spooled.InMemory kept = new Spooled.InMemory(octets, sha256, inMemory, reserved);
            reserved = 0;
            return kept;
        }
        FileChannel ch = channel;
        CompletableFuture<Void> synced = BackgroundSync.start("spool-sync", () -> {
            try (ch) {
                ch.force(false);
            }
        });
        return new Spooled.OnDisk(file, size, sha256, synced);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        held = null;
        release();
        try {
            if (channel != null) {
                channel.close();
            }
        } finally {
            if (!finished && file != null) { // also one made whose channel did not open
                Files.deleteIfExists(file);
            }
        }
    }

    /** The spool file could not be written (a full disk, most often); the message is not kept. */
    public static final class WriteFailed extends IOException {
        WriteFailed(IOException cause) {
            super("cannot write the message to the spool: " + cause.getMessage(), cause);
        }
    }

    /**
     * A received message, ready to store. Discarding it after use is the owner's job ({@link
     * #discard()}): deleting its file, or giving its memory back to the store's budget.
     */
    public sealed interface Spooled extends MessageSource {
        /**
         * Deletes its file, or gives its memory back. Never fails its caller: by now the message is committed
         * (or refused), and an exception here would turn a 250 already due into a dropped session,
         * and a resent message; a file left behind is removed by {@link MailboxStore#removeLeftovers}.
         */
        void discard();

        /** A small message, in memory until it is stored in the database with its rows. */
        final class InMemory implements Spooled {
            private final byte[] octets;
            private final String sha256;
            private final AtomicLong budget;
            private final AtomicLong share;

            InMemory(byte[] octets, String sha256, AtomicLong budget, long share) {
                this.octets = octets;
                this.sha256 = sha256;
                this.budget = budget;
                this.share = new AtomicLong(share);
            }

            /** The message's octets; not to be changed. */
            public byte[] octets() {
                return octets;
            }

            @Override
            public String sha256() {
                return sha256;
            }

            @Override
            public long size() {
                return octets.length;
            }

            @Override
            public InputStream open() {
                return new java.io.ByteArrayInputStream(octets);
            }

            @Override
            public void discard() {
                long given = share.getAndSet(0);
                if (given > 0) {
                    budget.addAndGet(-given);
                }
            }
        }

        /** A larger message in a spool file, {@code synced} once the file is on disk. */
        record OnDisk(Path file, long size, String sha256, CompletableFuture<Void> synced) implements Spooled {
            @Override
            public InputStream open() throws IOException {
                return Files.newInputStream(file);
            }

            @Override
            public void discard() {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    System.getLogger(MessageSpool.class.getName()).log(System.Logger.Level.WARNING,
                            "cannot delete a spool file, the leftover sweep will file={0} error=\"{1}\"", file, e.getMessage());
                }
            }
        }
    }
}

package dev.mailstack.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Message octets on disk, one file per distinct content, named by its SHA-256. Files are written
 * and synced before the row that points at them commits, so a committed row always finds its file;
 * a crash can only leave an unreferenced file behind, never a dangling row. Small messages have no
 * file: their octets are kept in the database ({@link ContentOctets}).
 */
final class ContentFiles {
    private final Path root;
    private final Path spoolDir;
    /** What messages being received may hold in memory at once, all together (MessageSpool). */
    static final long MEMORY_BUDGET = Math.max(MessageSpool.IN_MEMORY_MAX, Runtime.getRuntime().maxMemory() / 16);
    private final AtomicLong heldInMemory = new AtomicLong();
    /** Contents placed whose sync to disk is still under way, by address. */
    private final Map<String, CompletableFuture<Void>> syncing = new ConcurrentHashMap<>();
    /** Contents whose file is there but not known to be on disk ({@link #forgetUnsynced}). */
    private final Set<String> unsynced = ConcurrentHashMap.newKeySet();
    /**
     * Test hook, null outside tests (set by the test fixture StoreFixture): given a content as its put
     * begins, a moment its durability also waits for, as if the disk were slow to sync it.
     */
    volatile Function<MessageSource, CompletableFuture<Void>> slowSync;

    ContentFiles(Path root) throws IOException {
        this.root = root;
        this.spoolDir = root.resolve("spool");
        Files.createDirectories(spoolDir);
    }

    MessageSpool spool() {
        return new MessageSpool(spoolDir, heldInMemory, MEMORY_BUDGET);
    }

    /** Makes the content durable under its address; copies only when the source is not our own spool file. */
    void put(MessageSource source) throws IOException {
        BackgroundSync.await(putStarted(source));
    }

    /**
     * Puts every content, their syncs under way together, and returns once all are durable: a set
     * of messages waits about as long as its slowest sync, not for the sum of them.
     */
    void putAll(List<? extends MessageSource> sources) throws IOException {
        List<CompletableFuture<Void>> durable = new ArrayList<>(sources.size());
        for (MessageSource source : sources) {
            durable.add(putStarted(source));
        }
        for (CompletableFuture<Void> sync : durable) {
            BackgroundSync.await(sync);
        }
    }

    /**
     * Puts the content under its address and returns when it is durable: for our own spool file,
     * linked into place, the file's sync (begun at {@link MessageSpool#finish}) and its directory's
     * still under way; rows pointing at it are committed only after {@link BackgroundSync#await}.
     */
    CompletableFuture<Void> putStarted(MessageSource source) throws IOException {
        String sha256 = source.sha256();
        if (source instanceof MessageSpool.Spooled.InMemory) { // its octets go in with its row (ContentOctets)
            Function<MessageSource, CompletableFuture<Void>> slow = slowSync;
            return slow != null ? slow.apply(source) : DURABLE;
        }
        // The same content from two writers at once: the second must wait for the first's sync,
        // not take the file it finds for durable and commit before the bytes are on disk.
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> earlier = syncing.putIfAbsent(sha256, mine);
        if (earlier != null) {
            return earlier;
        }
        CompletableFuture<Void> durable;
        try {
            durable = place(source, pathOf(sha256));
            Function<MessageSource, CompletableFuture<Void>> slow = slowSync;
            if (slow != null) {
                durable = CompletableFuture.allOf(durable, slow.apply(source));
            }
        } catch (IOException | RuntimeException e) {
            syncing.remove(sha256, mine);
            mine.completeExceptionally(e);
            throw e;
        }
        durable.whenComplete((ok, failed) -> {
            try {
                if (failed != null) {
                    forgetUnsynced(sha256);
                }
            } finally {
                syncing.remove(sha256, mine);
                if (failed != null) {
                    mine.completeExceptionally(failed);
                } else {
                    mine.complete(null);
                }
            }
        });
        return mine;
    }

    /**
     * A placed file whose sync failed is not known to be on disk, and no committed row points at it
     * yet: removed, so the next writer of this content writes it again. When even the removal fails,
     * the address is remembered and the next writer replaces the file through a synced copy.
     */
    private void forgetUnsynced(String sha256) {
        unsynced.add(sha256);
        try {
            Files.deleteIfExists(pathOf(sha256));
            unsynced.remove(sha256);
        } catch (IOException | RuntimeException e) {
            // stays in unsynced
        }
    }

    private CompletableFuture<Void> place(MessageSource source, Path target) throws IOException {
        boolean suspect = unsynced.contains(source.sha256());
        if (!suspect && Files.exists(target)) {
            if (reused(target, source)) {
                return DURABLE;
            }
            suspect = true; // cut short by a power cut before its sync (the set above is lost with the process): replace
        }
        if (!Files.isDirectory(target.getParent())) {
            // createDirectories alone throws and catches an exception for a directory that exists
            Files.createDirectories(target.getParent());
        }
        if (!suspect && source instanceof MessageSpool.Spooled.OnDisk s && s.file().getParent().equals(spoolDir)) {
            // A hard link shares the spool's bytes: no copy, and the caller keeps its spool.
            boolean linked;
            try {
                Files.createLink(target, s.file());
                linked = true;
            } catch (FileAlreadyExistsException e) {
                if (reused(target, source)) {
                    return DURABLE;
                }
                throw new IOException("a content file of the wrong size is in the way: " + target, e);
            } catch (IOException | UnsupportedOperationException e) {
                linked = false; // a filesystem without hard links: copy below
            }
            if (linked) {
                Path dir = target.getParent();
                return CompletableFuture.allOf(s.synced(), BackgroundSync.start("content-sync", () -> syncDirectory(dir)));
            }
        }
        Path temp = Files.createTempFile(spoolDir, "put-", ".eml");
        try (InputStream in = source.open()) {
            Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(temp);
            if (suspect) {
                throw new IOException("cannot replace " + target + ", a content file not known to be on disk", e);
            }
        }
        syncDirectory(target.getParent());
        unsynced.remove(source.sha256());
        return DURABLE;
    }

    /**
     * Whether the content file already at {@code target} can stand for {@code source}: it has its
     * size (a file whose sync a power cut stopped is usually empty or short). Its time is set to now,
     * so that the sweep of leftovers, which goes by age, does not take an old file no row named yet
     * (an APPEND refused at its commit) while this writer is about to commit a row that names it.
     */
    private static boolean reused(Path target, MessageSource source) throws IOException {
        if (Files.size(target) != source.size()) {
            return false;
        }
        try {
            Files.setLastModifiedTime(target, java.nio.file.attribute.FileTime.from(Instant.now()));
        } catch (IOException e) {
            // the leftover sweep also waits for writers in flight: this is the second guard
        }
        return true;
    }

    /**
     * Removes the files last changed before {@code cutoff} that nothing will read: every spool file
     * (its writer is gone: SMTP and IMAP delete theirs when done), and every content file whose
     * address {@code referenced} does not know, asked one folder (two hex digits) at a time.
     * Returns how many went.
     */
    int removeLeftovers(Instant cutoff, java.util.function.Function<String, java.util.Set<String>> referenced) throws IOException {
        int removed = removeOld(spoolDir, cutoff, name -> false);
        try (java.util.stream.Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.filter(d -> isPrefix(d.getFileName().toString()) && Files.isDirectory(d)).sorted().toList()) {
                java.util.Set<String> known = referenced.apply(dir.getFileName().toString());
                removed += removeOld(dir, cutoff, known::contains);
            }
        }
        return removed;
    }

    private static boolean isPrefix(String name) {
        return name.length() == 2 && name.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f');
    }

    private static int removeOld(Path dir, Instant cutoff, java.util.function.Predicate<String> keep) throws IOException {
        int removed = 0;
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!keep.test(f.getFileName().toString()) && Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                        && Files.getLastModifiedTime(f).toInstant().isBefore(cutoff) && Files.deleteIfExists(f)) {
                    removed++;
                }
            }
        }
        return removed;
    }

    /** The content from {@code offset}; at most {@code length} bytes of it (Long.MAX_VALUE: to its end). */
    InputStream open(String sha256, long offset, long length) throws IOException {
        return new Reader(FileChannel.open(pathOf(sha256), StandardOpenOption.READ), offset, length);
    }

    void delete(String sha256) throws IOException {
        Files.deleteIfExists(pathOf(sha256));
    }

    private static final CompletableFuture<Void> DURABLE = CompletableFuture.completedFuture(null);

    Path pathOf(String sha256) {
        if (!isSha256(sha256)) {
            throw new IllegalArgumentException("not a sha-256: " + sha256);
        }
        return root.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    private static boolean isSha256(String s) {
        if (s.length() != 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads with positional reads (pread): no seek to the offset, and no read that only finds
     * the end once the known length has been read. POP3 RETR and IMAP BODY[] of a whole mailbox
     * open a file per message, so each system call saved is one per message.
     */
    private static final class Reader extends InputStream {
        private final FileChannel channel;
        private long position;
        private long remaining;

        Reader(FileChannel channel, long position, long remaining) {
            this.channel = channel;
            this.position = position;
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (remaining <= 0) {
                return -1;
            }
            int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, remaining)), position);
            if (n < 0) {
                remaining = 0;
                return -1;
            }
            position += n;
            remaining -= n;
            return n;
        }

        @Override
        public long skip(long n) {
            long k = Math.max(0, Math.min(n, remaining));
            position += k;
            remaining -= k;
            return k;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static void syncDirectory(Path dir) {
        // Makes the rename itself durable on Linux; other systems may refuse to open a directory.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // best effort: the file content is already synced
        }
    }
}

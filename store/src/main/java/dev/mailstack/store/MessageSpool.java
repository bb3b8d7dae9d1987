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

/**
 * A message being written to a temporary file next to the content files, hashing as it goes, so
 * storing it later is a rename, not a copy. Close without {@link #finish()} to discard it.
 * A write that fails (a full disk) does not throw: the octets after it are counted and dropped,
 * so a protocol session can read the rest of what its client sends and stay in step, and
 * {@link #finish()} then throws {@link WriteFailed}, to be answered as a temporary failure.
 */
public final class MessageSpool extends OutputStream {
    private final Path file;
    private final FileChannel channel;
    private final OutputStream out;
    private final MessageDigest digest;
    private long size;
    private boolean finished;
    private boolean closed;
    /** The first write that failed; nothing is written after it. */
    private IOException failure;

    MessageSpool(Path dir) throws IOException {
        this.file = Files.createTempFile(dir, "spool-", ".eml");
        this.channel = FileChannel.open(file, StandardOpenOption.WRITE);
        this.out = new java.io.BufferedOutputStream(Channels.newOutputStream(channel), 64 * 1024);
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public void write(int b) {
        size++;
        if (failure != null) {
            return;
        }
        try {
            out.write(b);
        } catch (IOException e) {
            failure = e;
            return;
        }
        digest.update((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        size += len;
        if (failure != null) {
            return;
        }
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            failure = e;
            return;
        }
        digest.update(b, off, len);
    }

    public long size() {
        return size;
    }

    /**
     * Flushes the bytes and returns them as a source for the store, their sync to disk under way:
     * the store waits for it before the rows that make the message count are committed
     * ({@link ContentFiles#put}), and meanwhile the message is parsed and linked into place. One
     * client's message waits for the file's sync and its directory's at once, not one after the other.
     */
    public Spooled finish() throws IOException {
        if (failure == null) {
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
        FileChannel ch = channel;
        CompletableFuture<Void> synced = BackgroundSync.start("spool-sync", () -> {
            try (ch) {
                ch.force(false);
            }
        });
        return new Spooled(file, size, HexFormat.of().formatHex(digest.digest()), synced);
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } finally {
            if (!finished) {
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

    /** A finished spool file. Deleting it after use is the owner's job ({@link #discard()}). */
    public record Spooled(Path file, long size, String sha256, CompletableFuture<Void> synced) implements MessageSource {
        @Override
        public InputStream open() throws IOException {
            return Files.newInputStream(file);
        }

        /**
         * Deletes the file. Never fails its caller: by now the message is committed (or refused),
         * and an exception here would turn a 250 already due into a dropped session, and a resent
         * message; a file left behind is removed by {@link MailboxStore#removeLeftovers}.
         */
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

package dev.mailstack.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Message octets on disk, one file per distinct content, named by its SHA-256. Files are written
 * and synced before the row that points at them commits, so a committed row always finds its file;
 * a crash can only leave an unreferenced file behind, never a dangling row.
 */
final class ContentFiles {
    private final Path root;
    private final Path spoolDir;

    ContentFiles(Path root) throws IOException {
        this.root = root;
        this.spoolDir = root.resolve("spool");
        Files.createDirectories(spoolDir);
    }

    MessageSpool spool() throws IOException {
        return new MessageSpool(spoolDir);
    }

    /** Makes the content durable under its address; copies only when the source is not our own spool file. */
    void put(MessageSource source) throws IOException {
        Path target = pathOf(source.sha256());
        if (Files.exists(target)) {
            return;
        }
        Files.createDirectories(target.getParent());
        if (source instanceof MessageSpool.Spooled s && s.file().getParent().equals(spoolDir)) {
            // A hard link shares the already-synced spool bytes: no copy, and the caller keeps its spool.
            try {
                Files.createLink(target, s.file());
                syncDirectory(target.getParent());
                return;
            } catch (FileAlreadyExistsException e) {
                return;
            } catch (IOException | UnsupportedOperationException e) {
                // a filesystem without hard links: copy below
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
        }
        syncDirectory(target.getParent());
    }

    InputStream open(String sha256, long offset) throws IOException {
        FileChannel ch = FileChannel.open(pathOf(sha256), StandardOpenOption.READ);
        ch.position(offset);
        return Channels.newInputStream(ch);
    }

    void delete(String sha256) throws IOException {
        Files.deleteIfExists(pathOf(sha256));
    }

    Path pathOf(String sha256) {
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a sha-256: " + sha256);
        }
        return root.resolve(sha256.substring(0, 2)).resolve(sha256);
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

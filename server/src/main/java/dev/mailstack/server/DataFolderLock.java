package dev.mailstack.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One process at a time owns the data folder: the server, or an import run while no server runs.
 * An exclusive lock on {@code data/control/owner.lock}, held for the process's life of the folder
 * (the operating system drops it when the process dies, SIGKILL included, so no stale state).
 * A second {@code serve} on the same folder refuses to start before it opens the store; an
 * import that finds the lock taken hands its mail to the owner through the {@link ControlSocket}.
 */
final class DataFolderLock implements AutoCloseable {
    /** The lock files this JVM holds. */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path path;
    private final FileChannel file;
    private final FileLock lock;

    private DataFolderLock(Path path, FileChannel file, FileLock lock) {
        this.path = path;
        this.file = file;
        this.lock = lock;
    }

    /** {@code data/control}, made private to the server's user (and root) on first use. */
    static Path controlFolder(Path dataDir) throws IOException {
        Path dir = dataDir.resolve("control");
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectories(dataDir);
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                // made by another process in the meantime: checked below like any other
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(dir); // not a POSIX file system: no permissions to set
            }
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new ConfigException(dir + " must be a folder (not a link): remove it, mailstack makes it again");
        }
        return dir;
    }

    /** The lock, or empty when another process holds it (or this one: a second server in one JVM). */
    static synchronized Optional<DataFolderLock> tryTake(Path dataDir) throws IOException {
        Path path;
        FileChannel file;
        try {
            path = controlFolder(dataDir).toRealPath().resolve("owner.lock"); // one key however the folder is named
            if (HELD.contains(path)) {
                // Not even a second channel: closing one may drop this JVM's lock on the file.
                return Optional.empty();
            }
            file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        } catch (AccessDeniedException e) {
            throw new ConfigException("cannot open " + e.getFile() + " (permission denied). The data folder must belong"
                    + " to the user the server runs as: run mailstack as that user (sudo -u mailstack ...), and if"
                    + " root wrote there, give it back (chown -R mailstack " + dataDir.toAbsolutePath() + ")");
        }
        try {
            FileLock lock = file.tryLock();
            if (lock != null && HELD.add(path)) {
                return Optional.of(new DataFolderLock(path, file, lock));
            }
        } catch (OverlappingFileLockException e) {
            // held in this JVM already
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
        file.close();
        return Optional.empty();
    }

    /**
     * Whether another process (or this JVM) holds the folder, looked at without taking it and
     * without creating anything: root must not leave a root-owned lock file in a server's folder.
     * False when the lock file is missing or cannot be read.
     */
    static synchronized boolean heldByAnother(Path dataDir) {
        Path path;
        try {
            path = dataDir.resolve("control").toRealPath().resolve("owner.lock");
        } catch (IOException e) {
            return false;
        }
        if (HELD.contains(path)) {
            return true; // not even a second channel: closing it would drop this JVM's lock
        }
        try (FileChannel file = FileChannel.open(path, StandardOpenOption.READ)) {
            FileLock probe = file.tryLock(0, Long.MAX_VALUE, true);
            if (probe == null) {
                return true;
            }
            probe.release();
            return false;
        } catch (IOException | OverlappingFileLockException e) {
            return false;
        }
    }

    /**
     * Makes {@code dir} rwx------ so that only its owner (the server's user) and root reach what is
     * inside; false where that cannot be done (not the owner, or not a POSIX file system).
     */
    static boolean makePrivate(Path dir) throws IOException {
        Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rwx------");
        try {
            if (!Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(owner)) {
                Files.setPosixFilePermissions(dir, owner);
            }
            return true;
        } catch (UnsupportedOperationException | FileSystemException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        if (!file.isOpen()) {
            return;
        }
        try {
            lock.release();
        } finally {
            file.close();
            HELD.remove(path);
        }
    }
}

package dev.mailstack.store;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * One file holding a data folder: the database copied consistently while the server runs, then
 * the message files. Content files never change and are only deleted when no row points at them,
 * so every file the database copy refers to is there when it is read afterwards.
 */
public final class Backup {
    static final String DATABASE_ENTRY = "database.zip";
    static final String DATABASE_FILE = "mailstack.mv.db";
    /**
     * Folders of secrets, restored readable by their owner only: the DKIM signing keys (mta's dkim
     * keygen writes them) and the key of the sender rewriting scheme (bounces to forwarded mail
     * still find their way back after a restore).
     */
    static final List<String> SECRETS = List.of("dkim", "srs");
    /**
     * Where the database copy is made, inside the data folder: beside a running server the copy is
     * written by the server's process (H2's auto-server runs the BACKUP statement there), and under
     * the shipped systemd unit the data folder is the only place it may write; its /tmp is its own.
     * Nothing else walks this folder: the content sweeps look in contents/ only, and a backup takes
     * contents/ and the secrets.
     */
    static final String DATABASE_COPY_FOLDER = "backup-tmp";
    /**
     * Where restore unpacks, inside the data folder rather than beside it: the same file system, so
     * moving into place is a rename even when the data folder is a mount point, and a folder the
     * server's user may write (under systemd /var/lib, the data folder's parent, is root's).
     */
    static final String RESTORE_FOLDER = "restore-tmp";
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FOLDER =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    private Backup() {
    }

    /**
     * Writes the backup to a temporary file beside {@code target}, readable by its owner only (it
     * holds every password hash, the signing keys and all mail), and renames it onto {@code target}
     * once complete: a backup that fails half way leaves an earlier file of that name as it was.
     */
    public static void write(MailboxStore store, Path dataDir, Path target) throws IOException {
        Path file = target.toAbsolutePath();
        Path partial = Files.createTempFile(file.getParent(), "." + file.getFileName() + ".", ".part", OWNER_ONLY_FILE);
        try {
            try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.WRITE);
                 ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16))) {
                writeEntries(store, dataDir, zip);
                zip.finish();
                zip.flush();
                channel.force(true); // on disk before it takes the name of a backup
            }
            Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(partial, e);
            throw e;
        }
    }

    private static void writeEntries(MailboxStore store, Path dataDir, ZipOutputStream zip) throws IOException {
        Path dbCopy = Files.createTempFile(databaseCopyFolder(dataDir), "database-", ".zip");
        Files.delete(dbCopy); // only the name: the database writes the file, perhaps as another user
        try {
            try (Connection c = store.db().connect(); Statement st = c.createStatement()) {
                st.execute(store.db().dialect().onlineBackup(dbCopy));
            } catch (SQLException e) {
                throw store.db().failure(e, "back up the database");
            }
            add(zip, DATABASE_ENTRY, dbCopy);
        } finally {
            Files.deleteIfExists(dbCopy);
        }
        Path contents = dataDir.resolve("contents");
        try (Stream<Path> files = Files.walk(contents)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)
                    .filter(f -> !f.getParent().getFileName().toString().equals("spool"))::iterator) {
                addUnlessGone(zip, "contents/" + contents.relativize(f).toString().replace('\\', '/'), f);
            }
        }
        for (String folder : SECRETS) {
            Path keys = dataDir.resolve(folder);
            if (Files.isDirectory(keys)) {
                try (Stream<Path> files = Files.walk(keys)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                        add(zip, folder + "/" + keys.relativize(f).toString().replace('\\', '/'), f);
                    }
                }
            }
        }
    }

    /**
     * {@code data/backup-tmp}, made if missing, private, and owned as the data folder is: when root
     * runs the backup beside a server that runs as its own user, that user writes the copy here.
     */
    static Path databaseCopyFolder(Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath().resolve(DATABASE_COPY_FOLDER);
        try {
            Files.createDirectory(dir, OWNER_ONLY_FOLDER);
        } catch (FileAlreadyExistsException e) {
            // an earlier backup's
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir); // not a POSIX file system: no permissions to set
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(dir + " must be a folder (not a link): remove it, mailstack backup makes it again");
        }
        UserPrincipal owner = Files.getOwner(dataDir);
        if (!Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).equals(owner)) {
            // lchown, never through a link: the folder's owner could swap the new folder for a link to
            // a root file between the look above and this change, and root would give that file away
            var view = Files.getFileAttributeView(dir, java.nio.file.attribute.PosixFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (view != null) { // none: not a POSIX file system, no owners to match
                view.setOwner(owner);
            }
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(dir + " must be a folder (not a link): remove it, mailstack backup makes it again");
            }
        }
        return dir;
    }

    /**
     * Removes the database copies in {@link #DATABASE_COPY_FOLDER} last written before {@code cutoff}:
     * a backup deletes its copy when it ends, however it ends, so one still there was left by a
     * backup that was killed (each as large as the database). Returns how many went.
     */
    public static int removeAbandonedCopies(Path dataDir, Instant cutoff) throws IOException {
        Path dir = dataDir.toAbsolutePath().resolve(DATABASE_COPY_FOLDER);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        int removed = 0;
        try (DirectoryStream<Path> copies = Files.newDirectoryStream(dir, "database-*.zip")) {
            for (Path copy : copies) {
                try {
                    if (Files.isRegularFile(copy, LinkOption.NOFOLLOW_LINKS)
                            && Files.getLastModifiedTime(copy, LinkOption.NOFOLLOW_LINKS).toInstant().isBefore(cutoff)
                            && Files.deleteIfExists(copy)) {
                        removed++;
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // its backup ended meanwhile and removed it
                }
            }
        }
        return removed;
    }

    /**
     * A content file the running server's sweep removed between the listing and now is skipped, not
     * a failed backup: the sweep takes only files unused at two looks a sweep interval apart, so the
     * database copy, taken before the listing, names it only when the backup has run longer than
     * that interval (the IMAP idle timeout, 30 minutes by default).
     */
    private static void addUnlessGone(ZipOutputStream zip, String name, Path file) throws IOException {
        InputStream in;
        try {
            in = Files.newInputStream(file);
        } catch (java.nio.file.NoSuchFileException gone) {
            return;
        }
        try (in) {
            zip.putNextEntry(new ZipEntry(name));
            in.transferTo(zip);
            zip.closeEntry();
        }
    }

    private static void add(ZipOutputStream zip, String name, Path file) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        Files.copy(file, zip);
        zip.closeEntry();
    }

    /**
     * Unpacks a backup into {@code dataDir}, which must not hold a store yet, all or nothing: into a
     * temporary folder inside it first, moved into place only when the archive is complete, every
     * entry's checksum is right, the database is there and nothing else is in it. A failed restore
     * leaves the folder as it found it (but for its being made), so a second attempt may follow.
     * The caller owns the data folder meanwhile (the server's DataFolderLock): no server opens a
     * database being written, and no other restore shares the temporary folder.
     */
    public static void restore(Path backup, Path dataDir) throws IOException {
        for (String part : storeParts()) {
            if (Files.exists(dataDir.resolve(part), LinkOption.NOFOLLOW_LINKS)) {
                throw new StoreException(StoreFailure.ALREADY_EXISTS, dataDir + " already holds a store (" + part
                        + " is there): restore into an empty folder");
            }
        }
        Files.createDirectories(dataDir);
        Path unpacked = dataDir.resolve(RESTORE_FOLDER);
        deleteTree(unpacked); // left by a restore that was killed
        Files.createDirectory(unpacked, OWNER_ONLY_FOLDER);
        try {
            unpack(backup, unpacked);
            // on disk before anything takes its name in the data folder: a power cut after "restored"
            // must not leave an empty or short file there under a good name
            syncTree(unpacked);
            moveInto(unpacked, dataDir);
            sync(dataDir); // the renames themselves
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(unpacked);
            } catch (IOException cleaning) {
                e.addSuppressed(cleaning);
            }
            throw e;
        }
        deleteTree(unpacked);
    }

    /** What a restore puts in the data folder, the database last: while it is missing, no store is there. */
    private static List<String> storeParts() {
        List<String> parts = new ArrayList<>(List.of("contents"));
        parts.addAll(SECRETS);
        parts.add(DATABASE_FILE);
        return parts;
    }

    private static void unpack(Path backup, Path into) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(backup.toFile()); // reads the central directory: a cut archive fails here
        } catch (ZipException e) {
            throw new IOException(backup + " is not a complete zip archive (" + e.getMessage() + ")", e);
        }
        boolean database = false;
        try (zip) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                String name = e.getName();
                try (CheckedInputStream in = new CheckedInputStream(zip.getInputStream(e), new CRC32())) {
                    if (name.equals(DATABASE_ENTRY)) {
                        unpackDatabase(backup, in, into);
                        database = true;
                    } else if (e.isDirectory() && isPartOfStore(name)) {
                        Files.createDirectories(into.resolve(name));
                    } else if (name.startsWith("contents/") && isPartOfStore(name)) {
                        Path target = into.resolve(name);
                        Files.createDirectories(target.getParent());
                        Files.copy(in, target);
                    } else if (isSecret(name) && isPartOfStore(name)) {
                        Path target = into.resolve(name);
                        Files.createDirectories(target.getParent());
                        try (OutputStream out = Files.newOutputStream(Files.createFile(target, OWNER_ONLY_FILE))) {
                            in.transferTo(out); // readable by the owner from the first byte
                        }
                    } else {
                        throw new StoreException(StoreFailure.INVALID_NAME, backup + " holds " + name
                                + ", which is no part of a mailstack backup: not restored");
                    }
                    in.transferTo(OutputStream.nullOutputStream());
                    if (in.getChecksum().getValue() != e.getCrc()) {
                        throw new ZipException(backup + " is damaged: " + name + " does not match its checksum");
                    }
                }
            }
        }
        if (!database) {
            throw new StoreException(StoreFailure.NOT_FOUND, backup + " holds no " + DATABASE_ENTRY
                    + ": not a mailstack backup, nothing restored");
        }
    }

    /** A relative name under contents/, dkim/ or srs/, with no empty, "." or ".." part to lead elsewhere. */
    private static boolean isPartOfStore(String name) {
        String[] parts = name.split("/", -1);
        boolean folder = name.endsWith("/");
        int last = folder ? parts.length - 1 : parts.length; // a folder's trailing slash
        if (last < (folder ? 1 : 2) || !(parts[0].equals("contents") || SECRETS.contains(parts[0]))) {
            return false;
        }
        for (int i = 0; i < last; i++) {
            if (parts[i].isEmpty() || parts[i].equals(".") || parts[i].equals("..") || parts[i].contains("\\")) {
                return false;
            }
        }
        return true;
    }

    private static boolean isSecret(String entry) {
        return SECRETS.stream().anyMatch(folder -> entry.startsWith(folder + "/"));
    }

    private static void unpackDatabase(Path backup, InputStream in, Path into) throws IOException {
        ZipInputStream inner = new ZipInputStream(in);
        boolean found = false;
        for (ZipEntry e; (e = inner.getNextEntry()) != null; ) {
            String name = Path.of(e.getName()).getFileName().toString();
            if (name.endsWith(".mv.db") && !found) {
                try (OutputStream out = Files.newOutputStream(into.resolve(DATABASE_FILE), StandardOpenOption.CREATE_NEW)) {
                    inner.transferTo(out);
                }
                found = true;
            }
        }
        if (!found) {
            throw new StoreException(StoreFailure.NOT_FOUND, backup + ": its " + DATABASE_ENTRY
                    + " holds no database file (*.mv.db), nothing restored");
        }
    }

    /**
     * Renames what was unpacked into the data folder, the database last. Should a rename fail, the
     * ones done are renamed back, so that the data folder holds no part of a store.
     */
    private static void moveInto(Path unpacked, Path dataDir) throws IOException {
        List<String> moved = new ArrayList<>();
        try {
            for (String part : storeParts()) {
                if (Files.exists(unpacked.resolve(part), LinkOption.NOFOLLOW_LINKS)) {
                    Files.move(unpacked.resolve(part), dataDir.resolve(part), StandardCopyOption.ATOMIC_MOVE);
                    moved.add(part);
                }
            }
        } catch (IOException | RuntimeException e) {
            for (String part : moved) {
                try {
                    Files.move(dataDir.resolve(part), unpacked.resolve(part), StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException back) {
                    e.addSuppressed(back);
                }
            }
            throw e;
        }
    }

    /** Every file and folder below {@code root}, and it, synced to the device (files before their folders). */
    private static void syncTree(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = new ArrayList<>(walk.toList());
        }
        Collections.reverse(all); // children before the folder that names them
        for (Path p : all) {
            sync(p);
        }
    }

    private static void sync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static void deleteQuietly(Path file, Exception cause) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}

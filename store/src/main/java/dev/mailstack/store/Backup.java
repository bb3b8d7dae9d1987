package dev.mailstack.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * One file holding a data folder: the database copied consistently while the server runs, then
 * the message files. Content files never change and are only deleted when no row points at them,
 * so every file the database copy refers to is there when it is read afterwards.
 */
public final class Backup {
    static final String DATABASE_ENTRY = "database.zip";
    /**
     * Folders of secrets, restored readable by their owner only: the DKIM signing keys (mta's dkim
     * keygen writes them) and the key of the sender rewriting scheme (bounces to forwarded mail
     * still find their way back after a restore).
     */
    static final List<String> SECRETS = List.of("dkim", "srs");

    private Backup() {
    }

    public static void write(MailboxStore store, Path dataDir, Path target) throws IOException {
        Path dbCopy = Files.createTempFile(target.toAbsolutePath().getParent(), "mailstack-db", ".zip");
        Files.delete(dbCopy);
        try {
            try (Connection c = store.db().connect(); Statement st = c.createStatement()) {
                st.execute(store.db().dialect().onlineBackup(dbCopy));
            } catch (SQLException e) {
                throw store.db().failure(e, "back up the database");
            }
            try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(target))) {
                add(zip, DATABASE_ENTRY, dbCopy);
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
        } finally {
            Files.deleteIfExists(dbCopy);
        }
    }

    private static boolean isSecret(String entry) {
        return SECRETS.stream().anyMatch(folder -> entry.startsWith(folder + "/"));
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

    /** Unpacks a backup into {@code dataDir}, which must not hold a store yet. */
    public static void restore(Path backup, Path dataDir) throws IOException {
        if (Files.exists(dataDir.resolve("mailstack.mv.db"))) {
            throw new StoreException(StoreFailure.ALREADY_EXISTS,
                    dataDir + " already holds a store: restore into an empty folder");
        }
        Files.createDirectories(dataDir);
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(backup))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().equals(DATABASE_ENTRY)) {
                    unpackDatabase(zip, dataDir);
                } else if (e.getName().startsWith("contents/") && !e.getName().contains("..")) {
                    Path target = dataDir.resolve(e.getName());
                    Files.createDirectories(target.getParent());
                    Files.copy(zip, target);
                } else if (isSecret(e.getName()) && !e.getName().contains("..")) {
                    Path target = dataDir.resolve(e.getName());
                    Files.createDirectories(target.getParent());
                    try (OutputStream out = Files.newOutputStream(Files.createFile(target,
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))))) {
                        zip.transferTo(out); // readable by the owner from the first byte
                    }
                }
            }
        }
    }

    private static void unpackDatabase(InputStream in, Path dataDir) throws IOException {
        ZipInputStream inner = new ZipInputStream(in);
        for (ZipEntry e; (e = inner.getNextEntry()) != null; ) {
            String name = Path.of(e.getName()).getFileName().toString();
            if (name.endsWith(".mv.db")) {
                try (OutputStream out = Files.newOutputStream(dataDir.resolve("mailstack.mv.db"))) {
                    inner.transferTo(out);
                }
            }
        }
    }
}

package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mailstack backup} and {@code mailstack restore} as an administrator runs them. */
class BackupCommandTest {
    @TempDir
    Path dir;

    private static CommandRun capture(String... args) {
        return CommandRun.of(args);
    }

    /** A data folder with one user and one large message whose body does not compress. */
    private String dataWithMail() throws Exception {
        String data = dir.resolve("data").toString();
        assertEquals(0, capture("domain", "add", "example.org", "--data", data).exit());
        Path users = dir.resolve("u.txt");
        Files.writeString(users, "alice@example.org pw\n");
        assertEquals(0, capture("user", "import", users.toString(), "--data", data).exit());
        byte[] noise = new byte[300_000];
        new Random(1).nextBytes(noise);
        String body = java.util.Base64.getMimeEncoder().encodeToString(noise);
        Path mbox = dir.resolve("big.mbox");
        Files.writeString(mbox, "From someone Tue Dec  1 10:00:00 2026\nSubject: big\n\n" + body + "\n");
        assertEquals(0, capture("import", "mbox", mbox.toString(), "--user", "alice@example.org", "--data", data).exit());
        return data;
    }

    /** A backup of {@link #dataWithMail}, taken by the command. */
    private Path backupOfMail() throws Exception {
        String data = dataWithMail();
        Path backup = dir.resolve("backup.zip");
        assertEquals(0, capture("backup", backup.toString(), "--data", data).exit());
        return backup;
    }

    /** Nothing of a store: what a second restore needs, and what a server must not start on. */
    private static void assertNoStoreIn(Path data) {
        for (String part : new String[] {"mailstack.mv.db", "contents", "dkim", "srs", "restore-tmp"}) {
            assertFalse(Files.exists(data.resolve(part)), part + " left in " + data);
        }
    }

    /**
     * Any zip used to be restored, even one without the database, with "restored": the
     * administrator learnt that the archive was no backup only when the server started empty.
     */
    @Test
    void restoreRefusesAnArchiveWithoutTheDatabase() throws Exception {
        Path zip = dir.resolve("not-a-backup.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("contents/ab/cdef"));
            z.write("hello".getBytes(StandardCharsets.US_ASCII));
            z.closeEntry();
        }
        Path restored = dir.resolve("restored");
        CommandRun r = capture("restore", zip.toString(), "--data", restored.toString());
        assertEquals(1, r.exit(), "a zip with no database.zip is no backup: " + r.out() + r.err());
        assertTrue(r.err().contains(zip + " holds no database.zip"), r.err());
        assertNoStoreIn(restored);
    }

    /**
     * A truncated archive (a backup cut short by a full disk, a copy interrupted) used to be
     * unpacked database first and to fail in the message files, leaving mailstack.mv.db behind: the
     * folder then "held a store" whose messages had no files, and restoring an intact copy was refused.
     */
    @Test
    void aFailedRestoreLeavesNoHalfStoreBehind() throws Exception {
        Path backup = backupOfMail();
        byte[] whole = Files.readAllBytes(backup);
        Path cut = dir.resolve("cut.zip");
        Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 100_000));
        refusedThenIntactRestores(cut, cut + " is not a complete zip archive", backup);
    }

    /** A restore of {@code spoiled} fails with {@code error} and leaves nothing; {@code intact} then restores. */
    private void refusedThenIntactRestores(Path spoiled, String error, Path intact) throws Exception {
        Path restored = dir.resolve("restored");
        CommandRun failed = capture("restore", spoiled.toString(), "--data", restored.toString());
        assertEquals(1, failed.exit(), failed.out() + failed.err());
        assertTrue(failed.err().contains(error), failed.err());
        assertNoStoreIn(restored);
        CommandRun again = capture("restore", intact.toString(), "--data", restored.toString());
        assertEquals(0, again.exit(), "the intact backup restores after a failed attempt: " + again.err());
    }

    /**
     * A backup whose zip is whole but one of whose message files was damaged (a flipped bit on the
     * backup disk) is refused, since the entry does not match its checksum, and leaves nothing.
     */
    @Test
    void aDamagedMessageFileIsRefusedAndLeavesNoHalfStoreBehind() throws Exception {
        Path backup = backupOfMail();
        byte[] bytes = Files.readAllBytes(backup);
        String name;
        long compressed;
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(backup.toFile())) {
            java.util.zip.ZipEntry file = java.util.Collections.list(zip.entries()).stream()
                    .filter(e -> e.getName().startsWith("contents/") && !e.isDirectory()).findFirst().orElseThrow();
            name = file.getName();
            compressed = file.getCompressedSize();
        }
        // the entry's local header (30 octets, its name, its extra field), then its data: one octet in the middle changed
        int header = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf(name) - 30;
        int nameLength = bytes[header + 26] & 0xff | (bytes[header + 27] & 0xff) << 8;
        int extraLength = bytes[header + 28] & 0xff | (bytes[header + 29] & 0xff) << 8;
        bytes[(int) (header + 30 + nameLength + extraLength + compressed / 2)] ^= 0x10;
        Path damaged = dir.resolve("damaged.zip");
        Files.write(damaged, bytes);
        refusedThenIntactRestores(damaged, damaged + " is damaged: " + name, backup);
    }

    /**
     * The backup (every password hash, the DKIM and SRS keys, all mail) used to be created with
     * the umask's mode, 0644 under the usual 022: readable by every local user.
     */
    @Test
    void theBackupFileIsNotReadableByOtherUsers() throws Exception {
        String data = dataWithMail();
        Path backup = dir.resolve("backup.zip");
        assertEquals(0, capture("backup", backup.toString(), "--data", data).exit());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(backup)));
    }

    /** A server started during a restore (systemd restarts one that failed) would open a database being written. */
    @Test
    void restoreRefusesWhileAnotherProcessOwnsTheDataFolder() throws Exception {
        String data = dataWithMail();
        Path backup = dir.resolve("backup.zip");
        assertEquals(0, capture("backup", backup.toString(), "--data", data).exit());
        Path restored = dir.resolve("restored");
        try (DataFolderLock server = DataFolderLock.tryTake(restored).orElseThrow()) {
            CommandRun r = capture("restore", backup.toString(), "--data", restored.toString());
            assertEquals(1, r.exit(), r.out() + r.err());
            assertTrue(r.err().contains("another mailstack process owns " + restored), r.err());
            assertNoStoreIn(restored);
        }
        assertEquals(0, capture("restore", backup.toString(), "--data", restored.toString()).exit(), "once it is free");
    }
}

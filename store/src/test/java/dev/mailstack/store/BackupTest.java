package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupTest {
    @TempDir
    Path dir;

    @Test
    void aBackupTakenWhileOpenRestoresEveryMessage() throws Exception {
        String large = "Subject: large\r\n\r\n" + ("大文件的一行" + "x".repeat(58) + "\r\n").repeat(MessageSpool.IN_MEMORY_MAX / 64);
        Path data = dir.resolve("data");
        Path file = dir.resolve("backup.zip");
        try (StoreFixture f = StoreFixture.create(data)) {
            TestMessages.append(f.session(), f.inbox(), "Subject: kept\r\n\r\n备份\r\n");
            TestMessages.append(f.session(), f.inbox(), large); // a file of its own, not a database row
            java.nio.file.Files.createDirectories(data.resolve("dkim/example.org"));
            java.nio.file.Files.writeString(data.resolve("dkim/example.org/mailstack.pem"), "the signing key");
            java.nio.file.Files.createDirectories(data.resolve("srs"));
            java.nio.file.Files.writeString(data.resolve("srs/secret"), "the srs key");
            Backup.write(f.store(), data, file);
            TestMessages.append(f.session(), f.inbox(), "Subject: after the backup\r\n\r\nx\r\n");
        }
        Path restored = dir.resolve("restored");
        Backup.restore(file, restored);
        Path key = restored.resolve("dkim/example.org/mailstack.pem");
        assertEquals("the signing key", java.nio.file.Files.readString(key), "the DKIM keys go with the mail");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(key)));
        Path srs = restored.resolve("srs/secret");
        assertEquals("the srs key", java.nio.file.Files.readString(srs), "bounces to forwards sent before still verify");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(srs)));
        try (MailboxStore store = MailboxStore.open(restored, null)) {
            Account alice = store.accounts().authenticate("alice@example.org", StoreFixture.PASSWORD).orElseThrow();
            StoreSession s = store.open(alice.id());
            assertEquals(2, s.status(MailboxName.INBOX).messages());
            List<MessageRef> m = s.select(MailboxName.INBOX).messages();
            try (var in = s.openContent(m.get(0))) {
                assertTrue(new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("备份"));
            }
            try (var in = s.openContent(m.get(1))) {
                assertEquals(large, new String(in.readAllBytes(), StandardCharsets.UTF_8), "the large one's file came back");
            }
        }
        assertEquals(StoreFailure.ALREADY_EXISTS, assertThrows(StoreException.class, () -> Backup.restore(file, restored)).failure());
    }

    /**
     * Beside a running server the database copy is written by the server's process (H2's
     * auto-server), which under the shipped systemd unit may write its data folder and nothing
     * else: the copy used to be made beside the target (/srv/backup, say) and failed there.
     */
    @Test
    void theDatabaseCopyIsMadeInsideTheDataFolderAndRemoved() throws Exception {
        Path data = dir.resolve("data");
        Path target = dir.resolve("target");
        Files.createDirectories(target);
        try (StoreFixture f = StoreFixture.create(data)) {
            Backup.write(f.store(), data, target.resolve("backup.zip"));
        }
        Path copies = data.resolve(Backup.DATABASE_COPY_FOLDER);
        assertTrue(Files.isDirectory(copies), "made where the server can write");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copies)));
        try (Stream<Path> left = Files.list(copies)) {
            assertEquals(List.of(), left.toList(), "the copy is removed once in the backup");
        }
        try (Stream<Path> written = Files.list(target)) {
            assertEquals(List.of(target.resolve("backup.zip")), written.toList());
        }
        try (ZipFile zip = new ZipFile(target.resolve("backup.zip").toFile())) {
            assertTrue(zip.stream().noneMatch(e -> e.getName().contains(Backup.DATABASE_COPY_FOLDER)), "not backed up itself");
        }
    }

    /** The backup used to be written straight to its file: one that failed half way replaced a good one. */
    @Test
    void aFailedBackupLeavesTheEarlierFileAsItWas() throws Exception {
        Path data = dir.resolve("data");
        Path file = dir.resolve("backup.zip");
        try (StoreFixture f = StoreFixture.create(data)) {
            TestMessages.append(f.session(), f.inbox(), "Subject: kept\r\n\r\nx\r\n");
            Backup.write(f.store(), data, file);
            byte[] good = Files.readAllBytes(file);
            // a key that cannot be read, even by root: reading /proc/self/mem at offset 0 fails with EIO
            Files.createDirectories(data.resolve("srs"));
            Files.createSymbolicLink(data.resolve("srs/secret"), Path.of("/proc/self/mem"));
            assertThrows(IOException.class, () -> Backup.write(f.store(), data, file));
            assertArrayEquals(good, Files.readAllBytes(file));
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of("backup.zip", "data"), left.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no partial file left beside it");
        }
        try (Stream<Path> left = Files.list(data.resolve(Backup.DATABASE_COPY_FOLDER))) {
            assertEquals(List.of(), left.toList(), "nor a database copy");
        }
    }

    /** Entries of an unknown kind used to be skipped without a word: a zip of something else restored "fine". */
    @Test
    void restoreRefusesAnEntryThatIsNoPartOfABackup() throws Exception {
        Path data = dir.resolve("data");
        Path file = dir.resolve("backup.zip");
        try (StoreFixture f = StoreFixture.create(data)) {
            TestMessages.append(f.session(), f.inbox(), "Subject: kept\r\n\r\nx\r\n");
            Backup.write(f.store(), data, file);
        }
        Path padded = dir.resolve("padded.zip");
        try (ZipFile in = new ZipFile(file.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(padded))) {
            for (ZipEntry e : java.util.Collections.list(in.entries())) {
                out.putNextEntry(new ZipEntry(e.getName()));
                in.getInputStream(e).transferTo(out);
            }
            out.putNextEntry(new ZipEntry("notes.txt"));
            out.write("not mail".getBytes(StandardCharsets.US_ASCII));
        }
        Path restored = dir.resolve("restored");
        StoreException refused = assertThrows(StoreException.class, () -> Backup.restore(padded, restored));
        assertEquals(StoreFailure.INVALID_NAME, refused.failure());
        assertTrue(refused.getMessage().contains("notes.txt"), refused.getMessage());
        try (Stream<Path> left = Files.list(restored)) {
            assertEquals(List.of(), left.toList(), "nothing restored, no temporary folder left");
        }
        Backup.restore(file, restored);
        assertTrue(Files.exists(restored.resolve(Backup.DATABASE_FILE)));
    }
}

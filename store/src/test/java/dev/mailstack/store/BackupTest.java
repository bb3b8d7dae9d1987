package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupTest {
    @TempDir
    Path dir;

    @Test
    void aBackupTakenWhileOpenRestoresEveryMessage() throws Exception {
        Path data = dir.resolve("data");
        Path file = dir.resolve("backup.zip");
        try (StoreFixture f = StoreFixture.create(data)) {
            TestMessages.append(f.session(), f.inbox(), "Subject: kept\r\n\r\n备份\r\n");
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
            assertEquals(1, s.status(MailboxName.INBOX).messages());
            MessageRef m = s.select(MailboxName.INBOX).messages().get(0);
            try (var in = s.openContent(m)) {
                assertTrue(new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("备份"));
            }
        }
        assertEquals(StoreFailure.ALREADY_EXISTS, assertThrows(StoreException.class, () -> Backup.restore(file, restored)).failure());
    }
}

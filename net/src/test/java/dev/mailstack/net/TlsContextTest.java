package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsContextTest {
    @TempDir
    Path dir;

    @Test
    void aKeyFromAnotherPairIsRefusedNamingBothFiles() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        copy("other-privkey.pem", files[1]);
        // Caught when loading, not at the first client's handshake
        IOException e = assertThrows(IOException.class, () -> TlsContext.fromPem(files[0], files[1]));
        assertEquals(files[1] + " does not match the certificate in " + files[0], e.getMessage());
    }

    @Test
    void aKeyOfTheSameAlgorithmThatIsNotTheCertificatesIsRefused() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        copy("stray-ec-privkey.pem", files[1]); // EC P-256 like the certificate's, but another key
        IOException e = assertThrows(IOException.class, () -> TlsContext.fromPem(files[0], files[1]));
        assertEquals(files[1] + " does not match the certificate in " + files[0], e.getMessage());
    }

    @Test
    void aHalfWrittenChainIsRefusedNamingTheFile() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        byte[] chain = Files.readAllBytes(files[0]);
        Files.write(files[0], java.util.Arrays.copyOf(chain, chain.length / 2));
        IOException e = assertThrows(IOException.class, () -> TlsContext.fromPem(files[0], files[1]));
        assertTrue(e.getMessage().startsWith("cannot use " + files[0] + ": "), e.getMessage());
    }

    @Test
    void aFailedReloadKeepsTheContextInUse() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        TlsContext tls = TlsContext.fromPem(files[0], files[1]);
        var before = tls.sslContext();
        Files.writeString(files[1], "-----BEGIN PRIVATE KEY-----\nMIIE");
        assertThrows(IOException.class, tls::reload);
        assertSame(before, tls.sslContext());
    }

    @Test
    void filesNamesTheDefaultPairAndEverySniFolderAsItIsNow() throws Exception {
        Path[] files = TestTls.pemFiles(dir);
        Path live = Files.createDirectories(dir.resolve("live"));
        TlsContext tls = TlsContext.fromPem(files[0], files[1], live);
        assertEquals(List.of(files[0], files[1]), tls.files());
        Path other = Files.createDirectories(live.resolve("mail.other.example"));
        // Named before its files exist, so their arrival is a change to watch for
        assertEquals(List.of(files[0], files[1], other.resolve("fullchain.pem"), other.resolve("privkey.pem")),
                tls.files());
    }

    @Test
    void aCertificatesFolderWithoutACompletePairIsRefusedNamingTheFolder() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live/mail.example.org"));
        Files.writeString(live.resolve("fullchain.pem"), ""); // no privkey.pem beside it
        IOException e = assertThrows(IOException.class, () -> TlsContext.fromFolder(dir.resolve("live")));
        assertEquals(dir.resolve("live") + " has no subfolder holding both fullchain.pem and privkey.pem", e.getMessage());
    }

    @Test
    void aCertificatesFolderAloneReadsOnlyItsOwnFiles() throws Exception {
        Path live = dir.resolve("live");
        Path folder = TestTls.hostFolder(live, "mail.other.example", "other-");
        TlsContext tls = TlsContext.fromFolder(live);
        assertEquals(List.of(folder.resolve("fullchain.pem"), folder.resolve("privkey.pem")), tls.files());
    }

    private static void copy(String resource, Path to) throws IOException {
        try (InputStream in = TestTls.class.getResourceAsStream("/tls/" + resource)) {
            Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
    }
}

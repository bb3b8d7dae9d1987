package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** postgrey's whitelist_recipients format: user@domain, domain, user@ and /regex/. */
class RecipientWhitelistTest {
    @TempDir
    Path dir;

    @Test
    void everyLineFormMatchesWhatItNamesAndCommentsAreSkipped() throws Exception {
        RecipientWhitelist list = RecipientWhitelist.read(Files.writeString(dir.resolve("whitelist_recipients"), """
                # RFC 2142 role addresses in every domain
                abuse@
                Sales@Example.org
                lists.example.net

                /^signup-[a-z]+@example\\.com$/
                """));
        assertEquals(Optional.of("abuse@"), list.find("ABUSE@anywhere.test"));
        assertEquals(Optional.of("Sales@Example.org"), list.find("sales@example.org"));
        assertEquals(Optional.empty(), list.find("sales@other.example.org"));
        assertEquals(Optional.of("lists.example.net"), list.find("anyone@lists.example.net"));
        assertEquals(Optional.of("lists.example.net"), list.find("anyone@eu.lists.example.net"), "the domains under it too");
        assertEquals(Optional.empty(), list.find("anyone@example.net"));
        assertEquals(Optional.of("/^signup-[a-z]+@example\\.com$/"), list.find("Signup-News@example.com"));
        assertEquals(Optional.empty(), list.find("alice@example.org"));
    }

    /** As postgrey (^user(?:\+[^@]+)?@domain$): user@domain and user@ take the user's +tag addresses too. */
    @Test
    void anAddressOrLocalPartTakesItsPlusTags() throws Exception {
        RecipientWhitelist list = RecipientWhitelist.read(Files.writeString(dir.resolve("whitelist_recipients"),
                "\uFEFFabuse@   # a comment after the entry, as postgrey reads it\nalice@example.org\n/^news#[0-9]+@/\n"));
        assertEquals(Optional.of("/^news#[0-9]+@/"), list.find("news#42@example.com"), "a '#' inside an expression is no comment");
        assertEquals(Optional.of("alice@example.org"), list.find("alice+shop@example.org"));
        assertEquals(Optional.of("abuse@"), list.find("abuse+x@anywhere.test"), "the byte order mark is no part of the entry");
        assertEquals(Optional.empty(), list.find("alice+shop@example.net"));
        assertEquals(Optional.empty(), list.find("alicex@example.org"));
        assertEquals(Optional.empty(), list.find("+alice@example.org"), "no local part before the tag");
    }

    @Test
    void aBadLineIsAnErrorNamingFileAndLine() throws Exception {
        Path file = dir.resolve("whitelist_recipients");
        for (String[] bad : new String[][]{
                {"abuse@\n# fine so far\n@example.org\n", "3: @example.org: not an address"},
                {"alice@example org\n", "1: alice@example org: not an address"},
                {"/(unclosed/\n", "1: /(unclosed/: not a regular expression"},
                {"alice@bad_domain!\n", "1: alice@bad_domain!: the part after @ is not a domain"},
                {"example..org\n", "1: example..org: not a domain"},
                {"// # matches everything\n", "1: //: an empty expression matches everything"}}) {
            Files.writeString(file, bad[0]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RecipientWhitelist.read(file));
            assertTrue(e.getMessage().startsWith(file + ":" + bad[1]), e.getMessage());
        }
    }
    /** The wrong file named by mistake (a log, /dev/zero) is refused after a bounded read, not read whole. */
    @Test
    void aFileFarLargerThanAnyListIsRefusedUnread() throws Exception {
        Path file = dir.resolve("huge");
        try (var out = Files.newOutputStream(file)) {
            byte[] line = "abuse@\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < (WhitelistFile.MAX_FILE_BYTES / line.length) + 1; i++) {
                out.write(line);
            }
        }
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> RecipientWhitelist.read(file));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("not a whitelist file?"), e.getMessage());
    }
}

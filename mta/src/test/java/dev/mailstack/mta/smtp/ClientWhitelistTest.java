package dev.mailstack.mta.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** postgrey's whitelist_clients format: names, /regex/, addresses, networks and address prefixes. */
class ClientWhitelistTest {
    @TempDir
    Path dir;

    private ClientWhitelist read(String text) throws Exception {
        return ClientWhitelist.read(Files.writeString(dir.resolve("whitelist_clients"), text));
    }

    @Test
    void everyLineFormMatchesWhatItNamesAndCommentsAreSkipped() throws Exception {
        ClientWhitelist list = read("""
                # large senders that retry from pools
                  bigmail.test
                /^mta[0-9]+\\.outbound\\.example$/

                192.0.2.7
                198.51.100.0/24
                2001:db8:1::/48
                203.0.113
                """);
        assertTrue(list.hasNames());
        assertEquals(Optional.of("bigmail.test"), list.byName("bigmail.test"));
        assertEquals(Optional.of("bigmail.test"), list.byName("Out-17.Pool.BigMail.test."), "a name under it, any case");
        assertEquals(Optional.empty(), list.byName("notbigmail.test"), "a suffix of labels, not of characters");
        assertEquals(Optional.of("/^mta[0-9]+\\.outbound\\.example$/"), list.byName("MTA42.outbound.example"));
        assertEquals(Optional.empty(), list.byName("mta42.outbound.example.evil.test"));
        assertEquals(Optional.of("192.0.2.7"), list.byAddress(InetAddress.getByName("192.0.2.7")));
        assertEquals(Optional.empty(), list.byAddress(InetAddress.getByName("192.0.2.8")));
        assertEquals(Optional.of("198.51.100.0/24"), list.byAddress(InetAddress.getByName("198.51.100.250")));
        assertEquals(Optional.of("2001:db8:1::/48"), list.byAddress(InetAddress.getByName("2001:db8:1:ff::25")));
        assertEquals(Optional.empty(), list.byAddress(InetAddress.getByName("2001:db8:2::25")));
        assertEquals(Optional.of("203.0.113"), list.byAddress(InetAddress.getByName("203.0.113.99")), "postgrey's prefix: a /24");
        assertEquals(Optional.empty(), list.byAddress(InetAddress.getByName("203.0.114.1")));
    }

    @Test
    void aFileOfAddressesNeedsNoNames() throws Exception {
        ClientWhitelist list = read("# only addresses\n192.0.2.1\n::1\n");
        assertFalse(list.hasNames());
        assertFalse(list.isEmpty());
        assertTrue(read("# nothing yet\n\n").isEmpty());
    }

    @Test
    void aBadLineIsAnErrorNamingFileAndLine() throws Exception {
        Path file = dir.resolve("whitelist_clients");
        for (String[] bad : new String[][]{
                {"ok.test\n\n/mta[0-9+/\n", "3: /mta[0-9+/: not a regular expression"},
                {"# c\n999.0.0.1\n", "2: 999.0.0.1: not an address or network"},
                {"192.0.2.0/33\n", "1: 192.0.2.0/33: not an address or network"},
                {"mail example.test\n", "1: mail example.test: not a host name, address, network or /regex/"},
                {"*.example.test\n", "1: *.example.test: not a host name"},
                {"ok.test\ncom\n", "2: com: a host name or domain needs a dot"}}) {
            Files.writeString(file, bad[0]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClientWhitelist.read(file));
            assertTrue(e.getMessage().startsWith(file + ":" + bad[1]), e.getMessage());
        }
    }

    /** What packaging/install.sh installs must load: a starter list the server refuses would stop it. */
    @Test
    void theStarterListShippedInPackagingReads() throws Exception {
        ClientWhitelist starter = ClientWhitelist.read(Path.of("..", "packaging", "whitelist_clients"));
        assertEquals(Optional.of("google.com"), starter.byName("mail-wm1-f42.google.com"));
        assertEquals(Optional.of("outlook.com"), starter.byName("mail-db5eur03on2101.outbound.protection.outlook.com"));
        assertEquals(Optional.empty(), starter.byName("dsl-42.dynamic.isp.example"));
    }
}

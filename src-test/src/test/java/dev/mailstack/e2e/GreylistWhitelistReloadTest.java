package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.server.ConfigKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * postgrey's whitelist files in a running server: a SIGHUP reads them again, and a file with an
 * error is not applied, so the lists in use stay.
 */
class GreylistWhitelistReloadTest {
    @TempDir
    Path dir;

    private static void rcpt(RunningServer mx, String to, String reply) throws Exception {
        try (LineClient c = new LineClient(mx.port("smtp"))) {
            c.expect("220 .*");
            c.send("EHLO mail.remote.test").expectEventually("250 HELP");
            c.send("MAIL FROM:<bob@remote.test>").expect("250 .*");
            c.send("RCPT TO:<" + to + ">").expect(reply);
            c.send("QUIT").expect("221 .*");
        }
    }

    @Test
    void aSighupReplacesTheListsAndAFileWithAnErrorKeepsThoseInUse() throws Exception {
        Path clients = Files.writeString(dir.resolve("whitelist_clients"), "# not us yet\n192.0.2.1\n");
        Map<ConfigKey, String> config = Map.of(ConfigKey.WARM_UP, "false", ConfigKey.GREYLIST, "true",
                // loopback is the test's client: neither skipped nor checked against DNS it cannot reach
                ConfigKey.SENDER_CHECKS, "false", ConfigKey.SENDER_CHECKS_SKIP, "192.0.2.99/32",
                ConfigKey.GREYLIST_WHITELIST_CLIENTS, clients.toString());
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", config);
             LogCapture log = LogCapture.of(dev.mailstack.server.Server.class.getName())) {
            mx.addUser("alice", "secret");
            mx.addUser("carol", "secret");
            rcpt(mx, "alice@example.org", "450 4\\.7\\.1 .*greylisted.*");

            Files.writeString(clients, "# this machine's relay, say\n127.0.0.0/8\n");
            mx.reload(Map.of());
            rcpt(mx, "carol@example.org", "250 .*");

            Files.writeString(clients, "127.0.0.0/8\n# a typo:\nmail example.test\n");
            mx.reload(Map.of());
            assertTrue(log.lines().stream().anyMatch(l -> l.startsWith("reload: configuration not applied")
                    && l.contains("smtp.greylist_whitelist_clients: " + clients + ":3: mail example.test: not a host name")),
                    "" + log.lines());
            rcpt(mx, "alice@example.org", "250 .*"); // the list read before stays

            Files.writeString(clients, "192.0.2.1\n");
            mx.reload(Map.of());
            rcpt(mx, "carol@example.org", "450 4\\.7\\.1 .*"); // whitelisted, her triplet was never recorded: new now
        }
    }
}

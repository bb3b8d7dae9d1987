package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import dev.mailstack.server.ConfigKey;
import dev.mailstack.store.AccountId;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ManageSieve as the server wires it: its own listener, the shared store, the login metrics. */
class ManageSieveTest {
    @TempDir
    Path dir;

    @Test
    void aUserUploadsAndActivatesAScriptThroughTheRunningServer() throws Exception {
        try (RunningServer mx = RunningServer.start(dir.resolve("data"), "example.org", Map.of(ConfigKey.HTTP_PORT, "0",
                ConfigKey.SIEVE_MAX_SCRIPTS, "1"))) {
            mx.addUser("alice", "secret");
            String plain = Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes(StandardCharsets.UTF_8));
            byte[] script = "# 邮件列表\r\nrequire \"fileinto\";\r\n".getBytes(StandardCharsets.UTF_8);
            try (LineClient c = new LineClient(mx.port("managesieve"))) {
                c.expect("\"IMPLEMENTATION\" \"mailstack\"");
                c.expect("\"SASL\" \"PLAIN LOGIN\""); // loopback: auth.plaintext's default allows it
                c.expectEventually("OK");
                c.send("AUTHENTICATE \"PLAIN\" \"" + plain + "\"").expect("OK .*");
                c.sendRaw("PUTSCRIPT \"lists\" {" + script.length + "+}\r\n").sendBytes(script).sendRaw("\r\n");
                c.expect("OK \"Script stored\"");
                c.send("PUTSCRIPT \"second\" \"keep;\"").expect("NO \\(QUOTA/MAXSCRIPTS\\) .*"); // sieve.max_scripts
                c.send("SETACTIVE \"lists\"").expect("OK .*");
                c.send("LOGOUT").expect("OK .*");
            }
            AccountId alice = mx.server.store().accounts().find("alice@example.org").orElseThrow().id();
            assertEquals(Optional.of(new String(script, StandardCharsets.UTF_8)),
                    mx.server.store().sieveScripts().activeSieveScript(alice));
            String metrics = OperationsTest.get(mx.port("http"), "/metrics").body();
            assertTrue(metrics.contains("mailstack_connections_total{endpoint=\"managesieve\"} 1"), metrics);
            assertTrue(metrics.contains("mailstack_auth_total{endpoint=\"managesieve\",result=\"ok\"} 1"), metrics);
        }
    }
}

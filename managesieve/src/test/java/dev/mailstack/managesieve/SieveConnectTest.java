package dev.mailstack.managesieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mailstack.net.AuthThrottle;
import dev.mailstack.net.Endpoint;
import dev.mailstack.net.NetLimits;
import dev.mailstack.net.PlaintextAuth;
import dev.mailstack.net.TcpListener;
import dev.mailstack.net.TestTls;
import dev.mailstack.net.TlsMode;
import dev.mailstack.store.SieveScriptEntry;
import dev.mailstack.store.StoreFixture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real ManageSieve client, Debian's sieve-connect (Perl), against the server: STARTTLS, SASL
 * PLAIN, upload, list, activate, download. Skipped where it is not installed
 * ({@code apt-get install sieve-connect}).
 */
class SieveConnectTest {
    static final Path BINARY = Path.of("/usr/bin/sieve-connect");

    @TempDir
    Path dir;
    StoreFixture store;
    TcpListener listener;

    @BeforeEach
    void start() throws IOException {
        assumeTrue(Files.isExecutable(BINARY), "sieve-connect is not installed");
        store = StoreFixture.create(dir.resolve("data"));
        // NEVER: the client must use STARTTLS, as it would against a real server
        listener = TcpListener.start(new Endpoint("sieve", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                TlsMode.STARTTLS), new ManageSieveProtocol(store.store(),
                ManageSieveSettings.defaults("sieve.example.org").withPlaintextAuth(PlaintextAuth.NEVER), AuthThrottle.defaults()),
                NetLimits.defaults(), TestTls.serverContext(Files.createDirectories(dir.resolve("tls"))));
    }

    @AfterEach
    void stop() {
        if (listener != null) {
            listener.close();
            store.close();
        }
    }

    private String run(String... action) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(BINARY.toString(), "--server", "127.0.0.1", "--port",
                Integer.toString(listener.port()), "--user", "alice@example.org", "--passwordfd", "0", "--notlsverify",
                "--authmech", "PLAIN"));
        command.addAll(List.of(action));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().write((StoreFixture.PASSWORD + "\n").getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "sieve-connect finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", action) + ": " + out);
        return out;
    }

    @Test
    void uploadListActivateAndDownloadWithARealClient() throws Exception {
        String script = "# 把邮件列表放进文件夹\r\nrequire \"fileinto\";\r\nfileinto \"Lists\";\r\n";
        Files.writeString(dir.resolve("lists.sieve"), script, StandardCharsets.UTF_8);
        run("--upload", "--localsieve", "lists.sieve", "--remotesieve", "lists");
        run("--activate", "--remotesieve", "lists");
        assertEquals(List.of(new SieveScriptEntry("lists", true)), store.store().sieveScripts().list(store.user().id()));
        assertEquals(Optional.of(script), store.store().sieveScripts().activeSieveScript(store.user().id()));
        String listing = run("--list");
        assertTrue(listing.contains("lists") && listing.contains("ACTIVE"), listing);
        run("--download", "--remotesieve", "lists", "--localsieve", "back.sieve");
        assertEquals(script, Files.readString(dir.resolve("back.sieve"), StandardCharsets.UTF_8));
        run("--deactivate");
        run("--delete", "--remotesieve", "lists");
        assertEquals(List.of(), store.store().sieveScripts().list(store.user().id()));
    }
}

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SieveScriptsTest {
    private static final SieveLimits LIMITS = SieveLimits.defaults();

    @TempDir
    Path dir;
    StoreFixture f;
    SieveScripts scripts;
    AccountId alice;

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir);
        scripts = f.store().sieveScripts();
        alice = f.user().id();
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void putListGetAndReplace() {
        assertEquals(List.of(), scripts.list(alice));
        String text = "# 过滤器\r\nrequire \"fileinto\";\r\nfileinto \"Junk\";\r\n";
        scripts.put(alice, "规则", text, LIMITS);
        scripts.put(alice, "b", "keep;", LIMITS);
        assertEquals(List.of(new SieveScriptEntry("b", false), new SieveScriptEntry("规则", false)), scripts.list(alice));
        assertEquals(Optional.of(text), scripts.get(alice, "规则"), "octet for octet, CRLF kept");
        scripts.put(alice, "b", "discard;", LIMITS);
        assertEquals(Optional.of("discard;"), scripts.get(alice, "b"), "a put of the same name replaces");
        assertEquals(Optional.empty(), scripts.get(alice, "c"));
    }

    @Test
    void atMostOneScriptIsActiveAndDeliveryReadsIt() {
        scripts.put(alice, "a", "keep;", LIMITS);
        scripts.put(alice, "b", "discard;", LIMITS);
        assertEquals(Optional.empty(), scripts.activeSieveScript(alice));
        scripts.activate(alice, "a");
        scripts.activate(alice, "b");
        assertEquals(List.of(new SieveScriptEntry("a", false), new SieveScriptEntry("b", true)), scripts.list(alice));
        assertEquals(Optional.of("discard;"), scripts.activeSieveScript(alice));
        scripts.put(alice, "b", "stop;", LIMITS);
        assertEquals(Optional.of("stop;"), scripts.activeSieveScript(alice), "replacing the active script changes what runs");
        scripts.deactivate(alice);
        assertEquals(Optional.empty(), scripts.activeSieveScript(alice));
        scripts.deactivate(alice); // none active: nothing to do, no error
        assertEquals(StoreFailure.NOT_FOUND, assertThrows(StoreException.class, () -> scripts.activate(alice, "zz")).failure());
    }

    /** `mailstack user sieve put --activate`: both or neither, so a refused script leaves the old one running. */
    @Test
    void putActiveStoresAndActivatesInOneStep() {
        SieveLimits two = new SieveLimits(2, 100);
        scripts.putActive(alice, "a", "keep;", two);
        scripts.put(alice, "b", "discard;", two);
        assertEquals(Optional.of("keep;"), scripts.activeSieveScript(alice));
        scripts.putActive(alice, "b", "stop;", two);
        assertEquals(List.of(new SieveScriptEntry("a", false), new SieveScriptEntry("b", true)), scripts.list(alice));
        assertEquals(StoreFailure.OVER_QUOTA, assertThrows(StoreException.class,
                () -> scripts.putActive(alice, "c", "discard;", two)).failure());
        assertEquals(Optional.of("stop;"), scripts.activeSieveScript(alice), "the refused one is neither stored nor active");
        assertEquals(2, scripts.list(alice).size());
    }

    @Test
    void theActiveScriptCannotBeDeleted() {
        scripts.put(alice, "a", "keep;", LIMITS);
        scripts.activate(alice, "a");
        StoreException e = assertThrows(StoreException.class, () -> scripts.delete(alice, "a"));
        assertEquals(StoreFailure.NO_PERMISSION, e.failure(), "RFC 5804 §2.10");
        scripts.deactivate(alice);
        scripts.delete(alice, "a");
        assertEquals(List.of(), scripts.list(alice));
        assertEquals(StoreFailure.NOT_FOUND, assertThrows(StoreException.class, () -> scripts.delete(alice, "a")).failure());
    }

    @Test
    void renameKeepsTheActiveMarkAndRefusesATakenName() {
        scripts.put(alice, "a", "keep;", LIMITS);
        scripts.put(alice, "b", "discard;", LIMITS);
        scripts.activate(alice, "a");
        assertEquals(StoreFailure.ALREADY_EXISTS, assertThrows(StoreException.class, () -> scripts.rename(alice, "a", "b")).failure());
        assertEquals(StoreFailure.NOT_FOUND, assertThrows(StoreException.class, () -> scripts.rename(alice, "x", "y")).failure());
        scripts.rename(alice, "a", "c");
        assertEquals(List.of(new SieveScriptEntry("b", false), new SieveScriptEntry("c", true)), scripts.list(alice));
        assertEquals(Optional.of("keep;"), scripts.activeSieveScript(alice));
    }

    @Test
    void limitsOnCountAndSizeAreRefusedClearly() {
        SieveLimits small = new SieveLimits(2, 10);
        scripts.put(alice, "a", "keep;", small);
        scripts.put(alice, "b", "keep;", small);
        StoreException many = assertThrows(StoreException.class, () -> scripts.put(alice, "c", "keep;", small));
        assertEquals(StoreFailure.OVER_QUOTA, many.failure());
        assertEquals("an account keeps at most 2 scripts: delete one first", many.getMessage());
        scripts.put(alice, "b", "discard;", small); // replacing is not one more
        scripts.checkSpace(alice, "a", 10, small);
        assertEquals(StoreFailure.OVER_QUOTA, assertThrows(StoreException.class, () -> scripts.checkSpace(alice, "c", 1, small)).failure());
        // 4 characters, 12 octets in UTF-8: the limit counts octets, as ManageSieve does
        StoreException big = assertThrows(StoreException.class, () -> scripts.put(alice, "a", "中文中文", small));
        assertEquals(StoreFailure.TOO_BIG, big.failure());
        assertEquals("a script is at most 10 octets; this one has 12", big.getMessage());
        assertEquals(StoreFailure.TOO_BIG, assertThrows(StoreException.class, () -> scripts.checkSpace(alice, "a", 11, small)).failure());
        assertThrows(IllegalArgumentException.class, () -> new SieveLimits(0, 10));
        assertThrows(IllegalArgumentException.class, () -> new SieveLimits(1, SieveLimits.MAX_SCRIPT_BYTES + 1));
    }

    @Test
    void badNamesAreRefusedAndNamesAreCompared() {
        for (String bad : List.of("", "a\nb", "a\u0000", "a\u0085", "a\u2028", "x".repeat(SieveScripts.MAX_NAME_CHARS + 1))) {
            assertEquals(StoreFailure.INVALID_NAME,
                    assertThrows(StoreException.class, () -> scripts.put(alice, bad, "keep;", LIMITS)).failure(), bad);
        }
        scripts.put(alice, "x".repeat(SieveScripts.MAX_NAME_CHARS), "keep;", LIMITS);
        scripts.put(alice, "caf\u00e9", "keep;", LIMITS);
        assertEquals(Optional.of("keep;"), scripts.get(alice, "cafe\u0301"), "RFC 5198: one name in NFC");
        scripts.put(alice, "Café", "discard;", LIMITS);
        assertEquals(3, scripts.list(alice).size(), "names are case-sensitive");
    }

    @Test
    void scriptsGoWithTheirAccount() throws Exception {
        scripts.put(alice, "a", "keep;", LIMITS);
        scripts.activate(alice, "a");
        Account bob = f.store().accounts().addUser("bob@example.org", PasswordScheme.hash("pw"));
        scripts.put(bob.id(), "a", "discard;", LIMITS);
        scripts.activate(bob.id(), "a");
        assertEquals(Optional.of("keep;"), scripts.activeSieveScript(alice), "one active per account, not per store");
        f.store().accounts().removeUser("alice@example.org");
        try (Connection c = f.store().db().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM sieve_scripts")) {
            rs.next();
            assertEquals(1, rs.getLong(1), "only bob's is left");
        }
        assertEquals(StoreFailure.NOT_FOUND, assertThrows(StoreException.class, () -> scripts.put(alice, "b", "keep;", LIMITS)).failure());
    }
}

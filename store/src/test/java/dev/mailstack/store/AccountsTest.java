package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccountsTest {
    @TempDir
    Path dir;
    StoreFixture f;
    Accounts accounts;

    @BeforeEach
    void open() {
        f = StoreFixture.create(dir);
        accounts = f.store().accounts();
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void authenticatesOnlyEnabledUsersWithTheRightPassword() {
        assertTrue(accounts.authenticate("Alice@Example.ORG", StoreFixture.PASSWORD).isPresent());
        assertTrue(accounts.authenticate("alice@example.org", "wrong").isEmpty());
        assertTrue(accounts.authenticate("nobody@example.org", StoreFixture.PASSWORD).isEmpty());
        accounts.setDisabled("alice@example.org", true);
        assertTrue(accounts.authenticate("alice@example.org", StoreFixture.PASSWORD).isEmpty());
    }

    @Test
    void resolvesUsersAliasesTagsAndCatchAll() {
        accounts.addUser("bob@example.org", PasswordScheme.hash("x"));
        accounts.addAlias("team@example.org", "alice@example.org");
        accounts.addAlias("team@example.org", "bob@example.org");
        accounts.addAlias("team@example.org", "friend@remote.test");
        var team = assertInstanceOf(AddressResolution.Deliver.class, accounts.resolve("Team@example.org"));
        assertEquals(List.of("alice@example.org", "bob@example.org"), team.accounts().stream().map(Account::address).toList());
        assertEquals(List.of("friend@remote.test"), team.forwards());

        var tagged = assertInstanceOf(AddressResolution.Deliver.class, accounts.resolve("alice+lists@example.org"));
        assertEquals("alice@example.org", tagged.accounts().get(0).address());

        assertInstanceOf(AddressResolution.NoSuchUser.class, accounts.resolve("nobody@example.org"));
        assertInstanceOf(AddressResolution.NotLocal.class, accounts.resolve("x@remote.test"));
        accounts.addAlias("@example.org", "bob@example.org");
        var caught = assertInstanceOf(AddressResolution.Deliver.class, accounts.resolve("nobody@example.org"));
        assertEquals("bob@example.org", caught.accounts().get(0).address());
    }

    @Test
    void aliasLoopsEndInsteadOfRecursingForever() {
        accounts.addAlias("a@example.org", "b@example.org");
        accounts.addAlias("b@example.org", "a@example.org");
        assertInstanceOf(AddressResolution.NoSuchUser.class, accounts.resolve("a@example.org"));
    }

    @Test
    void refusesUsersOfUnknownDomainsAndDuplicates() {
        assertEquals(StoreFailure.NOT_FOUND, assertThrows(StoreException.class,
                () -> accounts.addUser("x@unknown.test", "h")).failure());
        assertEquals(StoreFailure.ALREADY_EXISTS, assertThrows(StoreException.class,
                () -> accounts.addUser("alice@example.org", "h")).failure());
        assertEquals(StoreFailure.NO_PERMISSION, assertThrows(StoreException.class,
                () -> accounts.removeDomain("example.org")).failure());
        accounts.removeUser("alice@example.org");
        accounts.removeDomain("example.org");
        assertEquals(List.of(), accounts.domains());
    }
}

package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
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
        java.util.concurrent.atomic.AtomicInteger ended = new java.util.concurrent.atomic.AtomicInteger();
        AccountWatch session = accounts.watch(f.user().id(), ended::incrementAndGet);
        accounts.setDisabled("alice@example.org", true);
        assertTrue(accounts.authenticate("alice@example.org", StoreFixture.PASSWORD).isEmpty());
        assertEquals(1, ended.get(), "a disabled account's sessions are told to end, as of a deletion");
        AccountWatch late = accounts.watch(f.user().id(), ended::incrementAndGet);
        assertEquals(2, ended.get(), "a session that logged in just before the disabling hears of it too");
        accounts.setDisabled("alice@example.org", false);
        assertTrue(accounts.authenticate("alice@example.org", StoreFixture.PASSWORD).isPresent());
        assertEquals(2, ended.get(), "enabling ends nothing");
        session.close();
        late.close();
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

    @Test
    void deletingAnAccountTellsItsWatchersOnceAndNoOneElse() throws Exception {
        Account bob = accounts.addUser("bob@example.org", PasswordScheme.hash("x"));
        AtomicInteger aliceEnded = new AtomicInteger();
        AtomicInteger bobEnded = new AtomicInteger();
        AtomicInteger closedEarly = new AtomicInteger();
        AutoCloseable alice = accounts.watch(f.user().id(), aliceEnded::incrementAndGet);
        AutoCloseable left = accounts.watch(f.user().id(), closedEarly::incrementAndGet);
        AutoCloseable bobs = accounts.watch(bob.id(), bobEnded::incrementAndGet);
        left.close(); // a session that logged out before
        accounts.removeUser("Alice@example.org");
        assertEquals(1, aliceEnded.get());
        assertEquals(0, closedEarly.get());
        assertEquals(0, bobEnded.get());

        AtomicInteger late = new AtomicInteger();
        accounts.watch(f.user().id(), late::incrementAndGet).close();
        assertEquals(1, late.get(), "a session that logged in just before the deletion hears of it at once");
        alice.close();
        bobs.close();
        assertEquals(0, f.store().changes().watchedAccounts(), "no account is remembered once nobody watches it");
        assertEquals(StoreFailure.NOT_FOUND, assertThrows(StoreException.class,
                () -> accounts.removeUser("alice@example.org")).failure());
        assertEquals(StoreFailure.NOT_FOUND, assertThrows(StoreException.class,
                () -> accounts.setPasswordHash("alice@example.org", PasswordScheme.hash("y"))).failure());
    }

    @Test
    void aNewPasswordIsTheOnlyOneThatLogsIn() {
        accounts.setPasswordHash("alice@example.org", PasswordScheme.hash("new one"));
        assertTrue(accounts.authenticate("alice@example.org", StoreFixture.PASSWORD).isEmpty());
        assertTrue(accounts.authenticate("alice@example.org", "new one").isPresent());
    }

    /**
     * A password change and a deletion write the account's row, which deliveries write too
     * (used_bytes): they wait for the account's writer like any other writer (AccountWriters).
     */
    @Test
    void accountChangesWaitForTheWriterOfTheAccount() throws Exception {
        StoreSession s = f.session();
        List<Uid> one = List.of(TestMessages.append(s, f.inbox(), "Subject: a\r\n\r\na\r\n"));
        try (Transaction t = s.begin()) {
            t.setFlags(f.inbox(), one, new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.FLAGGED)));
            CompletableFuture<Void> passwd = CompletableFuture.runAsync(
                    () -> accounts.setPasswordHash("alice@example.org", PasswordScheme.hash("new one")));
            awaitWriters(2);
            assertFalse(passwd.isDone());
            t.commit();
            passwd.get(AccountWriters.WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        try (Transaction t = s.begin()) {
            t.setFlags(f.inbox(), one, new FlagChange(FlagChange.Mode.ADD, Flags.of(Flag.SEEN)));
            CompletableFuture<Void> removal = CompletableFuture.runAsync(() -> accounts.removeUser("alice@example.org"));
            awaitWriters(2);
            assertTrue(accounts.find("alice@example.org").isPresent(), "not deleted while a writer is at work");
            t.commit();
            removal.get(AccountWriters.WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        assertTrue(accounts.find("alice@example.org").isEmpty());
        assertEquals(0, f.store().accountWriters().busy());
    }

    private void awaitWriters(int n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (f.store().accountWriters().writers(f.user().id()) < n) {
            assertTrue(System.nanoTime() < deadline, "the second writer never came");
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}

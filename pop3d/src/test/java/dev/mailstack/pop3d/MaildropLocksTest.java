package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.store.AccountId;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MaildropLocksTest {
    MaildropLocks locks = new MaildropLocks();
    AccountId alice = new AccountId(1);

    @Test
    void whileOpeningTheLockIsHeldAndAStoreFailureReleasesIt() {
        assertThrows(IllegalStateException.class, () -> locks.open(alice, lease -> {
            assertTrue(locks.isHeld(alice));
            assertEquals(Optional.empty(), locks.open(alice, other -> {
                throw new AssertionError("a second session must not open the maildrop");
            }));
            throw new IllegalStateException("the store failed");
        }));
        assertFalse(locks.isHeld(alice));
    }

    @Test
    void anErrorWhileOpeningReleasesTheLockToo() {
        // the account would otherwise answer [IN-USE] until a restart
        assertThrows(StackOverflowError.class, () -> locks.open(alice, lease -> {
            throw new StackOverflowError();
        }));
        assertFalse(locks.isHeld(alice));
        assertThrows(OutOfMemoryError.class, () -> locks.open(alice, lease -> {
            throw new OutOfMemoryError("Java heap space");
        }));
        assertFalse(locks.isHeld(alice));
    }
}

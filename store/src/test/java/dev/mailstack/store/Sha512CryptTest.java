package dev.mailstack.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Sha512CryptTest {
    // Test vectors from Drepper's "Unix crypt using SHA-256 and SHA-512" specification.
    @Test
    void matchesTheSpecificationVectors() {
        assertEquals("$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
                Sha512Crypt.crypt("Hello world!", "$6$saltstring").orElseThrow());
        assertEquals("$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
                Sha512Crypt.crypt("Hello world!", "$6$rounds=10000$saltstringsaltstring").orElseThrow());
        assertEquals("$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.",
                Sha512Crypt.crypt("the minimum number is still observed", "$6$rounds=10$roundstoolow").orElseThrow());
    }

    @Test
    void newHashesVerifyAndRejectOtherPasswords() {
        String hash = PasswordScheme.hash("pässwörd 密码");
        assertTrue(hash.startsWith("$6$rounds=" + Sha512Crypt.NEW_HASH_ROUNDS + "$"));
        assertTrue(PasswordScheme.verify("pässwörd 密码", hash));
        assertFalse(PasswordScheme.verify("password", hash));
    }

    @Test
    void importsDovecotPasswdFileSchemes() {
        String dovecot = "{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assertTrue(PasswordScheme.verify("Hello world!", PasswordScheme.fromImport(dovecot)));
        StoreException e = assertThrows(StoreException.class, () -> PasswordScheme.fromImport("{PLAIN}secret"));
        assertEquals(StoreFailure.INVALID_NAME, e.failure());
    }

    @Test
    void onlyWholeHashesWithBoundedRoundsAreImported() {
        String digest = "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        for (String broken : new String[]{"$6$", "$6$saltstring", "$6$saltstring$", "$6$salt string$" + digest,
                "$6$saltstring$" + digest.substring(1), "$6$rounds=999999999$saltstring$" + digest}) {
            assertThrows(StoreException.class, () -> PasswordScheme.fromImport(broken), broken);
        }
        String hash = PasswordScheme.hash("secret");
        assertEquals(hash, PasswordScheme.fromImport(hash), "what we make ourselves passes");
    }
}

package dev.mailstack.store;

import java.util.Locale;

/**
 * Password hashes as stored: {@code $6$...} (SHA512-CRYPT). Dovecot passwd-file values carry a
 * {@code {SCHEME}} prefix, which {@link #fromImport} accepts for the crypt schemes we verify.
 */
public final class PasswordScheme {
    static final String DUMMY_HASH = Sha512Crypt.hash("dummy password for timing");

    private PasswordScheme() {
    }

    public static String hash(String password) {
        return Sha512Crypt.hash(password);
    }

    public static boolean verify(String password, String stored) {
        return stored.startsWith("$6$") && Sha512Crypt.verify(password, stored);
    }

    /**
     * A stored hash from an imported value: {@code {SHA512-CRYPT}$6$...} or {@code {CRYPT}$6$...}
     * as Dovecot writes them, or a bare {@code $6$} string.
     */
    public static String fromImport(String value) {
        String v = value.trim();
        if (v.startsWith("{")) {
            int end = v.indexOf('}');
            if (end < 0) {
                throw new StoreException(StoreFailure.INVALID_NAME, "unterminated {SCHEME} prefix");
            }
            String scheme = v.substring(1, end).toUpperCase(Locale.ROOT);
            if (!scheme.equals("SHA512-CRYPT") && !scheme.equals("CRYPT")) {
                throw new StoreException(StoreFailure.INVALID_NAME,
                        "password scheme {" + scheme + "} is not supported: use SHA512-CRYPT or a plain password");
            }
            v = v.substring(end + 1);
        }
        if (!v.startsWith("$6$") || Sha512Crypt.crypt("x", v).isEmpty()) {
            throw new StoreException(StoreFailure.INVALID_NAME, "not a SHA512-CRYPT hash ($6$...)");
        }
        return v;
    }
}

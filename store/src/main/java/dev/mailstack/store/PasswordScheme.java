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
    /** crypt(3)'s $6$ form, whole: optional rounds, a salt of up to 16 characters, the 86-character digest. */
    private static final java.util.regex.Pattern WHOLE_HASH =
            java.util.regex.Pattern.compile("\\$6\\$(?:rounds=(\\d{1,9})\\$)?[^$:\\s]{1,16}\\$[./0-9A-Za-z]{86}");
    /** 200 times the 5,000 rounds glibc, Dovecot and we hash with: beyond, one login costs seconds of CPU. */
    static final long MAX_IMPORT_ROUNDS = 1_000_000;

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
        java.util.regex.Matcher m = WHOLE_HASH.matcher(v);
        if (!m.matches()) {
            throw notWhole();
        }
        // before any hashing: checking a hash of a billion rounds would itself cost minutes of CPU
        if (m.group(1) != null && Long.parseLong(m.group(1)) > MAX_IMPORT_ROUNDS) {
            // every login with it would cost that much CPU: a door to wear the server down
            throw new StoreException(StoreFailure.INVALID_NAME, "SHA512-CRYPT rounds above " + MAX_IMPORT_ROUNDS
                    + " are not accepted; set a new password for this user");
        }
        if (Sha512Crypt.crypt("x", v).isEmpty()) {
            throw notWhole();
        }
        return v;
    }

    private static StoreException notWhole() {
        return new StoreException(StoreFailure.INVALID_NAME,
                "not a whole SHA512-CRYPT hash ($6$[rounds=N$]salt$ and 86 characters of digest)");
    }
}

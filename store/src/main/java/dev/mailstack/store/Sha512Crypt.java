package dev.mailstack.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;

/**
 * SHA512-CRYPT ({@code $6$}, Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512"), the format
 * of glibc crypt(3) and Dovecot's {@code {SHA512-CRYPT}} scheme, so passwd-file users import as is.
 */
public final class Sha512Crypt {
    static final int DEFAULT_ROUNDS = 5000;
    /**
     * Rounds for hashes we make: glibc's and Dovecot's default. More rounds made every login cost
     * tens of milliseconds on this hardware; guessing is held back by AuthThrottle instead.
     */
    public static final int NEW_HASH_ROUNDS = 5_000;
    private static final int MIN_ROUNDS = 1000;
    private static final int MAX_ROUNDS = 999_999_999;
    private static final String ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int[][] ORDER = {
        {0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48},
        {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13},
        {56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}};

    private Sha512Crypt() {
    }

    /** A new hash of {@code password} with a random 16-character salt. */
    public static String hash(String password) {
        StringBuilder salt = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            salt.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return crypt(password, "$6$rounds=" + NEW_HASH_ROUNDS + "$" + salt).orElseThrow();
    }

    /** True when {@code password} matches the {@code $6$} hash, compared in constant time. */
    public static boolean verify(String password, String hash) {
        return crypt(password, hash)
                .map(h -> MessageDigest.isEqual(h.getBytes(StandardCharsets.US_ASCII), hash.getBytes(StandardCharsets.US_ASCII)))
                .orElse(false);
    }

    /** crypt(3) with a {@code $6$[rounds=N$]salt[$...]} setting; empty when the setting is malformed. */
    static Optional<String> crypt(String password, String setting) {
        if (!setting.startsWith("$6$")) {
            return Optional.empty();
        }
        String rest = setting.substring(3);
        int rounds = DEFAULT_ROUNDS;
        boolean customRounds = false;
        if (rest.startsWith("rounds=")) {
            int end = rest.indexOf('$');
            if (end < 0) {
                return Optional.empty();
            }
            try {
                long r = Long.parseLong(rest.substring(7, end));
                rounds = (int) Math.max(MIN_ROUNDS, Math.min(MAX_ROUNDS, r));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
            customRounds = true;
            rest = rest.substring(end + 1);
        }
        int end = rest.indexOf('$');
        String saltText = end < 0 ? rest : rest.substring(0, end);
        if (saltText.length() > 16) {
            saltText = saltText.substring(0, 16);
        }
        byte[] key = password.getBytes(StandardCharsets.UTF_8);
        byte[] salt = saltText.getBytes(StandardCharsets.UTF_8);
        byte[] a = digest(key, salt, rounds);
        StringBuilder out = new StringBuilder("$6$");
        if (customRounds) {
            out.append("rounds=").append(rounds).append('$');
        }
        out.append(saltText).append('$');
        for (int[] o : ORDER) {
            encode(out, a[o[0]], a[o[1]], a[o[2]], 4);
        }
        encode(out, (byte) 0, (byte) 0, a[63], 2);
        Arrays.fill(key, (byte) 0);
        return Optional.of(out.toString());
    }

    private static byte[] digest(byte[] key, byte[] salt, int rounds) {
        MessageDigest md = sha512();
        md.update(key);
        md.update(salt);
        md.update(key);
        byte[] b = md.digest();

        md.update(key);
        md.update(salt);
        int i;
        for (i = key.length; i > 64; i -= 64) {
            md.update(b, 0, 64);
        }
        md.update(b, 0, i);
        for (i = key.length; i > 0; i >>= 1) {
            if ((i & 1) != 0) {
                md.update(b);
            } else {
                md.update(key);
            }
        }
        byte[] a = md.digest();

        for (i = 0; i < key.length; i++) {
            md.update(key);
        }
        byte[] p = repeat(md.digest(), key.length);
        for (i = 0; i < 16 + (a[0] & 0xff); i++) {
            md.update(salt);
        }
        byte[] s = repeat(md.digest(), salt.length);

        for (int r = 0; r < rounds; r++) {
            md.update((r & 1) != 0 ? p : a);
            if (r % 3 != 0) {
                md.update(s);
            }
            if (r % 7 != 0) {
                md.update(p);
            }
            md.update((r & 1) != 0 ? a : p);
            a = md.digest();
        }
        return a;
    }

    private static byte[] repeat(byte[] block, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = block[i % block.length];
        }
        return out;
    }

    private static void encode(StringBuilder out, byte b2, byte b1, byte b0, int chars) {
        int w = ((b2 & 0xff) << 16) | ((b1 & 0xff) << 8) | (b0 & 0xff);
        for (int i = 0; i < chars; i++) {
            out.append(ALPHABET.charAt(w & 0x3f));
            w >>>= 6;
        }
    }

    private static MessageDigest sha512() {
        try {
            return MessageDigest.getInstance("SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-512", e);
        }
    }
}

package dev.mailstack.mta.queue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Sender Rewriting Scheme, in the address forms libsrs2 and postsrsd write, for mail an alias
 * forwards to another server. Forwarded with its original envelope sender, such mail fails SPF
 * at the next server, which sees us send for a domain that does not list us (RFC 7208 §9.3,
 * "forwarding"); rewritten as {@code SRS0=HHHHHHHH=TT=example.com=alice@our-alias-domain}, it is ours
 * to send. A bounce (null sender) to that address goes back to alice@example.com, once its hash
 * (a keyed MAC, so no one else can make us relay) verifies and it is at most {@link #MAX_AGE_DAYS}
 * days old; anyone who saw the address could otherwise send alice anything through us.
 * An address that is already SRS0 becomes SRS1 (one more forwarder on the way).
 */
public final class SenderRewriting {
    public static final SenderRewriting OFF = new SenderRewriting(null, Clock.systemUTC());
    static final int MAX_AGE_DAYS = 21;
    private static final String BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    /** Bytes of the MAC kept, as base32: 40 bits in 8 characters that compare case-insensitively (libsrs2 keeps about 24). */
    private static final int HASH_BYTES = 5;
    private static final int MIN_KEY_BYTES = 16;

    private final byte[] secret;
    private final Clock clock;

    SenderRewriting(byte[] secret, Clock clock) {
        this.secret = secret;
        this.clock = clock;
    }

    /** With the key in {@code folder}/secret, made (readable by its owner only) when there is none. */
    public static SenderRewriting load(Path folder) throws IOException {
        Path file = folder.resolve("secret");
        if (!Files.exists(file)) {
            Files.createDirectories(folder);
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            // written whole under another name first: a crash must not leave an empty key behind
            Path partial = Files.createTempFile(folder, "secret", ".new",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(partial, Base64.getEncoder().encodeToString(key) + "\n");
            try {
                Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                Files.deleteIfExists(partial); // another process made it first: read theirs
            }
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(Files.readString(file).strip());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is not a base64 key: remove it to make a new one", e);
        }
        if (key.length < MIN_KEY_BYTES) {
            throw new IOException(file + " holds a key of " + key.length + " bytes, under " + MIN_KEY_BYTES
                    + ": remove it to make a new one");
        }
        return new SenderRewriting(key, Clock.systemUTC());
    }

    public boolean isOn() {
        return secret != null;
    }

    /**
     * The envelope sender for mail forwarded through an alias of {@code aliasDomain}: rewritten,
     * or as it was when it is the null sender (a bounce is never bounced) or rewriting is off.
     */
    public String forward(String sender, String aliasDomain) {
        int at = sender.lastIndexOf('@');
        if (secret == null || at <= 0) {
            return sender;
        }
        String local = sender.substring(0, at);
        String host = sender.substring(at + 1);
        if (local.startsWith("\"") || host.startsWith("[")) {
            return sender; // a quoted local part or an address literal would not survive as one of ours
        }
        String upper = local.toUpperCase(Locale.ROOT);
        if (upper.startsWith("SRS1=")) {
            // SRS1=HHHH=orighost==rest: already through several forwarders; we vouch for it anew
            String[] parts = local.substring(5).split("=", 3);
            if (parts.length == 3 && parts[2].startsWith("=")) {
                return "SRS1=" + hash(parts[1], parts[2]) + "=" + parts[1] + "=" + parts[2] + "@" + aliasDomain;
            }
        } else if (upper.startsWith("SRS0=") || upper.startsWith("SRS0+") || upper.startsWith("SRS0-")) {
            String rest = "=" + local.substring(5);
            return "SRS1=" + hash(host, rest) + "=" + host + "=" + rest + "@" + aliasDomain;
        }
        String time = timestamp(clock.millis() / 86_400_000L);
        return "SRS0=" + hash(time, host, local) + "=" + time + "=" + host + "=" + local + "@" + aliasDomain;
    }

    /**
     * Where a bounce to {@code address} goes back to, when it is one of ours: the original sender
     * (SRS0), or the previous forwarder's SRS0 address (SRS1). Empty when it is not an SRS
     * address, its hash does not verify, or it is too old.
     */
    public Optional<String> reverse(String address) {
        int at = address.lastIndexOf('@');
        if (secret == null || at <= 5) {
            return Optional.empty();
        }
        String local = address.substring(0, at);
        String upper = local.substring(0, 5).toUpperCase(Locale.ROOT);
        if (upper.equals("SRS0=")) {
            String[] parts = local.substring(5).split("=", 4);
            if (parts.length == 4 && matches(parts[0], hash(parts[1], parts[2], parts[3])) && fresh(parts[1])) {
                return Optional.of(parts[3] + "@" + parts[2]);
            }
        } else if (upper.equals("SRS1=")) {
            String[] parts = local.substring(5).split("=", 3);
            // the SRS0 inside keeps its first forwarder's time: a bounce of an old one is refused too
            String[] inner = parts.length == 3 ? parts[2].split("=", 4) : new String[0];
            if (parts.length == 3 && parts[2].startsWith("=") && matches(parts[0], hash(parts[1], parts[2]))
                    && inner.length == 4 && fresh(inner[2])) {
                return Optional.of("SRS0" + parts[2] + "@" + parts[1]);
            }
        }
        return Optional.empty();
    }

    /** Days since the epoch, modulo 1024, as two base32 characters (libsrs2's timestamp). */
    static String timestamp(long day) {
        int t = (int) (day & 1023);
        return "" + BASE32.charAt(t >> 5) + BASE32.charAt(t & 31);
    }

    private boolean fresh(String stamp) {
        if (stamp.length() != 2) {
            return false;
        }
        int hi = BASE32.indexOf(Character.toUpperCase(stamp.charAt(0)));
        int lo = BASE32.indexOf(Character.toUpperCase(stamp.charAt(1)));
        if (hi < 0 || lo < 0) {
            return false;
        }
        long today = (clock.millis() / 86_400_000L) & 1023;
        long age = (today - ((hi << 5) | lo) + 1024) % 1024;
        return age <= MAX_AGE_DAYS;
    }

    /** Case-insensitive: some MTAs change the case of local parts on the way back. */
    private static boolean matches(String given, String expected) {
        return MessageDigest.isEqual(given.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII),
                expected.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
    }

    /** The first {@link #HASH_BYTES} bytes of the keyed MAC (HMAC-SHA256) of the parts, case-folded, in base32. */
    private String hash(String... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            for (String part : parts) {
                mac.update(part.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
                mac.update((byte) 0); // "ab"+"c" and "a"+"bc" differ
            }
            byte[] digest = mac.doFinal();
            long bits = 0;
            for (int i = 0; i < HASH_BYTES; i++) {
                bits = bits << 8 | (digest[i] & 0xff);
            }
            StringBuilder out = new StringBuilder();
            for (int shift = HASH_BYTES * 8 - 5; shift >= 0; shift -= 5) {
                out.append(BASE32.charAt((int) (bits >> shift) & 31));
            }
            return out.toString();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is in every JDK", e);
        }
    }
}

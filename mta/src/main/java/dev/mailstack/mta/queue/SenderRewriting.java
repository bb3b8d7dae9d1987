package dev.mailstack.mta.queue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * "forwarding"); rewritten as {@code SRS0=HHHH=TT=example.com=alice@our-alias-domain}, it is ours
 * to send. A bounce to that address goes back to alice@example.com, once its hash (a keyed MAC,
 * so no one else can make us relay) verifies and it is at most {@link #MAX_AGE_DAYS} days old.
 * An address that is already SRS0 becomes SRS1 (one more forwarder on the way).
 */
public final class SenderRewriting {
    public static final SenderRewriting OFF = new SenderRewriting(null, Clock.systemUTC());
    static final int MAX_AGE_DAYS = 21;
    private static final String BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    /** libsrs2 takes 4; 6 case-insensitive base64 characters make a forged address far harder to guess. */
    private static final int HASH_LENGTH = 6;

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
            try {
                Files.writeString(Files.createFile(file,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
                        Base64.getEncoder().encodeToString(key) + "\n");
            } catch (FileAlreadyExistsException raced) {
                // another process made it first: read theirs
            }
        }
        try {
            return new SenderRewriting(Base64.getDecoder().decode(Files.readString(file).strip()), Clock.systemUTC());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " is not a base64 key: remove it to make a new one", e);
        }
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
            if (parts.length == 3 && parts[2].startsWith("=") && matches(parts[0], hash(parts[1], parts[2]))) {
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

    /** The first characters of the keyed MAC (HMAC-SHA256) of the parts, lower case, as base64. */
    private String hash(String... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            for (String part : parts) {
                mac.update(part.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
                mac.update((byte) 0); // "ab"+"c" and "a"+"bc" differ
            }
            String b64 = Base64.getEncoder().withoutPadding().encodeToString(mac.doFinal());
            return b64.replace('+', 'A').replace('/', 'B').substring(0, HASH_LENGTH);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is in every JDK", e);
        }
    }
}

package dev.mailstack.store;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * RFC 8474 §5.1 EMAILID from a message's content address. Contents are immutable and stored once
 * per distinct octets, and COPY and MOVE point the new message at the same content, so the id is
 * the same for every copy of a message, stays so across sessions and restarts, and does not depend
 * on the mailbox or UID. Two deliveries of byte-identical octets share a content and so an id: the
 * RFC gives one id to one message, and identical immutable octets are one message.
 *
 * <p>The id is a keyed MAC of the SHA-256, not the SHA-256 itself: that would name the file on disk
 * and let anyone who sees an id (in a client's log, say) check a guess of the message's text. The
 * key is made at random once and kept in the database ({@code server_keys}), so a backup restores
 * the same ids.
 */
final class EmailIds {
    private static final String KEY_NAME = "emailid";
    /** 18 bytes: 144 bits, 24 characters of base64url, far from any collision across a store. */
    private static final int ID_BYTES = 18;

    private final SecretKeySpec key;

    private EmailIds(byte[] key) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /** Reads the key, making it first if this store has none yet (a new store, or one from before V18). */
    static EmailIds load(Database db) {
        try (Connection c = db.connect()) {
            for (int attempt = 0; ; attempt++) {
                byte[] existing = read(c);
                if (existing != null) {
                    return new EmailIds(existing);
                }
                byte[] fresh = new byte[32];
                new SecureRandom().nextBytes(fresh);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO server_keys (name, secret) VALUES (?, ?)")) {
                    ps.setString(1, KEY_NAME);
                    ps.setBytes(2, fresh);
                    ps.executeUpdate();
                    return new EmailIds(fresh);
                } catch (SQLException e) {
                    // another process opening the same database made it meanwhile: use that one
                    if (!db.dialect().isUniqueViolation(e) || attempt > 0) {
                        throw e;
                    }
                }
            }
        } catch (SQLException e) {
            throw db.failure(e, "read the EMAILID key");
        }
    }

    private static byte[] read(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT secret FROM server_keys WHERE name = ?")) {
            ps.setString(1, KEY_NAME);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        }
    }

    /** "M" and 24 characters of base64url: RFC 8474 §7's objectid syntax (1*255 of A-Z a-z 0-9 _ -). */
    String of(String contentKey) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            byte[] digest = mac.doFinal(contentKey.getBytes(StandardCharsets.US_ASCII));
            return "M" + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, ID_BYTES));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is in every JDK", e);
        }
    }
}

package dev.mailstack.store;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The octets of small messages ({@link MessageSpool.Spooled.InMemory}), kept in the database
 * instead of a file of their own: inserted in the transaction that inserts their content row, so
 * they are as durable as the rows that point at them the moment those commit, and removed with it
 * (the foreign key cascades when the sweep deletes the row).
 */
final class ContentOctets {
    private final Database db;

    ContentOctets(Database db) {
        this.db = db;
    }

    /** Keeps a new content's octets, in the transaction that inserts its row. */
    static void insert(Connection c, ContentId content, byte[] octets) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO content_octets (content_id, octets) VALUES (?, ?)")) {
            ps.setLong(1, content.value());
            ps.setBytes(2, octets);
            ps.executeUpdate();
        }
    }

    /**
     * At most {@code length} octets from {@code offset} of the content {@code sha256}, when it is
     * kept here; empty when it is a file's.
     */
    Optional<InputStream> open(String sha256, long offset, long length) throws IOException {
        return open("SELECT o.octets FROM contents ct JOIN content_octets o ON o.content_id = ct.id WHERE ct.sha256 = ?",
                ps -> ps.setString(1, sha256), "sha256=" + sha256, offset, length);
    }

    /** As {@link #open(String, long, long)}, by the content's id: one lookup by key (what mailbox messages know). */
    Optional<InputStream> open(ContentId content, long offset, long length) throws IOException {
        return open("SELECT octets FROM content_octets WHERE content_id = ?", ps -> ps.setLong(1, content.value()),
                "id=" + content.value(), offset, length);
    }

    private interface Parameters {
        void set(PreparedStatement ps) throws SQLException;
    }

    private Optional<InputStream> open(String sql, Parameters parameters, String which, long offset, long length)
            throws IOException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            parameters.set(ps);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                byte[] octets = rs.getBytes(1);
                int from = (int) Math.min(Math.max(0, offset), octets.length);
                return Optional.of(new ByteArrayInputStream(octets, from, (int) Math.min(length, octets.length - from)));
            }
        } catch (SQLException | StoreException e) { // StoreException: no connection, the database is busy or closed
            throw new IOException("cannot read message content " + which + ": " + e.getMessage(), e);
        }
    }
}

package dev.mailstack.store;

import java.io.IOException;
import java.io.InputStream;

/** A complete message spooled to disk, ready to store: size and SHA-256 known, bytes re-readable. */
public interface MessageSource {
    long size();

    /** Hex SHA-256 of the octets; the content address. */
    String sha256();

    InputStream open() throws IOException;
}

package dev.mailstack.mime;

import java.io.IOException;
import java.io.InputStream;

/** Re-readable message octets: a stream from any offset (a content file in the store, a spool). */
@FunctionalInterface
public interface ContentSource {
    InputStream open(long offset) throws IOException;

    /** Exactly {@code length} bytes from {@code offset} (fewer only if the message is shorter). */
    default byte[] read(long offset, long length) throws IOException {
        try (InputStream in = open(offset)) {
            return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, length));
        }
    }
}

package dev.mailstack.mta.delivery;

import dev.mailstack.store.MailboxStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.util.Arrays;

/**
 * A message as an account's Sieve script left it with editheader (RFC 5293): the new header
 * section, then the queued message's octets from {@code bodyOffset} (its body, unchanged). Stored
 * by keep and fileinto as a content of its own, with its own MIME summary, and sent by redirect.
 *
 * @param header     the edited header section, its empty line included
 * @param bodyOffset where the body starts in the queued message: the size of its header section
 */
public record EditedCopy(byte[] header, long bodyOffset) {
    public EditedCopy {
        header = header.clone();
    }

    /** The edited message's size, for the quota. */
    public long size(long originalSize) {
        return header.length + originalSize - bodyOffset;
    }

    /** The edited message's octets; {@code contentKey}: the queued message's. */
    public InputStream open(MailboxStore store, String contentKey) throws IOException {
        return new SequenceInputStream(new ByteArrayInputStream(header), store.openContent(contentKey, bodyOffset));
    }

    @Override
    public byte[] header() {
        return header.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EditedCopy c && c.bodyOffset == bodyOffset && Arrays.equals(c.header, header);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(header) * 31 + Long.hashCode(bodyOffset);
    }

    @Override
    public String toString() {
        return "EditedCopy[header=" + header.length + " bytes, bodyOffset=" + bodyOffset + "]";
    }
}

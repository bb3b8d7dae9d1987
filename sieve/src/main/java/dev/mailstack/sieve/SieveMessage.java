package dev.mailstack.sieve;

import java.util.List;

/**
 * What a script is run against: the message's header fields, its envelope and its size, as the
 * delivery side knows them. {@link #of} builds one from the raw header section of a stored message.
 */
public interface SieveMessage {
    /**
     * The values of every header field with this name (case-insensitive), in message order: the
     * raw text after the colon, possibly folded and holding RFC 2047 encoded-words. The script
     * engine unfolds and decodes them itself. Empty when there is no such field.
     */
    List<String> header(String name);

    /** The envelope's return path (MAIL FROM) without angle brackets; "" for the null sender. */
    String envelopeFrom();

    /** The envelope recipient this run delivers for (the RCPT TO address), local@domain. */
    String envelopeTo();

    /** The message size in octets, as the {@code size} test compares it (RFC 5228 §5.9). */
    long size();

    /**
     * A message from its raw header section: the octets up to (and optionally including) the
     * empty line that ends it, in CRLF or LF lines. 8-bit field values are read as UTF-8 when they
     * are valid UTF-8, else guessed as the mime module does (GB18030, then ISO-8859-1).
     */
    static SieveMessage of(byte[] headerSection, long size, String envelopeFrom, String envelopeTo) {
        return new HeaderSection(HeaderSection.fields(headerSection), size, envelopeFrom, envelopeTo);
    }
}

package dev.mailstack.sieve;

import java.util.List;
import java.util.Optional;

/**
 * What a script is run against: the message's header fields, its envelope, its size and (when the
 * caller has it) its body, as the delivery side knows them. {@link #of} builds one from the raw
 * header section of a stored message.
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
     * The body for the body test (RFC 5173), read only when a script's body test runs. Empty when
     * only the header is known, as with {@link #of(byte[], long, String, String)}: every body test
     * is then false, as for a message that is a header alone (§4).
     */
    default Optional<MessageBody> body() {
        return Optional.empty();
    }

    /**
     * A message from its raw header section: the octets up to (and optionally including) the
     * empty line that ends it, in CRLF or LF lines. 8-bit field values are read as UTF-8 when they
     * are valid UTF-8, else guessed as the mime module does (GB18030, then ISO-8859-1).
     */
    static SieveMessage of(byte[] headerSection, long size, String envelopeFrom, String envelopeTo) {
        return new HeaderSection(HeaderSection.fields(headerSection), size, envelopeFrom, envelopeTo, Optional.empty());
    }

    /** {@link #of(byte[], long, String, String)} with the body, for scripts that use the body test. */
    static SieveMessage of(byte[] headerSection, long size, String envelopeFrom, String envelopeTo, MessageBody body) {
        return new HeaderSection(HeaderSection.fields(headerSection), size, envelopeFrom, envelopeTo, Optional.of(body));
    }
}

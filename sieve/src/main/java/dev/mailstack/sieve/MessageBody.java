package dev.mailstack.sieve;

import dev.mailstack.mime.ContentSource;
import dev.mailstack.mime.MessageSummary;
import java.util.Objects;

/**
 * Where the body test (RFC 5173) finds a message's body: the MIME summary parsed once at delivery
 * and the stored octets it points into. Nothing is read until a body test runs; then only the parts
 * it asks for, each bounded ({@link BodyValues}).
 */
public record MessageBody(MessageSummary summary, ContentSource content) {
    public MessageBody {
        Objects.requireNonNull(summary, "summary");
        Objects.requireNonNull(content, "content");
    }
}

package dev.mailstack.imapd;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageSource;
import java.io.IOException;
import java.io.InputStream;

/** APPEND's side of "parse once": the same summary local delivery stores, from the spooled literal. */
final class ParsedFacts {
    private ParsedFacts() {
    }

    static MessageFacts of(MessageSource message, MimeLimits limits) throws IOException {
        try (InputStream in = message.open()) {
            MessageSummary.ParsedMessage p = MessageSummary.parse(in, limits);
            return new MessageFacts(p.size(), p.headerSize(), p.bodyLines(), p.summary().encode());
        }
    }
}

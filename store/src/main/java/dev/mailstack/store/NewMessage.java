package dev.mailstack.store;

import java.time.Instant;

/** One message of a set appended together ({@link StoreSession#append}): its octets, what their parse found, its flags and date. */
public record NewMessage(MessageSource source, MessageFacts facts, Flags flags, Instant internalDate) {
    public NewMessage {
        if (source.size() != facts.size()) {
            throw new IllegalArgumentException("facts size " + facts.size() + " != source size " + source.size());
        }
    }
}

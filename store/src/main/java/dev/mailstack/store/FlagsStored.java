package dev.mailstack.store;

import java.util.List;

/**
 * What a flag change did: the messages it changed, with their new state, and those it left alone
 * because they had changed since the client's UNCHANGEDSINCE (RFC 7162 §3.1.3).
 */
public record FlagsStored(List<MessageRef> changed, List<Uid> modified) {
}

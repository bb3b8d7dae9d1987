package dev.mailstack.mta.queue;

import dev.mailstack.store.AccountId;

/**
 * Where a message entered, as far as vouching for it goes: a DKIM signature says the signing
 * domain stands behind the From: address (RFC 6376 §1.2, and DMARC makes receivers act on it), so
 * mail is signed only when it comes from inside.
 */
public sealed interface Origin {
    /** Another server, or a client that did not log in: never signed. */
    record Outside() implements Origin {
    }

    /** A client logged in as {@code account}: signed when From: is one of the account's own addresses (aliases included). */
    record LoggedIn(AccountId account) implements Origin {
    }

    /** A host in smtp.trusted_networks (Postfix's mynetworks): ours, so signed for any domain with a key. */
    record TrustedNetwork() implements Origin {
    }
}

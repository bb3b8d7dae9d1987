package dev.mailstack.sieve;

/** How a test compares values with keys (RFC 5228 §2.7.1; :value and :count from RFC 5231). */
enum MatchType {
    IS, CONTAINS, MATCHES, VALUE, COUNT
}

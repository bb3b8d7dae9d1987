package dev.mailstack.imapd;

/**
 * One sort criterion (RFC 5256 §3 sort-criterion; DISPLAYFROM and DISPLAYTO from RFC 5957).
 * {@code reverse} turns this criterion round and nothing else: ties still go by sequence number.
 */
record SortCriterion(Key key, boolean reverse) {
    enum Key { ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM, DISPLAYTO }
}

package dev.mailstack.mta.delivery;

import java.util.List;

/**
 * The usable TLSA records of one MX host (RFC 7672 §2.2.3), which its certificate must match, and
 * the names a certificate vouched for by a DANE-TA record must carry: the TLSA base domain first
 * (the MX host, or the name it expands to), which SNI names (RFC 7672 §8.1), then the MX host's
 * own name when that differs and the next-hop domain (§3.2.2). A certificate matched by a DANE-EE
 * record needs no name.
 */
record TlsaRecords(List<TlsaRecord> records, List<String> names) {
    TlsaRecords {
        records = List.copyOf(records);
        names = List.copyOf(names);
        if (records.isEmpty()) {
            throw new IllegalArgumentException("no TLSA record");
        }
    }

    /**
     * The records of a validated TLSA RRset a client goes by: the usable ones (RFC 7672 §2.2; the
     * malformed and the unknown are ignored), and of those, for each usage and selector, only the
     * strongest digest published, beside any Full(0) records. RFC 7671 §9 has a client that finds
     * "3 1 0", "3 1 1" and "3 1 2" accept a key matching "3 1 0" or "3 1 2" but not one matching
     * only "3 1 1": a weaker digest kept for older clients must not weaken what we accept.
     * Unusable records are dropped first, so a matching type we do not support, or a SHA-512
     * record of the wrong length, does not push aside the SHA-256 record we can check. Empty: all
     * unusable.
     */
    static List<TlsaRecord> usable(List<TlsaRecord> rrset) {
        List<TlsaRecord> usable = rrset.stream().filter(TlsaRecord::usable).toList();
        return usable.stream().filter(r -> usable.stream().noneMatch(r::weakerThan)).toList();
    }
}

package dev.mailstack.mta.delivery;

import java.util.List;

/**
 * The usable TLSA records of one MX host (RFC 7672 §2.2.3), which its certificate must match, and
 * the names a certificate vouched for by a DANE-TA record must carry: the MX host first, then the
 * next-hop domain (RFC 7672 §3.2.2). A certificate matched by a DANE-EE record needs no name.
 */
record TlsaRecords(List<TlsaRecord> records, List<String> names) {
    TlsaRecords {
        records = List.copyOf(records);
        names = List.copyOf(names);
        if (records.isEmpty()) {
            throw new IllegalArgumentException("no TLSA record");
        }
    }
}

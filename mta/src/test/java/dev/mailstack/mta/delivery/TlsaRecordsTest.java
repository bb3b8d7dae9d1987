package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which records of a validated TLSA RRset a client goes by: the usable ones, with digest agility (RFC 7671 §9). */
class TlsaRecordsTest {
    static TlsaRecord record(int usage, int selector, int matchingType, int length) {
        byte[] data = new byte[length];
        if (length > 0) {
            data[0] = (byte) (usage * 100 + selector * 10 + matchingType); // records equal only to themselves
        }
        return new TlsaRecord(usage, selector, matchingType, data);
    }

    static final TlsaRecord EE_SPKI_FULL = record(3, 1, 0, 91);
    static final TlsaRecord EE_SPKI_256 = record(3, 1, 1, 32);
    static final TlsaRecord EE_SPKI_512 = record(3, 1, 2, 64);
    static final TlsaRecord EE_CERT_256 = record(3, 0, 1, 32);
    static final TlsaRecord TA_CERT_256 = record(2, 0, 1, 32);
    static final TlsaRecord TA_CERT_512 = record(2, 0, 2, 64);

    @Test
    void theStrongestDigestOfEachUsageAndSelectorIsKeptBesideFullRecords() {
        // RFC 7671 §9's example: of 3 1 0, 3 1 1 and 3 1 2, the 3 1 1 goes
        assertEquals(List.of(EE_SPKI_FULL, EE_SPKI_512), TlsaRecords.usable(List.of(EE_SPKI_FULL, EE_SPKI_256, EE_SPKI_512)));
        assertEquals(List.of(EE_SPKI_512), TlsaRecords.usable(List.of(EE_SPKI_512, EE_SPKI_256)), "whatever the order");
    }

    @Test
    void eachUsageAndSelectorCombinationIsJudgedOnItsOwn() {
        // a SHA-512 for 3 1 and one for 2 0 do not push aside 3 0's SHA-256
        assertEquals(List.of(EE_CERT_256, EE_SPKI_512, TA_CERT_512),
                TlsaRecords.usable(List.of(EE_CERT_256, EE_SPKI_256, EE_SPKI_512, TA_CERT_256, TA_CERT_512)));
        assertEquals(List.of(EE_SPKI_256, TA_CERT_256), TlsaRecords.usable(List.of(EE_SPKI_256, TA_CERT_256)));
    }

    @Test
    void unusableRecordsAreIgnoredBeforeTheStrongestIsChosen() {
        // an unknown matching type, or a SHA-512 record of the wrong length, must not make the
        // SHA-256 record we can check give way (RFC 7671 §9 ranks the digests a client supports)
        TlsaRecord unknownMatching = record(3, 1, 3, 64);
        TlsaRecord shortSha512 = record(3, 1, 2, 32);
        assertEquals(List.of(EE_SPKI_256), TlsaRecords.usable(List.of(unknownMatching, shortSha512, EE_SPKI_256)));
        // PKIX usages are unusable for SMTP (RFC 7672 §3.1.3), so they decide nothing either
        assertEquals(List.of(EE_SPKI_256), TlsaRecords.usable(List.of(record(1, 1, 2, 64), EE_SPKI_256)));
        assertEquals(List.of(), TlsaRecords.usable(List.of(unknownMatching, shortSha512, record(3, 1, 0, 0))));
    }
}

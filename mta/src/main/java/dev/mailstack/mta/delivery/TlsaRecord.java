package dev.mailstack.mta.delivery;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * One TLSA record (RFC 6698 §2.1): which certificate it stands for (usage), which part of it is
 * matched (selector) and how (matching type), and the data to match.
 */
record TlsaRecord(int usage, int selector, int matchingType, byte[] data) {
    /** RFC 7218 §2.1: the certificate usages. */
    static final int PKIX_TA = 0;
    static final int PKIX_EE = 1;
    static final int DANE_TA = 2;
    static final int DANE_EE = 3;
    /** RFC 6698 §2.1.3: the matching types. */
    static final int FULL = 0;
    static final int SHA2_256 = 1;
    static final int SHA2_512 = 2;
    /** RFC 7671 §9: the digests we support, weakest first (a fixed order; RFC 7671 lets it be configurable). */
    private static final List<Integer> DIGESTS_BY_STRENGTH = List.of(SHA2_256, SHA2_512);

    TlsaRecord {
        data = data.clone();
    }

    /**
     * The RDATA of a TLSA answer (RFC 6698 §2.1): usage, selector, matching type, then the data
     * (empty data parses, and is unusable); shorter than the three fields throws.
     */
    static TlsaRecord parse(byte[] rdata) throws DnsMessage.MalformedDnsException {
        if (rdata.length < 3) {
            throw new DnsMessage.MalformedDnsException("TLSA record of " + rdata.length + " octets");
        }
        return new TlsaRecord(rdata[0] & 0xff, rdata[1] & 0xff, rdata[2] & 0xff, Arrays.copyOfRange(rdata, 3, rdata.length));
    }

    /**
     * Whether an SMTP client can use it: RFC 7672 §3.1.3 makes PKIX-TA(0) and PKIX-EE(1)
     * unusable (there is no agreed set of authorities between MTAs), and a selector or matching
     * type we do not know is unusable as well (RFC 7671 §4), and so is data of the wrong length for
     * its matching type (RFC 7672 §2.2: malformed). Only full certificate or SPKI (selector 0, 1),
     * and exact, SHA-256 or SHA-512 matching (0, 1, 2; RFC 6698 §2.1.3).
     */
    boolean usable() {
        return (usage == DANE_TA || usage == DANE_EE) && (selector == 0 || selector == 1) && switch (matchingType) {
            case FULL -> data.length > 0;
            case SHA2_256 -> data.length == 32;
            case SHA2_512 -> data.length == 64;
            default -> false;
        };
    }

    /**
     * Whether {@code other}, of the same usage and selector, has a digest this one must give way to
     * (RFC 7671 §9): both digests we support and the other's the stronger. Full(0) records are
     * not digests and neither give way nor make others give way.
     */
    boolean weakerThan(TlsaRecord other) {
        return usage == other.usage && selector == other.selector
                && DIGESTS_BY_STRENGTH.indexOf(matchingType) >= 0
                && DIGESTS_BY_STRENGTH.indexOf(matchingType) < DIGESTS_BY_STRENGTH.indexOf(other.matchingType);
    }

    /** Whether {@code certificate} is the one this record stands for (RFC 6698 §2.1.2, §2.1.3). */
    boolean matches(X509Certificate certificate) {
        try {
            byte[] selected = selector == 0 ? certificate.getEncoded() : certificate.getPublicKey().getEncoded();
            byte[] value = switch (matchingType) {
                case FULL -> selected;
                case SHA2_256 -> MessageDigest.getInstance("SHA-256").digest(selected);
                case SHA2_512 -> MessageDigest.getInstance("SHA-512").digest(selected);
                default -> null;
            };
            return value != null && MessageDigest.isEqual(value, data);
        } catch (CertificateEncodingException | NoSuchAlgorithmException e) {
            return false; // a certificate we cannot encode matches nothing
        }
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TlsaRecord t && usage == t.usage && selector == t.selector && matchingType == t.matchingType
                && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return ((usage * 31 + selector) * 31 + matchingType) * 31 + Arrays.hashCode(data);
    }

    /** As in a zone file: "3 1 1 ab12…". */
    @Override
    public String toString() {
        return usage + " " + selector + " " + matchingType + " " + HexFormat.of().formatHex(data);
    }
}

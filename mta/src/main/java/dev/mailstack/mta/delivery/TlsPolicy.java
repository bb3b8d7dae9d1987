package dev.mailstack.mta.delivery;

import java.util.Locale;

/**
 * How the outbound client uses TLS with a next hop (Postfix's smtp_tls_security_level, and
 * smtp_tls_wrappermode for {@link #IMPLICIT}). Only {@link #VERIFY} checks the certificate (and a
 * relay host we log in to, {@link RelayLogin#verifyCertificate()}); at the other levels any
 * certificate will do, as with Postfix's may and encrypt: between MTAs authentication is what
 * DANE ({@link #DANE}) or MTA-STS are for.
 */
public enum TlsPolicy {
    /** Never STARTTLS (a peer whose TLS is known broken). */
    NONE,
    /** STARTTLS when offered; a failed handshake is retried once without TLS (RFC 3207 §4.1 allows plaintext). */
    MAY,
    /** STARTTLS required: a peer that does not offer it, or whose handshake fails, is a temporary failure. */
    ENCRYPT,
    /**
     * STARTTLS required, and the certificate must chain to a trusted authority ({@link NextHopTrust})
     * and name the host as routed: the MX host or the relay host (Postfix's verify).
     */
    VERIFY,
    /** TLS from the first byte (RFC 8314 §3, port 465), for relay hosts that only take submissions that way. */
    IMPLICIT,
    /**
     * STARTTLS required, and the certificate must match one of the MX host's usable TLSA records
     * ({@link Route#tlsa()}; RFC 7672, Postfix's dane level for a host with usable TLSA). Never
     * configured: DNSSEC-validated DNS gives it to a route (queue.dane).
     */
    DANE;

    public static TlsPolicy parse(String text) {
        TlsPolicy policy;
        try {
            policy = valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            policy = DANE;
        }
        if (policy == DANE) {
            // DANE needs TLSA records from validated DNS, which a configured level cannot give
            throw new IllegalArgumentException("TLS policy must be none, may, encrypt, verify or implicit, not " + text
                    + (text.strip().equalsIgnoreCase("dane") ? " (DANE applies by itself from DNSSEC-signed TLSA records: queue.dane)" : ""));
        }
        return policy;
    }

    /** Whether a session without TLS may carry mail (and so a failed handshake may fall back to plaintext). */
    boolean plaintextAllowed() {
        return this == NONE || this == MAY;
    }
}

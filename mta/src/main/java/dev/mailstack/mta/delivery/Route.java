package dev.mailstack.mta.delivery;

import java.util.Optional;

/**
 * A host to try for a destination domain, in order of preference, with how to talk to it: its
 * TLS policy, for a relay host the login it wants, and under DANE the TLSA records its
 * certificate must match.
 */
public record Route(String host, int port, TlsPolicy tls, Optional<RelayLogin> login, Optional<TlsaRecords> tlsa) {
    public Route {
        // TCP ports are 16 bits and 0 is reserved (IANA): anything else used to pass here and
        // throw only when the socket address was made, in the middle of a delivery attempt
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " of " + host + " is not 1 to 65535");
        }
    }

    public Route(String host, int port) {
        this(host, port, TlsPolicy.MAY, Optional.empty());
    }

    public Route(String host, int port, TlsPolicy tls, Optional<RelayLogin> login) {
        this(host, port, tls, login, Optional.empty());
    }

    public static Route parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new Route(hostPort, 25);
        }
        try {
            return new Route(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected host:port, got " + hostPort);
        }
    }

    /** Whether the host's certificate is checked: the verify policy, or a login that asks for it. */
    public boolean verifies() {
        return tls == TlsPolicy.VERIFY || login.map(RelayLogin::verifyCertificate).orElse(false);
    }

    public Route with(TlsPolicy policy) {
        return new Route(host, port, policy, login, policy == TlsPolicy.DANE ? tlsa : Optional.empty());
    }

    public Route with(RelayLogin relayLogin) {
        return new Route(host, port, tls, Optional.of(relayLogin), tlsa);
    }

    /** Under DANE (RFC 7672 §2.2.3): STARTTLS, and a certificate that one of {@code records} matches. */
    Route with(TlsaRecords records) {
        return new Route(host, port, TlsPolicy.DANE, login, Optional.of(records));
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}

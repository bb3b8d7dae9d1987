package dev.mailstack.net;

import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * What every server-side TLS socket offers, implicit TLS and STARTTLS alike: TLS 1.3 and 1.2
 * only (RFC 8996 retires 1.0 and 1.1), and in TLS 1.2 only ECDHE key exchange with an AEAD cipher.
 * The JDK's defaults would also take TLS 1.2 CBC suites (padding oracles such as Lucky Thirteen),
 * TLS_RSA_* key exchange (no forward secrecy; ROBOT) and TLS_DHE_* (RFC 9325 §4.1: SHOULD NOT,
 * after Raccoon and the lack of group negotiation), depending on the JDK's version and its
 * java.security. This is the set of Mozilla's "intermediate" server profile minus DHE; every mail
 * client of the last decade handshakes with it.
 */
final class TlsSuites {
    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** In the server's order of preference, which {@link #apply} makes the one used. */
    static final List<String> CIPHER_SUITES = List.of(
            // TLS 1.3 (RFC 8446 §9.1): every suite is AEAD and the key exchange is always ephemeral
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            // TLS 1.2: RFC 9325 §4.2's four, then ChaCha20-Poly1305 (RFC 7905) for CPUs without AES instructions
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private TlsSuites() {
    }

    /** Restricts a server socket, before its handshake, to {@link #PROTOCOLS} and {@link #CIPHER_SUITES}. */
    static void apply(SSLSocket socket) {
        SSLParameters params = socket.getSSLParameters();
        params.setProtocols(PROTOCOLS.toArray(String[]::new));
        // A suite this JDK lacks is left out rather than failing every handshake.
        Set<String> supported = Set.of(socket.getSupportedCipherSuites());
        params.setCipherSuites(CIPHER_SUITES.stream().filter(supported::contains).toArray(String[]::new));
        // The server's order, not the client's: ECDSA and AES-128-GCM first where the client can take them.
        params.setUseCipherSuitesOrder(true);
        socket.setSSLParameters(params);
    }
}

package dev.mailstack.mta.delivery;

/**
 * The account mailstack logs in with at a relay host (RFC 4954 AUTH PLAIN or LOGIN). With
 * {@code verifyCertificate} (queue.relay_host_tls_verify, the default) sent only inside TLS to a
 * host whose certificate we verified, so whoever sits on the path, or on a free port of this
 * machine, cannot collect the password; without, inside any TLS or in plaintext to loopback.
 */
public record RelayLogin(String user, String password, boolean verifyCertificate) {
    public RelayLogin(String user, String password) {
        this(user, password, true);
    }

    @Override
    public String toString() {
        return "RelayLogin[" + user + "]"; // never the password, in logs or exceptions
    }
}

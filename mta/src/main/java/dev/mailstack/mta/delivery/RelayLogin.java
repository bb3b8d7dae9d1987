package dev.mailstack.mta.delivery;

/**
 * The account mailstack logs in with at a relay host (RFC 4954 AUTH PLAIN or LOGIN). Sent only
 * inside TLS or to a loopback address, never in the clear across a network; and with
 * {@code verifyCertificate} (queue.relay_host_tls_verify, the default) only to a host whose
 * certificate we verified, so whoever sits on the path cannot collect the password.
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

package dev.mailstack.mta.delivery;

/**
 * The account mailstack logs in with at a relay host (RFC 4954 AUTH PLAIN or LOGIN). Sent only
 * inside TLS or to a loopback address, never in the clear across a network.
 */
public record RelayLogin(String user, String password) {
    @Override
    public String toString() {
        return "RelayLogin[" + user + "]"; // never the password, in logs or exceptions
    }
}

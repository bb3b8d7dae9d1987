package dev.mailstack.pop3d;

import dev.mailstack.net.PlaintextAuth;

/** POP3 policy: the name in greetings and when passwords may go without TLS. */
public record Pop3Settings(String hostname, PlaintextAuth plaintextAuth) {
    public static Pop3Settings defaults(String hostname) {
        return new Pop3Settings(hostname, PlaintextAuth.LOOPBACK);
    }
}

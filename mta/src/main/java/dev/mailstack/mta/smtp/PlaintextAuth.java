package dev.mailstack.mta.smtp;

/** When a password may cross the wire unencrypted. */
public enum PlaintextAuth {
    NEVER, LOOPBACK, ALWAYS;

    public boolean allows(boolean secure, boolean loopback) {
        return secure || this == ALWAYS || (this == LOOPBACK && loopback);
    }
}

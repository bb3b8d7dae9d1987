package dev.mailstack.net;

/** When a password may cross the wire unencrypted (auth.plaintext); shared by SMTP, POP3 and IMAP. */
public enum PlaintextAuth {
    NEVER, LOOPBACK, ALWAYS;

    public boolean allows(boolean secure, boolean loopback) {
        return secure || this == ALWAYS || (this == LOOPBACK && loopback);
    }
}

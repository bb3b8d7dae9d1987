package dev.mailstack.imapd;

/** The command does not parse: answered with BAD and the text, and the session goes on. */
final class ImapSyntaxException extends Exception {
    ImapSyntaxException(String message) {
        super(message);
    }
}

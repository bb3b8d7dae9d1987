package dev.mailstack.pop3d;

/** A command line that does not parse, with the -ERR reply that says why (STYLE.md R2). */
final class Pop3SyntaxException extends Exception {
    private final Pop3Reply reply;

    Pop3SyntaxException(Pop3Reply reply) {
        super(reply.line(), null, false, false);
        this.reply = reply;
    }

    Pop3Reply reply() {
        return reply;
    }
}

package dev.mailstack.mta.smtp;

/** A command line that does not parse; carries the reply to send (500/501/555). */
public final class SmtpSyntaxException extends Exception {
    private final transient SmtpReply reply;

    public SmtpSyntaxException(SmtpReply reply) {
        super(reply.toString());
        this.reply = reply;
    }

    public SmtpReply reply() {
        return reply;
    }
}

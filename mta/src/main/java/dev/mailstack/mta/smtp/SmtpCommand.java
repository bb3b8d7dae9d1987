package dev.mailstack.mta.smtp;

import java.util.Map;
import java.util.Optional;

/** A parsed SMTP command (STYLE.md R2): the session switches over these exhaustively. */
public sealed interface SmtpCommand {
    record Helo(String domain) implements SmtpCommand {
    }

    record Ehlo(String domain) implements SmtpCommand {
    }

    /** LMTP's greeting (RFC 2033 §4.1), in place of EHLO. */
    record Lhlo(String domain) implements SmtpCommand {
    }

    /** {@code from} is empty for the null reverse-path {@code <>}. */
    record Mail(String from, Map<String, String> params) implements SmtpCommand {
    }

    record Rcpt(String to, Map<String, String> params) implements SmtpCommand {
    }

    record Data() implements SmtpCommand {
    }

    record Bdat(long size, boolean last) implements SmtpCommand {
    }

    record Rset() implements SmtpCommand {
    }

    record Noop() implements SmtpCommand {
    }

    record Quit() implements SmtpCommand {
    }

    record Help(String topic) implements SmtpCommand {
    }

    record Vrfy(String argument) implements SmtpCommand {
    }

    record Expn(String argument) implements SmtpCommand {
    }

    record StartTls() implements SmtpCommand {
    }

    record Auth(String mechanism, Optional<String> initialResponse) implements SmtpCommand {
    }
}

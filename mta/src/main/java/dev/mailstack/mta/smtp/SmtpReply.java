package dev.mailstack.mta.smtp;

import java.util.List;

/**
 * One SMTP reply (RFC 5321 §4.2) with its enhanced status code (RFC 3463, RFC 2034). Text with
 * several lines becomes a multi-line reply ("250-a", "250 b").
 */
public record SmtpReply(int code, String enhanced, String text) {
    public SmtpReply {
        if (code < 200 || code > 599) {
            throw new IllegalArgumentException("reply code out of range: " + code);
        }
    }

    public boolean isError() {
        return code >= 400;
    }

    public boolean isPermanent() {
        return code >= 500;
    }

    /** The reply as sent, CRLF after each line. */
    public String wire(boolean enhancedCodes) {
        List<String> lines = text.lines().toList();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            sb.append(code).append(i == lines.size() - 1 ? ' ' : '-');
            if (enhancedCodes && enhanced != null) {
                sb.append(enhanced).append(' ');
            }
            sb.append(lines.get(i)).append("\r\n");
        }
        return sb.toString();
    }

    /** One line for logs and queue records: "550 5.1.1 text". */
    @Override
    public String toString() {
        return code + (enhanced == null ? "" : " " + enhanced) + " " + text.replace('\n', ' ');
    }
}

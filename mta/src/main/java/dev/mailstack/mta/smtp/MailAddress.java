package dev.mailstack.mta.smtp;

/** Syntax of a mailbox in a path (RFC 5321 §4.1.2, RFC 6531 §3.3 for UTF-8). */
final class MailAddress {
    private static final String ATEXT = "!#$%&'*+-/=?^_`{|}~";

    private MailAddress() {
    }

    static void check(String address) throws SmtpSyntaxException {
        int at = address.lastIndexOf('@');
        if (at <= 0 || at == address.length() - 1) {
            throw new SmtpSyntaxException(SmtpReplies.badAddress("expected local-part@domain"));
        }
        String local = address.substring(0, at);
        String domain = address.substring(at + 1);
        if (address.length() > 320 || local.length() > 256) {
            throw new SmtpSyntaxException(SmtpReplies.badAddress("address too long"));
        }
        if (local.startsWith("\"")) {
            if (local.length() < 2 || !local.endsWith("\"")) {
                throw new SmtpSyntaxException(SmtpReplies.badAddress("unterminated quoted local part"));
            }
            for (int i = 1; i < local.length() - 1; i++) {
                char c = local.charAt(i);
                if (c == '\\') {
                    i++;
                } else if (c == '"' || c < 0x20) {
                    throw new SmtpSyntaxException(SmtpReplies.badAddress("bad character in quoted local part"));
                }
            }
        } else {
            for (String atom : local.split("\\.", -1)) {
                if (atom.isEmpty() || !atom.codePoints().allMatch(MailAddress::isAtext)) {
                    throw new SmtpSyntaxException(SmtpReplies.badAddress("bad local part " + local));
                }
            }
        }
        if (domain.startsWith("[")) {
            if (!domain.endsWith("]")) {
                throw new SmtpSyntaxException(SmtpReplies.badAddress("unterminated address literal"));
            }
            return;
        }
        for (String label : domain.split("\\.", -1)) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")
                    || !label.codePoints().allMatch(c -> Character.isLetterOrDigit(c) || c == '-')) {
                throw new SmtpSyntaxException(SmtpReplies.badAddress("bad domain " + domain));
            }
        }
    }

    /** Whether {@code address} passes {@link #check}: for addresses that come from elsewhere than a client. */
    static boolean isValid(String address) {
        try {
            check(address);
            return true;
        } catch (SmtpSyntaxException e) {
            return false;
        }
    }

    private static boolean isAtext(int c) {
        return (c < 0x80 && (Character.isLetterOrDigit(c) || ATEXT.indexOf(c) >= 0)) || c >= 0x80;
    }

    static boolean isAscii(String s) {
        return s.chars().allMatch(c -> c < 0x80);
    }
}

package dev.mailstack.mta.smtp;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Turns one command line into an {@link SmtpCommand}; pure, no I/O, so it is tested on its own. */
public final class SmtpParser {
    private SmtpParser() {
    }

    public static SmtpCommand parse(String line) throws SmtpSyntaxException {
        String trimmed = line.strip();
        int sp = trimmed.indexOf(' ');
        String verb = (sp < 0 ? trimmed : trimmed.substring(0, sp)).toUpperCase(Locale.ROOT);
        String arg = sp < 0 ? "" : trimmed.substring(sp + 1).strip();
        return switch (verb) {
            case "HELO" -> new SmtpCommand.Helo(requireDomain(arg, "HELO your.host.name"));
            case "EHLO" -> new SmtpCommand.Ehlo(requireDomain(arg, "EHLO your.host.name"));
            case "LHLO" -> new SmtpCommand.Lhlo(requireDomain(arg, "LHLO your.host.name"));
            case "MAIL" -> mail(arg);
            case "RCPT" -> rcpt(arg);
            case "DATA" -> noArgument(arg, "DATA", new SmtpCommand.Data());
            case "BDAT" -> bdat(arg);
            case "RSET" -> noArgument(arg, "RSET", new SmtpCommand.Rset());
            case "NOOP" -> new SmtpCommand.Noop(); // RFC 5321 §4.1.1.9: the argument is ignored
            case "QUIT" -> noArgument(arg, "QUIT", new SmtpCommand.Quit());
            case "HELP" -> new SmtpCommand.Help(arg);
            case "VRFY" -> new SmtpCommand.Vrfy(requireArgument(arg, "VRFY <address>"));
            case "EXPN" -> new SmtpCommand.Expn(requireArgument(arg, "EXPN <list>"));
            case "STARTTLS" -> noArgument(arg, "STARTTLS", new SmtpCommand.StartTls());
            case "AUTH" -> auth(arg);
            default -> throw new SmtpSyntaxException(SmtpReplies.UNKNOWN_COMMAND);
        };
    }

    private static SmtpCommand noArgument(String arg, String usage, SmtpCommand command) throws SmtpSyntaxException {
        if (!arg.isEmpty()) {
            throw new SmtpSyntaxException(SmtpReplies.syntax(usage + " takes no argument"));
        }
        return command;
    }

    private static String requireArgument(String arg, String usage) throws SmtpSyntaxException {
        if (arg.isEmpty()) {
            throw new SmtpSyntaxException(SmtpReplies.syntax(usage));
        }
        return arg;
    }

    private static String requireDomain(String arg, String usage) throws SmtpSyntaxException {
        String d = requireArgument(arg, usage);
        if (d.contains(" ") || d.chars().anyMatch(c -> c < 0x21 && c != ' ')) {
            throw new SmtpSyntaxException(SmtpReplies.syntax(usage));
        }
        return d;
    }

    private static SmtpCommand mail(String arg) throws SmtpSyntaxException {
        String rest = prefix(arg, "FROM:", "MAIL FROM:<address> [parameters]");
        Path p = path(rest, true);
        return new SmtpCommand.Mail(p.address(), params(p.rest()));
    }

    private static SmtpCommand rcpt(String arg) throws SmtpSyntaxException {
        String rest = prefix(arg, "TO:", "RCPT TO:<address> [parameters]");
        Path p = path(rest, false);
        if (p.address().isEmpty()) {
            throw new SmtpSyntaxException(SmtpReplies.badAddress("a recipient cannot be empty"));
        }
        return new SmtpCommand.Rcpt(p.address(), params(p.rest()));
    }

    private static String prefix(String arg, String prefix, String usage) throws SmtpSyntaxException {
        if (!arg.regionMatches(true, 0, prefix, 0, prefix.length())) {
            throw new SmtpSyntaxException(SmtpReplies.syntax(usage));
        }
        // Tolerate "MAIL FROM: <a@b>" as Postfix does; telnet users type it.
        return arg.substring(prefix.length()).stripLeading();
    }

    record Path(String address, String rest) {
    }

    /** A path in angle brackets, or (tolerated, for hand-typed sessions) a bare address. */
    static Path path(String text, boolean allowNull) throws SmtpSyntaxException {
        String address;
        String rest;
        if (text.startsWith("<")) {
            int end = closingBracket(text);
            address = text.substring(1, end);
            rest = text.substring(end + 1).strip();
        } else {
            int sp = text.indexOf(' ');
            address = sp < 0 ? text : text.substring(0, sp);
            rest = sp < 0 ? "" : text.substring(sp + 1).strip();
        }
        // RFC 5321 §4.1.1.3: source routes ("@a,@b:") are accepted and ignored.
        if (address.startsWith("@")) {
            int colon = address.indexOf(':');
            if (colon < 0) {
                throw new SmtpSyntaxException(SmtpReplies.badAddress("source route without ':'"));
            }
            address = address.substring(colon + 1);
        }
        if (address.isEmpty()) {
            if (!allowNull) {
                throw new SmtpSyntaxException(SmtpReplies.badAddress("a recipient cannot be empty"));
            }
            return new Path("", rest);
        }
        MailAddress.check(address);
        return new Path(address, rest);
    }

    private static int closingBracket(String text) throws SmtpSyntaxException {
        boolean quoted = false;
        for (int i = 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && quoted) {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (c == '>' && !quoted) {
                return i;
            }
        }
        throw new SmtpSyntaxException(SmtpReplies.badAddress("missing '>'"));
    }

    /** ESMTP parameters (RFC 5321 §4.1.2): keyword[=value], keywords case-insensitive, kept upper case. */
    static Map<String, String> params(String text) throws SmtpSyntaxException {
        Map<String, String> out = new LinkedHashMap<>();
        if (text.isEmpty()) {
            return out;
        }
        for (String p : text.split(" +")) {
            int eq = p.indexOf('=');
            String key = (eq < 0 ? p : p.substring(0, eq)).toUpperCase(Locale.ROOT);
            if (key.isEmpty() || !key.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-')) {
                throw new SmtpSyntaxException(SmtpReplies.syntax("bad parameter " + p));
            }
            if (out.put(key, eq < 0 ? "" : p.substring(eq + 1)) != null) {
                throw new SmtpSyntaxException(SmtpReplies.syntax("parameter " + key + " given twice"));
            }
        }
        return out;
    }

    private static SmtpCommand bdat(String arg) throws SmtpSyntaxException {
        String[] parts = arg.split(" +");
        try {
            if (parts.length < 1 || parts.length > 2 || parts[0].isEmpty()) {
                throw new NumberFormatException();
            }
            long size = Long.parseLong(parts[0]);
            if (size < 0) {
                throw new NumberFormatException();
            }
            boolean last = parts.length == 2;
            if (last && !parts[1].equalsIgnoreCase("LAST")) {
                throw new NumberFormatException();
            }
            return new SmtpCommand.Bdat(size, last);
        } catch (NumberFormatException e) {
            throw new SmtpSyntaxException(SmtpReplies.syntax("BDAT <size> [LAST]"));
        }
    }

    private static SmtpCommand auth(String arg) throws SmtpSyntaxException {
        String[] parts = arg.split(" +");
        if (arg.isEmpty() || parts.length > 2) {
            throw new SmtpSyntaxException(SmtpReplies.syntax("AUTH <mechanism> [initial-response]"));
        }
        return new SmtpCommand.Auth(parts[0].toUpperCase(Locale.ROOT),
                parts.length == 2 ? Optional.of(parts[1]) : Optional.empty());
    }
}

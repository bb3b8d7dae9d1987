package dev.mailstack.managesieve;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Turns a command's tokens into a {@link ManageSieveCommand}; pure, no I/O (STYLE.md R2). */
final class ManageSieveParser {
    /** RFC 5804 §4: number = 1*DIGIT, below 4,294,967,296. */
    private static final long MAX_NUMBER = 4_294_967_295L;

    private ManageSieveParser() {
    }

    static ManageSieveCommand parse(List<Token> tokens) throws ManageSieveSyntaxException {
        if (tokens.isEmpty() || !(tokens.get(0) instanceof Token.Atom name)) {
            throw new ManageSieveSyntaxException(ManageSieveReplies.EXPECTED_COMMAND);
        }
        List<Token> args = tokens.subList(1, tokens.size());
        // RFC 5804 §4: command names are case-insensitive
        return switch (name.text().toUpperCase(Locale.ROOT)) {
            case "CAPABILITY" -> none(args, new ManageSieveCommand.Capability());
            case "STARTTLS" -> none(args, new ManageSieveCommand.StartTls());
            case "LOGOUT" -> none(args, new ManageSieveCommand.Logout());
            case "UNAUTHENTICATE" -> none(args, new ManageSieveCommand.Unauthenticate());
            case "LISTSCRIPTS" -> none(args, new ManageSieveCommand.ListScripts());
            case "AUTHENTICATE" -> {
                if (args.isEmpty() || args.size() > 2) {
                    throw new ManageSieveSyntaxException(ManageSieveReplies.usage("AUTHENTICATE \"PLAIN\" [\"initial response\"]"));
                }
                yield new ManageSieveCommand.Authenticate(string(args, 0, "AUTHENTICATE").toUpperCase(Locale.ROOT),
                        args.size() == 2 ? Optional.of(string(args, 1, "AUTHENTICATE")) : Optional.empty());
            }
            case "NOOP" -> {
                if (args.size() > 1) {
                    throw new ManageSieveSyntaxException(ManageSieveReplies.usage("NOOP [\"tag\"]"));
                }
                yield new ManageSieveCommand.Noop(args.isEmpty() ? Optional.empty() : Optional.of(string(args, 0, "NOOP")));
            }
            case "HAVESPACE" -> {
                count(args, 2, "HAVESPACE \"name\" size");
                yield new ManageSieveCommand.HaveSpace(string(args, 0, "HAVESPACE"), number(args.get(1)));
            }
            case "PUTSCRIPT" -> {
                count(args, 2, "PUTSCRIPT \"name\" {octets+}");
                yield new ManageSieveCommand.PutScript(string(args, 0, "PUTSCRIPT"), string(args, 1, "PUTSCRIPT"));
            }
            case "SETACTIVE" -> {
                count(args, 1, "SETACTIVE \"name\" (\"\" to deactivate)");
                yield new ManageSieveCommand.SetActive(string(args, 0, "SETACTIVE"));
            }
            case "GETSCRIPT" -> {
                count(args, 1, "GETSCRIPT \"name\"");
                yield new ManageSieveCommand.GetScript(string(args, 0, "GETSCRIPT"));
            }
            case "DELETESCRIPT" -> {
                count(args, 1, "DELETESCRIPT \"name\"");
                yield new ManageSieveCommand.DeleteScript(string(args, 0, "DELETESCRIPT"));
            }
            case "RENAMESCRIPT" -> {
                count(args, 2, "RENAMESCRIPT \"old name\" \"new name\"");
                yield new ManageSieveCommand.RenameScript(string(args, 0, "RENAMESCRIPT"), string(args, 1, "RENAMESCRIPT"));
            }
            case "CHECKSCRIPT" -> {
                count(args, 1, "CHECKSCRIPT {octets+}");
                yield new ManageSieveCommand.CheckScript(string(args, 0, "CHECKSCRIPT"));
            }
            default -> throw new ManageSieveSyntaxException(ManageSieveReplies.UNKNOWN);
        };
    }

    private static ManageSieveCommand none(List<Token> args, ManageSieveCommand command) throws ManageSieveSyntaxException {
        if (!args.isEmpty()) {
            throw new ManageSieveSyntaxException(ManageSieveReplies.TOO_MANY_ARGUMENTS);
        }
        return command;
    }

    private static void count(List<Token> args, int wanted, String usage) throws ManageSieveSyntaxException {
        if (args.size() != wanted) {
            throw new ManageSieveSyntaxException(ManageSieveReplies.usage(usage));
        }
    }

    /** RFC 5804 §4: arguments are strings, quoted or literal; a bare word is an error, not a name. */
    private static String string(List<Token> args, int index, String command) throws ManageSieveSyntaxException {
        if (args.get(index) instanceof Token.Str s) {
            return s.text();
        }
        throw new ManageSieveSyntaxException(ManageSieveReplies.stringExpected(command));
    }

    private static long number(Token token) throws ManageSieveSyntaxException {
        if (token instanceof Token.Atom a && !a.text().isEmpty() && a.text().length() <= 10
                && a.text().chars().allMatch(c -> c >= '0' && c <= '9')) {
            long n = Long.parseLong(a.text());
            if (n <= MAX_NUMBER) {
                return n;
            }
        }
        throw new ManageSieveSyntaxException(ManageSieveReplies.BAD_NUMBER);
    }
}

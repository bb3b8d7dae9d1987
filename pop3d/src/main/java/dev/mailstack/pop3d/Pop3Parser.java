package dev.mailstack.pop3d;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Turns one command line into a {@link Pop3Command}; pure, no I/O (STYLE.md R2). */
final class Pop3Parser {
    private Pop3Parser() {
    }

    static Pop3Command parse(String line) throws Pop3SyntaxException {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            // RFC 1939 §3: keywords and arguments are printable ASCII; we also allow TAB and
            // UTF-8 in passwords and user names (Thunderbird sends them as typed), but no controls.
            if (c < 0x20 && c != '\t' || c == 0x7f) {
                throw new Pop3SyntaxException(Pop3Replies.CONTROL_CHARACTERS);
            }
        }
        // Deviation from RFC 1939 §3 ("separated by a single SPACE"): surrounding blanks are
        // forgiven, as telnet users leave them.
        String trimmed = line.strip();
        int sp = firstBlank(trimmed); // a TAB too, as between arguments: "LIST<TAB>1" was an unknown command
        String keyword = (sp < 0 ? trimmed : trimmed.substring(0, sp)).toUpperCase(Locale.ROOT);
        String rest = sp < 0 ? "" : trimmed.substring(sp + 1);
        return switch (keyword) {
            case "USER" -> {
                String name = rest.strip();
                if (name.isEmpty()) {
                    throw new Pop3SyntaxException(Pop3Replies.USER_NEEDS_NAME);
                }
                yield new Pop3Command.User(name);
            }
            // The password is everything after the single space, spaces included.
            case "PASS" -> new Pop3Command.Pass(sp < 0 ? "" : line.stripLeading().substring(sp + 1));
            case "AUTH" -> {
                List<String> args = words(rest, 2);
                yield new Pop3Command.Auth(args.isEmpty() ? Optional.empty() : Optional.of(args.get(0).toUpperCase(Locale.ROOT)),
                        args.size() < 2 ? Optional.empty() : Optional.of(args.get(1)));
            }
            case "APOP" -> new Pop3Command.Apop();
            case "STLS" -> noArguments(rest, new Pop3Command.Stls());
            case "CAPA" -> noArguments(rest, new Pop3Command.Capa());
            case "QUIT" -> noArguments(rest, new Pop3Command.Quit());
            case "STAT" -> noArguments(rest, new Pop3Command.Stat());
            case "NOOP" -> noArguments(rest, new Pop3Command.Noop());
            case "RSET" -> noArguments(rest, new Pop3Command.Rset());
            case "LIST" -> new Pop3Command.List(optionalNumber(rest));
            case "UIDL" -> new Pop3Command.Uidl(optionalNumber(rest));
            case "RETR" -> new Pop3Command.Retr(requiredNumber(rest));
            case "DELE" -> new Pop3Command.Dele(requiredNumber(rest));
            case "TOP" -> {
                List<String> args = words(rest, 2);
                if (args.size() != 2) {
                    throw new Pop3SyntaxException(Pop3Replies.TOP_USAGE);
                }
                int message = number(args.get(0));
                if (!digits(args.get(1))) {
                    throw new Pop3SyntaxException(Pop3Replies.BAD_LINE_COUNT);
                }
                long lines;
                try {
                    lines = Long.parseLong(args.get(1));
                } catch (NumberFormatException e) {
                    lines = Long.MAX_VALUE; // more lines than any message has: the whole body
                }
                yield new Pop3Command.Top(message, lines);
            }
            default -> throw new Pop3SyntaxException(Pop3Replies.UNKNOWN);
        };
    }

    private static int firstBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') {
                return i;
            }
        }
        return -1;
    }

    private static Pop3Command noArguments(String rest, Pop3Command command) throws Pop3SyntaxException {
        if (!rest.isBlank()) {
            throw new Pop3SyntaxException(Pop3Replies.TOO_MANY_ARGUMENTS);
        }
        return command;
    }

    private static Optional<Integer> optionalNumber(String rest) throws Pop3SyntaxException {
        List<String> args = words(rest, 1);
        return args.isEmpty() ? Optional.empty() : Optional.of(number(args.get(0)));
    }

    private static int requiredNumber(String rest) throws Pop3SyntaxException {
        List<String> args = words(rest, 1);
        if (args.isEmpty()) {
            throw new Pop3SyntaxException(Pop3Replies.NEED_NUMBER);
        }
        return number(args.get(0));
    }

    /** RFC 1939 §3 msg: a positive decimal; 0 and numbers past any maildrop are "no such message". */
    private static int number(String word) throws Pop3SyntaxException {
        if (!digits(word)) {
            throw new Pop3SyntaxException(Pop3Replies.BAD_NUMBER);
        }
        int n;
        try {
            n = Integer.parseInt(word);
        } catch (NumberFormatException e) {
            throw new Pop3SyntaxException(Pop3Replies.NO_SUCH_MESSAGE);
        }
        if (n < 1) {
            throw new Pop3SyntaxException(Pop3Replies.NO_SUCH_MESSAGE);
        }
        return n;
    }

    private static boolean digits(String word) {
        if (word.isEmpty()) {
            return false;
        }
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** Up to {@code max} space-separated words; more is a syntax error. */
    private static List<String> words(String rest, int max) throws Pop3SyntaxException {
        List<String> out = new ArrayList<>();
        for (String w : rest.strip().split("[ \t]+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        if (out.size() > max) {
            throw new Pop3SyntaxException(Pop3Replies.TOO_MANY_ARGUMENTS);
        }
        return out;
    }
}

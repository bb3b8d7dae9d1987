package dev.mailstack.mime;

import java.util.ArrayList;
import java.util.List;

/**
 * RFC 5322 §3.4 address lists as IMAP's ENVELOPE wants them (RFC 3501 §7.4.2): display name,
 * mailbox and host per address, and groups as a start marker (host null, mailbox = group name)
 * and an end marker (all null). Tolerant: bare addresses, comments as names, missing brackets.
 */
public final class AddressList {
    /** One address; {@code name} is raw (may hold encoded-words). */
    public record Address(String name, String mailbox, String host) {
        public boolean isGroupStart() {
            return host == null && mailbox != null;
        }

        public boolean isGroupEnd() {
            return host == null && mailbox == null;
        }
    }

    private AddressList() {
    }

    public static List<Address> parse(String text) {
        List<Address> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        List<String> items = split(text, ',');
        for (String item : items) {
            String s = item.strip();
            if (s.isEmpty()) {
                continue;
            }
            int colon = indexOutside(s, ':');
            if (colon > 0 && indexOutside(s, '<') < 0 || colon > 0 && colon < indexOutside(s, '<')) {
                // "group: first member" (members continue in the following items up to ';')
                out.add(new Address(null, unquote(s.substring(0, colon).strip()), null));
                s = s.substring(colon + 1).strip();
                if (s.isEmpty()) {
                    continue;
                }
            }
            boolean groupEnds = s.endsWith(";");
            if (groupEnds) {
                s = s.substring(0, s.length() - 1).strip();
            }
            if (!s.isEmpty()) {
                out.add(mailbox(s));
            }
            if (groupEnds) {
                out.add(new Address(null, null, null));
            }
        }
        return out;
    }

    private static Address mailbox(String s) {
        int lt = indexOutside(s, '<');
        String name = null;
        String addr;
        if (lt >= 0) {
            int gt = s.indexOf('>', lt);
            addr = s.substring(lt + 1, gt < 0 ? s.length() : gt).strip();
            String n = s.substring(0, lt).strip();
            name = n.isEmpty() ? null : unquote(n);
        } else {
            // addr-spec with comments (RFC 5322 §3.2.2): a comment after the address, "a@b (Name)",
            // stands in for the display name as mail readers show it; one before it is dropped,
            // as Dovecot does
            StringBuilder rest = new StringBuilder();
            boolean restHasText = false; // kept as it goes: asking rest at every ")" was quadratic
            StringBuilder comment = new StringBuilder();
            int depth = 0;
            boolean quoted = false;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' && depth == 0) {
                    quoted = !quoted;
                } else if (!quoted && c == '(') {
                    if (depth++ == 0) {
                        continue;
                    }
                } else if (!quoted && c == ')' && depth > 0) {
                    if (--depth == 0) {
                        if (name == null && restHasText) {
                            name = comment.toString().strip();
                        }
                        comment.setLength(0);
                        continue;
                    }
                }
                if (depth > 0) {
                    comment.append(c);
                } else {
                    rest.append(c);
                    restHasText |= !Character.isWhitespace(c);
                }
            }
            if (depth > 0 && name == null && restHasText) {
                name = comment.toString().strip(); // unclosed comment
            }
            if (name != null && name.isEmpty()) {
                name = null;
            }
            addr = rest.toString().strip();
        }
        if (addr.startsWith("@") && addr.contains(":")) {
            addr = addr.substring(addr.indexOf(':') + 1); // obsolete route
        }
        int at = addr.lastIndexOf('@');
        if (at < 0) {
            return new Address(name, addr.isEmpty() ? null : addr, "");
        }
        return new Address(name, addr.substring(0, at), addr.substring(at + 1));
    }

    private static List<String> split(String s, char sep) {
        List<String> out = new ArrayList<>();
        boolean quoted = false;
        int depth = 0;
        boolean angle = false;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && quoted) {
                i++;
            } else if (c == '"') {
                quoted = !quoted;
            } else if (!quoted && c == '(') {
                depth++;
            } else if (!quoted && c == ')' && depth > 0) {
                depth--;
            } else if (!quoted && depth == 0 && c == '<') {
                angle = true;
            } else if (!quoted && depth == 0 && c == '>') {
                angle = false;
            } else if (!quoted && depth == 0 && !angle && (c == sep || c == ';')) {
                out.add(s.substring(start, c == ';' ? i + 1 : i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }

    private static int indexOutside(String s, char target) {
        return HeaderSyntax.indexOutsideQuotes(s, target, 0);
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            return HeaderSyntax.unescape(s.substring(1, s.length() - 1));
        }
        return s;
    }
}

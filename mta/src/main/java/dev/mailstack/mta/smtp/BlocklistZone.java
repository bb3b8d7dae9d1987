package dev.mailstack.mta.smtp;

import dev.mailstack.net.HostName;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One list of smtp.dnsbl: its zone, and which answers count as a listing. Without a filter, any
 * address in 127.0.0.0/8 but 127.0.0.1 (RFC 5782 §2.3, §5); with one, written as Postfix writes it
 * ({@code zen.spamhaus.org=127.0.0.[2..11]}), only the answers it matches: each of the four octets
 * a number or a bracketed list of numbers and ranges ({@code [2;4..7]}). That is how one list's
 * answers are told apart (Spamhaus's 127.0.0.10 and .11 name dial-up ranges, which a submission
 * server would accept but an MX refuses).
 */
record BlocklistZone(String name, List<List<int[]>> octets) {
    BlocklistZone {
        octets = List.copyOf(octets);
    }

    /** "zone" or "zone=d.d.d.d"; IllegalArgumentException saying what is wrong. */
    static BlocklistZone parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        int eq = t.indexOf('=');
        String name = eq < 0 ? t : t.substring(0, eq);
        if (!HostName.isValid(name)) {
            throw new IllegalArgumentException("not a DNS zone: " + name);
        }
        if (eq < 0) {
            return new BlocklistZone(name, List.of());
        }
        String filter = t.substring(eq + 1);
        List<String> parts = new ArrayList<>();
        int start = 0;
        boolean inBrackets = false;
        for (int i = 0; i <= filter.length(); i++) {
            char c = i < filter.length() ? filter.charAt(i) : '.';
            if (c == '[' || c == ']') {
                inBrackets = c == '[';
            } else if (c == '.' && !inBrackets) {
                parts.add(filter.substring(start, i)); // a dot outside brackets ends an octet; inside, it is a range's ".."
                start = i + 1;
            }
        }
        if (parts.size() != 4) {
            throw new IllegalArgumentException("answer filter " + filter + ": want four octets, e.g. 127.0.0.[2..11]");
        }
        List<List<int[]>> octets = new ArrayList<>();
        for (String part : parts) {
            octets.add(octet(part, filter));
        }
        return new BlocklistZone(name, octets);
    }

    private static List<int[]> octet(String part, String filter) {
        boolean bracketed = part.startsWith("[") && part.endsWith("]");
        List<int[]> ranges = new ArrayList<>();
        for (String item : (bracketed ? part.substring(1, part.length() - 1) : part).split(";", -1)) {
            int dots = item.indexOf("..");
            int low = number(dots < 0 ? item : item.substring(0, dots), filter);
            int high = dots < 0 ? low : number(item.substring(dots + 2), filter);
            if (low > high || !bracketed && (dots >= 0 || part.contains(";"))) {
                throw new IllegalArgumentException("answer filter " + filter + ": bad octet " + part);
            }
            ranges.add(new int[]{low, high});
        }
        return ranges;
    }

    private static int number(String text, String filter) {
        if (!text.matches("[0-9]{1,3}") || Integer.parseInt(text) > 255) {
            throw new IllegalArgumentException("answer filter " + filter + ": " + text + " is not an octet");
        }
        return Integer.parseInt(text);
    }

    /** Whether an A record's address (dotted) says the client is listed. */
    boolean lists(String answer) {
        if (octets.isEmpty()) {
            return answer.startsWith("127.") && !answer.equals("127.0.0.1");
        }
        String[] parts = answer.split("\\.");
        if (parts.length != 4) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            int value = Integer.parseInt(parts[i]);
            if (octets.get(i).stream().noneMatch(r -> r[0] <= value && value <= r[1])) {
                return false;
            }
        }
        return true;
    }
}

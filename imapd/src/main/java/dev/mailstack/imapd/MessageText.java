package dev.mailstack.imapd;

import dev.mailstack.mime.MailCharset;
import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.Rfc2047;
import dev.mailstack.mime.TextExtractor;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Header and body text for SEARCH, decoded from the stored message. */
final class MessageText {
    private static final Pattern DATE = Pattern.compile("(\\d{1,2})\\s+([A-Za-z]{3})[a-z]*\\s+(\\d{2,4})");

    private MessageText() {
    }

    /** Where the header ends (after the blank line), or the whole array when there is none. */
    static int headerEnd(byte[] b) {
        for (int i = 0; i + 1 < b.length; i++) {
            if (b[i] == '\n' && (b[i + 1] == '\n' || (b[i + 1] == '\r' && i + 2 < b.length && b[i + 2] == '\n'))) {
                return b[i + 1] == '\n' ? i + 2 : i + 3;
            }
        }
        return b.length;
    }

    static String headerText(byte[] b, int end) {
        return MailCharset.guess(b, 0, end, MailCharset.DEFAULT_FALLBACK);
    }

    /** Unfolded values of every field with this name (case-insensitive). */
    static List<String> headerValues(String header, String field) {
        List<String> out = new ArrayList<>();
        String[] lines = header.split("\r?\n");
        String wanted = field.toLowerCase(Locale.ROOT);
        StringBuilder current = null;
        for (String line : lines) {
            if (!line.isEmpty() && (line.charAt(0) == ' ' || line.charAt(0) == '\t')) {
                if (current != null) {
                    current.append(line);
                }
                continue;
            }
            if (current != null) {
                out.add(current.toString().strip());
                current = null;
            }
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals(wanted)) {
                current = new StringBuilder(line.substring(colon + 1));
            }
        }
        if (current != null) {
            out.add(current.toString().strip());
        }
        return out;
    }

    /** RFC 5322 §2.2.3: a line break followed by white space is folding, and unfolding removes the break. */
    static String unfold(String header) {
        return header.replaceAll("\r?\n(?=[ \t])", "");
    }

    static String decodeHeader(String value) {
        return Rfc2047.decode(value);
    }

    /** The calendar date of a Date: header (RFC 5322 §3.3), ignoring the time and zone as RFC 3501 does. */
    static Optional<LocalDate> date(String value) {
        Matcher m = DATE.matcher(value);
        if (!m.find()) {
            return Optional.empty();
        }
        try {
            int year = Integer.parseInt(m.group(3));
            if (year < 100) {
                year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3 obsolete two-digit years
            }
            String month = m.group(2).substring(0, 1).toUpperCase(Locale.ROOT) + m.group(2).substring(1, 3).toLowerCase(Locale.ROOT);
            return Optional.of(LocalDate.parse(m.group(1) + "-" + month + "-" + year,
                    DateTimeFormatter.ofPattern("d-MMM-yyyy", Locale.ROOT)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    static String bodyText(StoreSession store, MessageRef r, MessageSummary summary) throws IOException {
        return TextExtractor.bodyText(summary, offset -> store.openContent(r, offset));
    }
}

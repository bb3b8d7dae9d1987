package dev.mailstack.mta.smtp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The lines of one of postgrey's whitelist files (whitelist_clients, whitelist_recipients): one
 * entry a line, {@code #} comments and blank lines ignored, {@code /regex/} for a regular
 * expression. Read once, at start and on SIGHUP; a line that is no entry is an error naming the
 * file and the line, so a typo cannot silently whitelist nothing (or everything).
 */
final class WhitelistFile {
    /** One entry, with where it was written, for the error a bad one makes. */
    record Line(Path file, int number, String text) {
        IllegalArgumentException error(String why) {
            return new IllegalArgumentException(file + ":" + number + ": " + text + ": " + why);
        }

        boolean isRegex() {
            return text.length() >= 2 && text.startsWith("/") && text.endsWith("/");
        }

        /**
         * postgrey compiles {@code /re/} case-insensitively (Perl's {@code qr{re}i}); Java's regular
         * expressions read Perl's common syntax the same way, and what they do not know is an error here.
         */
        Pattern regex() {
            try {
                return Pattern.compile(text.substring(1, text.length() - 1), Pattern.CASE_INSENSITIVE);
            } catch (PatternSyntaxException e) {
                throw error("not a regular expression (" + e.getDescription() + ")");
            }
        }
    }

    private WhitelistFile() {
    }

    /** The entries of {@code file}, stripped; {@link IOException} when it cannot be read as UTF-8. */
    static List<Line> read(Path file) throws IOException {
        List<Line> out = new ArrayList<>();
        int number = 0;
        String text = StandardCharsets.UTF_8.newDecoder()
                .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        for (String raw : text.split("\r?\n", -1)) {
            number++;
            String line = raw.strip();
            if (!line.isEmpty() && !line.startsWith("#")) {
                out.add(new Line(file, number, line));
            }
        }
        return out;
    }

    /** A DNS name as written in a list: letters, digits, hyphens and underscores in dot-separated labels. */
    static boolean isDomain(String text) {
        if (text.length() > 253 || text.startsWith(".") || text.endsWith(".") || text.contains("..")) {
            return false;
        }
        for (String label : text.split("\\.")) {
            if (label.isEmpty() || label.length() > 63 || !label.chars().allMatch(c -> c < 128
                    && (Character.isLetterOrDigit(c) || c == '-' || c == '_'))) {
                return false;
            }
        }
        return true;
    }
}

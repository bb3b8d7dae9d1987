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
 * entry a line, {@code #} comments (whole lines, or after an entry and a space) and blank lines ignored,
 * {@code /regex/} for a regular expression. Read once, at start and on SIGHUP; a line that is no entry is an error naming the
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
            if (text.length() == 2) {
                throw error("an empty expression matches everything"); // postgrey wants ^/(\S+)/$
            }
            try {
                return Pattern.compile(text.substring(1, text.length() - 1), Pattern.CASE_INSENSITIVE);
            } catch (PatternSyntaxException e) {
                throw error("not a regular expression (" + e.getDescription() + ")");
            }
        }
    }

    private WhitelistFile() {
    }

    /**
     * Larger than any real list (postgrey's whitelist_clients is about 20 KB): the wrong file (a log,
     * /dev/zero) named by mistake, read at a SIGHUP, must not run the server out of memory.
     */
    static final int MAX_FILE_BYTES = 4 * 1024 * 1024;
    /** A '#' at the start of a line or after white space begins a comment. */
    private static final Pattern COMMENT = Pattern.compile("(^|\\s)#");

    /** The entries of {@code file}, stripped; {@link IOException} when it cannot be read as UTF-8 or is too large. */
    static List<Line> read(Path file) throws IOException {
        List<Line> out = new ArrayList<>();
        int number = 0;
        byte[] bytes;
        try (java.io.InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_FILE_BYTES + 1);
        }
        if (bytes.length > MAX_FILE_BYTES) {
            throw new IOException("larger than " + MAX_FILE_BYTES / (1024 * 1024) + " MiB: not a whitelist file?");
        }
        String text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1); // a byte order mark some editors write
        }
        for (String raw : text.split("\r?\n", -1)) {
            number++;
            // a comment may follow an entry, after a space (postgrey cuts at any '#'; here a '#'
            // inside a /regex/ stays part of it)
            java.util.regex.Matcher comment = COMMENT.matcher(raw);
            String line = (comment.find() ? raw.substring(0, comment.start()) : raw).strip();
            if (!line.isEmpty()) {
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

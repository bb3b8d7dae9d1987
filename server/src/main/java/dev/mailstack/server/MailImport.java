package dev.mailstack.server;

import dev.mailstack.imapd.ModifiedUtf7;
import dev.mailstack.store.Flag;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import dev.mailstack.store.StoreException;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Brings mail over from Dovecot (Maildir) or an mbox file, one message at a time through a draft
 * of the target (a spool file, or chunks to the running server), so memory stays bounded whatever
 * the size. Lines are stored with CRLF, as mail is served.
 */
final class MailImport {
    private final ImportTarget target;
    private int imported;
    private int skippedLines;
    private int skippedLinks;
    /** Maildir folder names with a '&' that is not modified UTF-7 in its one form, kept as written. */
    private final List<String> namesAsWritten = new ArrayList<>();

    MailImport(ImportTarget target) {
        this.target = target;
    }

    int imported() {
        return imported;
    }

    /**
     * mbox (mboxo and mboxrd): a From_ line starts each message; ">From " lines lose one '>'. RFC
     * 4155 §2: a From_ line comes first in the file or after an empty line (the one that ends the
     * message before it) and carries a timestamp; a body line "From here on..." that a writer
     * failed to quote is text, not the start of a headerless message (Dovecot and mutt check the
     * same). Text before the first From_ line is no message: it is counted, and a file with
     * text but no From_ line at all is refused as no mbox.
     */
    void mbox(Path file, MailboxName mailbox) throws IOException {
        if (Files.isDirectory(file)) {
            throw new CommandFailure(file + " is a folder, not an mbox file (import maildir takes folders)");
        }
        target.ensure(mailbox);
        int messagesBefore = imported;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
            ImportTarget.Draft draft = null;
            Instant date = Instant.now();
            boolean afterEmptyLine = true; // the start of the file counts as one
            long lineNumber = 0;
            long messageLine = 0; // the From_ line of the message being read, which a failure names
            try {
                for (byte[] line; (line = line(in)) != null; ) {
                    lineNumber++;
                    if (afterEmptyLine && isFromLine(line)) {
                        if (draft != null) {
                            store(draft, mailbox, Flags.NONE, date, file + ":" + messageLine);
                            draft = null;
                        }
                        draft = target.draft();
                        messageLine = lineNumber;
                        date = fromLineDate(line).orElseGet(Instant::now);
                        afterEmptyLine = false;
                        continue;
                    }
                    afterEmptyLine = line.length == 0;
                    if (draft == null) {
                        if (line.length > 0) {
                            skippedLines++; // text before the first separator is not a message
                        }
                        continue;
                    }
                    int start = 0;
                    while (start < line.length && line[start] == '>') {
                        start++;
                    }
                    int skip = start > 0 && startsWith(line, start, "From ") ? 1 : 0;
                    draft.write(line, skip, line.length - skip);
                    draft.write(CRLF);
                }
                if (draft != null) {
                    store(draft, mailbox, Flags.NONE, date, file + ":" + messageLine);
                    draft = null;
                }
            } finally {
                if (draft != null) {
                    draft.close();
                }
            }
        }
        if (imported == messagesBefore && skippedLines > 0) {
            throw new CommandFailure(file + " has no \"From \" line starting a message: not an mbox file"
                    + " (one message alone, an .eml file, needs a line such as \"From sender Mon Jan  1 00:00:00 2024\" first)");
        }
    }

    /** A time of day, as the timestamp of a From_ line has ("Tue Dec  1 10:00:00 2026"). */
    private static final Pattern TIME = Pattern.compile("\\d:\\d\\d");

    /** "From ", a sender, a space, then a timestamp with a time of day: RFC 4155's From_ line. */
    private static boolean isFromLine(byte[] line) {
        if (!startsWith(line, 0, "From ") || line.length < 6 || line[5] == ' ') {
            return false;
        }
        int space = 5;
        while (space < line.length && line[space] != ' ') {
            space++;
        }
        // a fixed-length pattern found in a bounded piece: linear, whatever the line holds
        return TIME.matcher(new String(line, space, Math.min(line.length - space, 200), StandardCharsets.ISO_8859_1)).find();
    }

    private static final List<String> MONTHS = List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
            "oct", "nov", "dec");

    /**
     * The delivery time of a From_ line, ctime's "Tue Dec  1 10:00:00 2026" after the sender (RFC
     * 4155 §2: UTC), also with a zone name before the year or a numeric offset after it, as some
     * writers add: the imported message's received date (IMAP INTERNALDATE), as Dovecot keeps it,
     * so a mail client sorts the old mail by when it came. Empty when it cannot be read.
     */
    static Optional<Instant> fromLineDate(byte[] line) {
        String text = new String(line, 0, Math.min(line.length, 300), StandardCharsets.ISO_8859_1);
        String[] t = text.substring(text.indexOf(' ', 5) + 1).trim().split("\\s+");
        try {
            if (t.length < 5) {
                return Optional.empty();
            }
            int month = MONTHS.indexOf(t[1].toLowerCase(Locale.ROOT)) + 1;
            int day = Integer.parseInt(t[2]);
            java.time.LocalTime time = java.time.LocalTime.parse(t[3].length() == 5 ? t[3] + ":00" : t[3]);
            int at = t[4].matches("\\d{4}") ? 4 : 5; // "10:00:00 2026" or "10:00:00 CET 2026"
            int year = Integer.parseInt(t[at]);
            java.time.ZoneOffset offset = at + 1 < t.length && t[at + 1].matches("[+-]\\d{4}")
                    ? java.time.ZoneOffset.of(t[at + 1]) : java.time.ZoneOffset.UTC;
            Instant date = java.time.LocalDateTime.of(java.time.LocalDate.of(year, month, day), time).toInstant(offset);
            return date.isAfter(Instant.now().plus(java.time.Duration.ofDays(1))) ? Optional.empty() : Optional.of(date);
        } catch (RuntimeException e) {
            return Optional.empty(); // java.time's and parseInt's refusals of what is no date
        }
    }

    /** Lines of text before the first message of an mbox file, which no message took. */
    int skippedLines() {
        return skippedLines;
    }

    /**
     * Maildir (and Maildir++ folders ".Sub.Folder", their names in modified UTF-7 as Dovecot writes
     * them by default); flags from ":2,FRST" names, date from the file time. Every folder's name is
     * checked before the first message is imported, so that a name we cannot take does not stop
     * the import half done (running it again would import the first half twice).
     */
    void maildir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new CommandFailure(dir + " is not a folder (a Maildir has cur/ and new/ in it)");
        }
        if (!Files.isDirectory(dir.resolve("cur")) && !Files.isDirectory(dir.resolve("new"))) {
            throw new CommandFailure(dir + " is not a Maildir: it has neither cur/ nor new/ in it");
        }
        try (SecureDirectoryStream<Path> root = openRoot(dir)) {
            Path inbox = Path.of(".");
            Map<Path, MailboxName> folders = new LinkedHashMap<>();
            folders.put(inbox, MailboxName.INBOX);
            for (Path sub : own(root, BasicFileAttributes::isDirectory)) {
                if (sub.toString().startsWith(".")) {
                    folders.put(sub, folderName(dir, sub));
                }
            }
            for (Map.Entry<Path, MailboxName> f : folders.entrySet()) {
                if (f.getKey() == inbox) {
                    folder(root, f.getValue());
                    continue;
                }
                try (SecureDirectoryStream<Path> sub = openOwn(root, f.getKey())) {
                    if (sub != null) {
                        folder(sub, f.getValue());
                    }
                }
            }
        }
    }

    /**
     * The folder given on the command line (which may itself be a link), as a handle: everything in
     * it is then listed and opened relative to that handle, without following links (openat with
     * O_NOFOLLOW), so a folder swapped for a link after it was looked at is not followed either.
     */
    private static SecureDirectoryStream<Path> openRoot(Path dir) throws IOException {
        DirectoryStream<Path> stream = Files.newDirectoryStream(dir);
        if (stream instanceof SecureDirectoryStream<Path> secure) {
            return secure;
        }
        stream.close();
        throw new CommandFailure("import maildir needs a system that opens folders by handle (Linux, BSD, macOS)");
    }

    /** A folder inside {@code parent} by handle, or null (counted) when it is a link by now. */
    private SecureDirectoryStream<Path> openOwn(SecureDirectoryStream<Path> parent, Path name) throws IOException {
        try {
            return parent.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.FileSystemException e) {
            BasicFileAttributes now = attributes(parent, name);
            if (now != null && now.isSymbolicLink()) {
                skippedLinks++;
                return null;
            }
            if (now == null) {
                return null; // gone meanwhile
            }
            throw e;
        }
    }

    /** The names in {@code folder} that are what {@code kind} asks for, sorted; links are skipped and counted. */
    private List<Path> own(SecureDirectoryStream<Path> folder, java.util.function.Predicate<BasicFileAttributes> kind)
            throws IOException {
        List<Path> names = new java.util.ArrayList<>();
        for (Path entry : folder) {
            Path name = entry.getFileName();
            BasicFileAttributes a = attributes(folder, name);
            if (a == null) {
                continue;
            }
            if (a.isSymbolicLink()) {
                skippedLinks++;
            } else if (kind.test(a)) {
                names.add(name);
            }
        }
        names.sort(null);
        return names;
    }

    private static BasicFileAttributes attributes(SecureDirectoryStream<Path> folder, Path name) throws IOException {
        try {
            return folder.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
        } catch (java.nio.file.NoSuchFileException e) {
            return null; // gone since it was listed
        }
    }

    /** ".Work.Projects" is Work/Projects; "&APw-" is modified UTF-7 (RFC 3501 §5.1.3) for "ü". */
    private MailboxName folderName(Path dir, Path sub) {
        String raw = sub.toString().substring(1);
        String name;
        try {
            name = ModifiedUtf7.decode(raw);
        } catch (IllegalArgumentException e) {
            // a layout with UTF-8 names (Dovecot's ":UTF-8") that has a '&', or a writer's modified
            // UTF-7 in another form than the one IMAP reads: as it is, and the import says so
            name = raw;
            namesAsWritten.add(raw);
        }
        try {
            return new MailboxName(name.replace('.', MailboxName.SEPARATOR));
        } catch (StoreException e) {
            throw new CommandFailure("folder " + dir.resolve(sub) + ": " + e.getMessage() + "; nothing was imported (rename or move"
                    + " the folder, then run the import again)");
        }
    }

    /**
     * A Maildir's messages and folders are its own files and folders. An import runs as root or as
     * the server, often over a user's own Maildir: followed, a link "cur/x -> /etc/shadow" or
     * ".Other -> /home/someone/Maildir" would put a file its owner may not read into their mailbox.
     * Links are skipped and counted; files are opened by handle, see {@link #openRoot}.
     */
    private void folder(SecureDirectoryStream<Path> folder, MailboxName mailbox) throws IOException {
        target.ensure(mailbox);
        for (String part : List.of("cur", "new")) {
            BasicFileAttributes a = attributes(folder, Path.of(part));
            if (a == null || !a.isDirectory()) {
                if (a != null && a.isSymbolicLink()) {
                    skippedLinks++;
                }
                continue;
            }
            try (SecureDirectoryStream<Path> d = openOwn(folder, Path.of(part))) {
                if (d == null) {
                    continue;
                }
                for (Path name : own(d, BasicFileAttributes::isRegularFile)) {
                    BasicFileAttributes file = attributes(d, name);
                    if (file == null) {
                        continue;
                    }
                    Instant date = file.lastModifiedTime().toInstant(); // before the draft: the file may go
                    ImportTarget.Draft draft = target.draft();
                    // NOFOLLOW_LINKS again on open: a file swapped for a link after the look above is refused
                    try (InputStream in = new BufferedInputStream(java.nio.channels.Channels.newInputStream(
                            d.newByteChannel(name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))), 64 * 1024)) {
                        for (byte[] line; (line = line(in)) != null; ) {
                            draft.write(line);
                            draft.write(CRLF);
                        }
                    } catch (IOException | RuntimeException e) {
                        draft.close();
                        throw e;
                    }
                    store(draft, mailbox, flags(name.toString()), date,
                            "message " + part + "/" + name + " of mailbox " + mailbox.path());
                }
            }
        }
    }

    /** Symbolic links in a Maildir that were not followed. */
    /** The Maildir folders whose names were kept as written, not read as modified UTF-7. */
    List<String> namesAsWritten() {
        return List.copyOf(namesAsWritten);
    }

    int skippedLinks() {
        return skippedLinks;
    }

    /** The Maildir info letters of {@code flags} ("SF"), or "-" for none; {@link #flags} reads them back. */
    static String letters(Flags flags) {
        StringBuilder b = new StringBuilder();
        for (Flag f : flags.system()) {
            b.append(switch (f) {
                case SEEN -> 'S';
                case ANSWERED -> 'R';
                case FLAGGED -> 'F';
                case DELETED -> 'T';
                case DRAFT -> 'D';
            });
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    static Flags flags(String fileName) {
        int info = fileName.indexOf(":2,");
        EnumSet<Flag> set = EnumSet.noneOf(Flag.class);
        if (info >= 0) {
            for (char c : fileName.substring(info + 3).toCharArray()) {
                switch (c) {
                    case 'S' -> set.add(Flag.SEEN);
                    case 'R' -> set.add(Flag.ANSWERED);
                    case 'F' -> set.add(Flag.FLAGGED);
                    case 'T' -> set.add(Flag.DELETED);
                    case 'D' -> set.add(Flag.DRAFT);
                    default -> { }
                }
            }
        }
        return new Flags(set, Set.of());
    }

    /**
     * Stores one message; a failure names it ({@code where}: the mbox file and line of its From_
     * line, or the Maildir file), so an administrator can look at that message and run the rest.
     */
    private void store(ImportTarget.Draft draft, MailboxName mailbox, Flags flags, Instant date, String where) {
        try (draft) {
            draft.store(mailbox, flags, date);
        } catch (IOException | RuntimeException e) {
            throw new CommandFailure(where + ": " + (e.getMessage() != null ? e.getMessage() : e.toString()));
        }
        imported++;
    }

    private static final byte[] CRLF = {'\r', '\n'};
    /** Longer lines (no mail has them) are split here, which keeps an import's memory bounded. */
    static final int MAX_LINE = 1024 * 1024;

    /**
     * One line without its LF or CRLF, at most {@link #MAX_LINE} bytes; null at the end. A line cut
     * at the limit takes the line end that follows right after it (CR LF or LF) as its own: read as
     * a line of its own it would add an empty line, which in a header ends the header.
     * {@code in} must support mark (a BufferedInputStream).
     */
    static byte[] line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        boolean any = false;
        boolean ended = false;
        while (b.size() < MAX_LINE && (c = in.read()) >= 0) {
            any = true;
            if (c == '\n') {
                ended = true;
                break;
            }
            b.write(c);
        }
        if (!any) {
            return null;
        }
        byte[] out = b.toByteArray();
        if (!ended && out.length == MAX_LINE) {
            in.mark(2);
            int next = in.read();
            if (next == '\n') {
                ended = true;
            } else if (next == '\r' && in.read() == '\n') {
                return out; // the CR is the line end's, not the line's
            } else {
                in.reset();
                return out;
            }
        }
        return out.length > 0 && out[out.length - 1] == '\r' ? java.util.Arrays.copyOf(out, out.length - 1) : out;
    }

    private static boolean startsWith(byte[] line, int from, String prefix) {
        if (line.length - from < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (line[from + i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}

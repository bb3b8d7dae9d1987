package dev.mailstack.server;

import dev.mailstack.store.Flag;
import dev.mailstack.store.Flags;
import dev.mailstack.store.MailboxName;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Brings mail over from Dovecot (Maildir) or an mbox file, one message at a time through a draft
 * of the target (a spool file, or chunks to the running server), so memory stays bounded whatever
 * the size. Lines are stored with CRLF, as mail is served.
 */
final class MailImport {
    private final ImportTarget target;
    private int imported;

    MailImport(ImportTarget target) {
        this.target = target;
    }

    int imported() {
        return imported;
    }

    /** mbox (mboxo and mboxrd): a "From " line starts each message; ">From " lines lose one '>'. */
    void mbox(Path file, MailboxName mailbox) throws IOException {
        target.ensure(mailbox);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
            ImportTarget.Draft draft = null;
            Instant date = Instant.now();
            try {
                for (byte[] line; (line = line(in)) != null; ) {
                    if (startsWith(line, 0, "From ")) {
                        if (draft != null) {
                            store(draft, mailbox, Flags.NONE, date);
                            draft = null;
                        }
                        draft = target.draft();
                        date = Instant.now();
                        continue;
                    }
                    if (draft == null) {
                        continue; // text before the first separator is not a message
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
                    store(draft, mailbox, Flags.NONE, date);
                    draft = null;
                }
            } finally {
                if (draft != null) {
                    draft.close();
                }
            }
        }
    }

    /** Maildir (and Maildir++ folders ".Sub.Folder"); flags from ":2,FRST" names, date from the file time. */
    void maildir(Path dir) throws IOException {
        folder(dir, MailboxName.INBOX);
        try (Stream<Path> subs = Files.list(dir)) {
            for (Path sub : (Iterable<Path>) subs.filter(Files::isDirectory)
                    .filter(p -> p.getFileName().toString().startsWith(".")).sorted()::iterator) {
                String name = sub.getFileName().toString().substring(1).replace('.', '/');
                folder(sub, new MailboxName(name));
            }
        }
    }

    private void folder(Path dir, MailboxName mailbox) throws IOException {
        target.ensure(mailbox);
        for (String part : List.of("cur", "new")) {
            Path d = dir.resolve(part);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> files = Files.list(d)) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                    Instant date = Files.getLastModifiedTime(f).toInstant(); // before the draft: the file may go
                    ImportTarget.Draft draft = target.draft();
                    try (InputStream in = new BufferedInputStream(Files.newInputStream(f), 64 * 1024)) {
                        for (byte[] line; (line = line(in)) != null; ) {
                            draft.write(line);
                            draft.write(CRLF);
                        }
                    } catch (IOException | RuntimeException e) {
                        draft.close();
                        throw e;
                    }
                    store(draft, mailbox, flags(f.getFileName().toString()), date);
                }
            }
        }
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

    private void store(ImportTarget.Draft draft, MailboxName mailbox, Flags flags, Instant date) throws IOException {
        try (draft) {
            draft.store(mailbox, flags, date);
        }
        imported++;
    }

    private static final byte[] CRLF = {'\r', '\n'};
    /** Longer lines (no mail has them) are split here, which keeps an import's memory bounded. */
    static final int MAX_LINE = 1024 * 1024;

    /** One line without its LF or CRLF, at most {@link #MAX_LINE} bytes; null at the end. */
    private static byte[] line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        boolean any = false;
        while (b.size() < MAX_LINE && (c = in.read()) >= 0) {
            any = true;
            if (c == '\n') {
                break;
            }
            b.write(c);
        }
        if (!any) {
            return null;
        }
        byte[] out = b.toByteArray();
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

package dev.mailstack.sieve;

import dev.mailstack.mime.Rfc2047;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The message's header as the editheader actions (RFC 5293) of one execution change it: the
 * fields in order, each either one of the message's own (by position) or one a script added.
 * Every test after an edit reads this (§7: "the current state of a header"), and so do the scripts
 * that run after the one that edited it (Pigeonhole's multiscript); the deliverer gets it as
 * {@link HeaderEdits}.
 */
final class EditableHeader {
    /**
     * RFC 5293 §6: Received MUST NOT be deleted; as Pigeonhole, nor Auto-Submitted (it keeps
     * auto-replies from answering automatic mail, RFC 3834 §2), and our Return-Path, which records
     * the envelope at final delivery (RFC 5321 §4.4). Attempts are ignored, as §6 requires.
     */
    static final Set<String> NOT_DELETED = Set.of("received", "auto-submitted", "return-path");
    /**
     * Trace fields are the transport's to write (RFC 5321 §4.4): our loop checks count and read them.
     * Authentication-Results too (RFC 8601 §5: only the verifier writes it, and SMTP removes the ones
     * naming us): a user's script could otherwise vouch for any sender in a copy it redirects.
     */
    static final Set<String> NOT_ADDED = Set.of("received", "return-path", "authentication-results");
    /** Octets of one added field's value, as Pigeonhole's sieve_editheader_max_header_size default. */
    static final int MAX_VALUE_BYTES = 2048;
    /** Octets of added fields in one execution: a header section stays of a size mail programs read. */
    static final int MAX_ADDED_BYTES = 64 * 1024;

    /** One field: its name, its raw value as header() gives values, and where it came from. */
    private record Entry(String name, String value, HeaderEdits.Line line) {
    }

    private final List<Entry> entries = new ArrayList<>();
    private final EditHeaderRules rules;
    private int addedBytes;

    EditableHeader(List<HeaderSection.Field> fields, EditHeaderRules rules) {
        this.rules = rules;
        for (int i = 0; i < fields.size(); i++) {
            entries.add(new Entry(fields.get(i).name(), fields.get(i).value(), new HeaderEdits.Kept(i)));
        }
    }

    /** As {@link SieveMessage#header}: the raw values of the fields of this name, in order. */
    List<String> header(String name) {
        List<String> out = new ArrayList<>();
        for (Entry e : entries) {
            if (e.name().equalsIgnoreCase(name)) {
                out.add(e.value());
            }
        }
        return out;
    }

    /** Why a value cannot be added (null when it can): RFC 5293 §4 asks for a valid field body. */
    static String invalidValue(String value) {
        if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
            return "the value is longer than " + MAX_VALUE_BYTES + " octets";
        }
        if (value.chars().anyMatch(c -> c == 0)) {
            return "the value holds a NUL character";
        }
        // a line break only as folding: followed by white space, never ending the header
        String unfolded = value.replace("\r\n", "\n").replace('\r', '\n');
        for (int i = unfolded.indexOf('\n'); i >= 0; i = unfolded.indexOf('\n', i + 1)) {
            if (i + 1 >= unfolded.length() || (unfolded.charAt(i + 1) != ' ' && unfolded.charAt(i + 1) != '\t')) {
                return "the value has a line break not followed by white space";
            }
        }
        return null;
    }

    /**
     * RFC 5293 §4: adds the field first (after our Return-Path, which stays on top) or with
     * {@code last} at the end. Non-ASCII text is RFC 2047 encoded (§4: "SHOULD be encoded");
     * long values are folded. False when the field is protected or the site forbids adding it
     * ({@link EditHeaderRules}), and nothing changes. The name and value are valid
     * ({@link HeaderSection#isFieldName}, {@link #invalidValue}).
     */
    boolean add(String name, String value, boolean last) throws LimitReached {
        if (!rules.mayAdd(name)) {
            return false;
        }
        String written = " " + encode(Interpreter.unfold(value).strip(), name.length() + 2);
        addedBytes += name.length() + written.length() + 3;
        if (addedBytes > MAX_ADDED_BYTES) {
            throw new LimitReached("more than " + MAX_ADDED_BYTES + " octets of header fields added in one run");
        }
        Entry e = new Entry(name, written, new HeaderEdits.Added(name + ":" + written));
        if (last) {
            entries.add(e);
        } else {
            boolean returnPath = !entries.isEmpty() && entries.getFirst().name().equalsIgnoreCase("return-path");
            entries.add(returnPath ? 1 : 0, e);
        }
        return true;
    }

    /**
     * RFC 5293 §5: deletes the fields of this name that {@code which} picks, given each one's
     * position among the fields of the name (from 1) and their count. False when the field is
     * protected or the site forbids deleting it ({@link EditHeaderRules}), and nothing changes.
     */
    boolean delete(String name, Picker which) throws Interpreter.Failure {
        if (!rules.mayDelete(name)) {
            return false;
        }
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).name().equalsIgnoreCase(name)) {
                positions.add(i);
            }
        }
        List<Integer> gone = new ArrayList<>();
        for (int k = 0; k < positions.size(); k++) {
            if (which.picks(k + 1, positions.size(), entries.get(positions.get(k)).value())) {
                gone.add(positions.get(k));
            }
        }
        for (int i = gone.size() - 1; i >= 0; i--) {
            entries.remove((int) gone.get(i));
        }
        return true;
    }

    /** Which occurrences of a field deleteheader deletes. */
    interface Picker {
        boolean picks(int position, int count, String rawValue) throws Interpreter.Failure;
    }

    /** A limit of the execution reached; the interpreter makes it a runtime error. */
    static final class LimitReached extends Exception {
        LimitReached(String message) {
            super(message);
        }
    }

    HeaderEdits edits() {
        return new HeaderEdits(entries.stream().map(Entry::line).toList());
    }

    /**
     * The value as written after "Name: " ({@code used} columns): ASCII as it is, folded at white
     * space before column 78 (RFC 5322 §2.1.1); with non-ASCII text, the stretch from the first
     * word holding some to the last one as UTF-8 encoded-words (RFC 2047 §5's "text" of an
     * unstructured field), the ASCII words around it as they are.
     */
    static String encode(String value, int used) {
        String[] words = value.split(" ", -1);
        int first = -1;
        int lastWord = -1;
        for (int i = 0; i < words.length; i++) {
            if (words[i].chars().anyMatch(c -> c > 0x7e || c < 0x20 && c != '\t')) {
                first = first < 0 ? i : first;
                lastWord = i;
            }
        }
        StringBuilder out = new StringBuilder();
        int column = used;
        for (int i = 0; i < words.length; i++) {
            String piece;
            if (i == first) {
                String text = String.join(" ", java.util.Arrays.copyOfRange(words, first, lastWord + 1));
                piece = Rfc2047.encode(text, StandardCharsets.UTF_8, column + (out.isEmpty() ? 0 : 1));
                if (!out.isEmpty() && piece.startsWith("\r\n ")) {
                    piece = piece.substring(3); // no room left on this line: the fold below goes before it
                }
                i = lastWord;
            } else {
                piece = words[i];
            }
            if (!out.isEmpty()) {
                if (column + 1 + firstLineLength(piece) > 78) {
                    out.append("\r\n");
                    column = 0;
                }
                out.append(' ');
                column++;
            }
            out.append(piece);
            int lastBreak = piece.lastIndexOf('\n');
            column = lastBreak < 0 ? column + piece.length() : piece.length() - lastBreak - 1;
        }
        return out.toString();
    }

    private static int firstLineLength(String piece) {
        int eol = piece.indexOf('\r');
        return eol < 0 ? piece.length() : eol;
    }
}

package dev.mailstack.imapd;

import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Evaluates SEARCH keys (RFC 3501 §6.4.4) over the selected messages. Flags, sizes, dates and
 * numbers come from the message rows; header keys read only the header and compare decoded
 * (RFC 2047) text; BODY and TEXT use the decoded text of every text part, whatever its charset
 * and transfer encoding, so a Chinese word is found in GBK, quoted-printable or base64 bodies.
 * Comparisons ignore case, as RFC 3501 asks.
 */
final class Searcher {
    private final SummaryCache summaries;
    private final StoreSession store;
    private final SelectedMailbox mailbox;
    /** One "now" for a whole SEARCH, so OLDER and YOUNGER split the mailbox consistently. */
    private final Instant now = Instant.now();
    /**
     * Summaries are read in bulk for this many messages at a time, as the search reaches them: all
     * of a 100,000-message mailbox at once would not fit the shared cache and be read twice.
     */
    private static final int WINDOW = 1000;
    /**
     * What a window's structures weigh at most ({@link SummaryCache#weight}): a search holds them
     * while it works through the window, outside the cache's bound. A thousand ordinary messages
     * weigh some 2 MB; a thousand that each keep a 32 KiB header would weigh 70 MB.
     */
    private static final long WINDOW_BYTES = 4L * 1024 * 1024;
    /** The first message of the window whose summaries were loaded; 0 before the first. */
    private int window;
    /** The window's structures, from {@link #window} on; empty for a message whose content is gone. */
    private List<Optional<StoredStructure>> structures = List.of();
    // The message being matched, read once however many keys look at it, then let go: a mailbox's
    // decoded texts are never all in memory together.
    // BODY and TEXT compare lower-cased: each text lower-cased once, however many keys look at it
    private final Map<Integer, String> headers = new HashMap<>();
    private final Map<Integer, String> foldedHeaders = new HashMap<>();
    private final Map<Integer, String> foldedTexts = new HashMap<>();
    /** The current message's header fields as the header keys compare them, by field name. */
    private final Map<String, List<String>> foldedFields = new HashMap<>();
    /** Each key's string lower-cased once per search, by key object (two keys may have equal strings). */
    private final Map<SearchKey, String> needles = new IdentityHashMap<>();
    private final Map<SequenceSet, BitSet> selections = new IdentityHashMap<>();
    /** Characters lower-cased so far: the work {@link #folded} does, which the tests bound. */
    private long foldedChars;

    Searcher(SummaryCache summaries, StoreSession store, SelectedMailbox mailbox) {
        this.summaries = summaries;
        this.store = store;
        this.mailbox = mailbox;
    }

    List<Integer> search(SearchKey key) {
        List<Integer> out = new ArrayList<>();
        for (int msn = 1; msn <= mailbox.exists(); msn++) {
            if (matches(key, msn)) {
                out.add(msn);
            }
            headers.clear();
            foldedHeaders.clear();
            foldedTexts.clear();
            foldedFields.clear();
        }
        return out;
    }

    private boolean matches(SearchKey key, int msn) {
        MessageRef r = mailbox.at(msn);
        return switch (key) {
            case SearchKey.All a -> true;
            case SearchKey.Flag f -> r.flags().has(f.flag()) == f.set();
            case SearchKey.Keyword k -> r.flags().keywords().stream().anyMatch(w -> w.equalsIgnoreCase(k.keyword())) == k.set();
            case SearchKey.Recent rc -> mailbox.isRecent(r.uid()) == rc.recent();
            case SearchKey.Date d -> {
                Optional<LocalDate> date = switch (d.field()) {
                    case INTERNAL -> Optional.of(r.internalDate().atZone(ZoneOffset.UTC).toLocalDate());
                    case SENT -> sentDate(msn);
                    // RFC 8514 §4.3: as BEFORE, ON and SINCE, with the save date in their place
                    case SAVED -> Optional.of(r.savedAt().atZone(ZoneOffset.UTC).toLocalDate());
                };
                if (date.isEmpty()) {
                    yield false;
                }
                yield switch (d.op()) {
                    case BEFORE -> date.get().isBefore(d.date());
                    case ON -> date.get().isEqual(d.date());
                    case SINCE -> !date.get().isBefore(d.date());
                };
            }
            case SearchKey.Age a -> {
                // RFC 5032 §3: the moment of interest is now less the interval; YOUNGER includes it
                Instant moment = now.minusSeconds(a.seconds());
                yield a.older() ? r.internalDate().isBefore(moment) : !r.internalDate().isBefore(moment);
            }
            case SearchKey.SaveDateSupported s -> true; // every message here has a save date (RFC 8514 §4.3)
            // RFC 8474 §6: EMAILID matches the message with that id (case matters: ids are compared
            // as sent); no message has a THREADID here (§5.2's NIL), so THREADID matches none
            case SearchKey.ObjectId o -> !o.thread() && o.id().equals(store.emailId(r));
            case SearchKey.Size s -> s.larger() ? r.size() > s.size() : r.size() < s.size();
            case SearchKey.Header h -> headerMatches(msn, h);
            case SearchKey.Body b -> foldedText(msn).contains(needle(b, b.text()));
            case SearchKey.Text t -> foldedHeader(msn).contains(needle(t, t.text())) || foldedText(msn).contains(needle(t, t.text()));
            case SearchKey.Uids u -> selection(u.set(), true).get(msn);
            case SearchKey.Sequence s -> selection(s.set(), false).get(msn);
            case SearchKey.ModSeq m -> r.modSeq() >= m.modSeq();
            case SearchKey.Not n -> !matches(n.key(), msn);
            case SearchKey.Or o -> matches(o.left(), msn) || matches(o.right(), msn);
            case SearchKey.And a -> a.keys().stream().allMatch(k -> matches(k, msn));
        };
    }

    /** A set's messages, resolved once for the whole search (a key object is one set). */
    private BitSet selection(SequenceSet set, boolean uid) {
        return selections.computeIfAbsent(set, k -> mailbox.selection(set, uid));
    }

    private String folded(String text) {
        foldedChars += text.length();
        return fold(text);
    }

    /** RFC 3501 §6.4.4: "case-insensitive substring": both sides lower-cased, as they always were here. */
    static String fold(String text) {
        return text.toLowerCase(Locale.ROOT);
    }

    private String needle(SearchKey key, String text) {
        return needles.computeIfAbsent(key, k -> folded(text));
    }

    /** For tests: the characters this search lower-cased, each message's texts once and each key's string once. */
    long foldedChars() {
        return foldedChars;
    }

    private boolean headerMatches(int msn, SearchKey.Header key) {
        String needle = needle(key, key.value());
        for (String v : foldedField(msn, key.field())) {
            if (v.contains(needle)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A header field's values as the header keys compare them: RFC 2047 words decoded, lower-cased;
     * none when the message lacks the field. Worked out once per message and field, however many
     * keys name it.
     */
    private List<String> foldedField(int msn, String field) {
        return foldedFields.computeIfAbsent(field, f -> {
            // The envelope fields are in the stored summary, kept decoded there: no need to read the message.
            Optional<StoredStructure> structure = structure(msn);
            if (structure.isEmpty()) {
                return List.of();
            }
            return structure.get().searchedField(f).orElseGet(
                    () -> MessageText.headerValues(header(msn), f).stream().map(v -> folded(MessageText.decodeHeader(v))).toList());
        });
    }

    private Optional<LocalDate> sentDate(int msn) {
        String date = summary(msn).map(s -> s.envelope().date()).orElse(null);
        return date == null ? Optional.empty() : MessageText.date(date);
    }

    /**
     * Empty for a message whose content another session's expunge and the sweep took away before
     * this session heard of it: it is searched as a message without header or body, and the search
     * goes on (as FETCH sends such a body as NIL, and SORT takes it as one without headers).
     */
    private Optional<dev.mailstack.mime.MessageSummary> summary(int msn) {
        return structure(msn).map(StoredStructure::summary);
    }

    private Optional<StoredStructure> structure(int msn) {
        if (window == 0 || msn < window || msn >= window + structures.size()) {
            window = msn;
            structures = summaries.structures(mailbox.messages().subList(msn - 1, Math.min(mailbox.exists(), msn - 1 + WINDOW)),
                    WINDOW_BYTES);
        }
        return structures.get(msn - window);
    }

    /** The raw header of a message (decoded as Latin-1 so no byte is lost), read once per search. */
    private String header(int msn) {
        return headers.computeIfAbsent(msn, n -> {
            MessageRef r = mailbox.at(n);
            try (InputStream in = store.openContent(r)) {
                byte[] head = in.readNBytes((int) Math.min(r.size(), FetchResponder.MAX_HEADER_BYTES));
                int end = MessageText.headerEnd(head);
                return MessageText.headerText(head, end);
            } catch (NoSuchFileException e) {
                return ""; // swept away (see summary): no header to match
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * The header as TEXT searches it: unfolded and with RFC 2047 words decoded, so a subject sent
     * as =?UTF-8?...?= words is found by the words it spells, as SUBJECT finds it; lower-cased.
     */
    private String foldedHeader(int msn) {
        return foldedHeaders.computeIfAbsent(msn, n -> folded(MessageText.decodeHeader(MessageText.unfold(header(n)))));
    }

    /** The decoded text of every text part, lower-cased. */
    private String foldedText(int msn) {
        return foldedTexts.computeIfAbsent(msn, n -> folded(text(n)));
    }

    private String text(int msn) {
        MessageRef r = mailbox.at(msn);
        Optional<dev.mailstack.mime.MessageSummary> summary = summary(msn);
        try {
            return summary.isEmpty() ? "" : MessageText.bodyText(store, r, summary.get());
        } catch (NoSuchFileException e) {
            return ""; // swept away between its summary and its text
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.mailstack.imapd;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.store.MessageRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Orders the messages a search found (RFC 5256 §3 SORT). Each criterion's value is taken once per
 * message from the stored summary ({@link SortKeys}), read in batches, and kept in an array of its
 * own: a long per message for dates and sizes, a key of at most {@link UnicodeCasemap#MAX_KEY_CHARS}
 * for text. A criterion named again is left out, since the first one already decided every pair it
 * could, so a sort holds at most nine values per message whatever the client sends.
 */
final class Sorter {
    /** Summaries read from the store (or the shared cache) at a time; the cache holds 20,000. */
    static final int BATCH = 1000;

    private final SummaryCache summaries;
    private final SelectedMailbox mailbox;

    Sorter(SummaryCache summaries, SelectedMailbox mailbox) {
        this.summaries = summaries;
        this.mailbox = mailbox;
    }

    /** The message sequence numbers {@code msns} (ascending, as SEARCH found them) in sort order. */
    List<Integer> sort(List<Integer> msns, List<SortCriterion> criteria) {
        List<SortCriterion> distinct = distinct(criteria);
        int n = msns.size();
        Object[] values = new Object[distinct.size()];
        for (int c = 0; c < distinct.size(); c++) {
            values[c] = numeric(distinct.get(c).key()) ? new long[n] : new String[n];
        }
        boolean needsSummary = distinct.stream().anyMatch(c -> c.key() != SortCriterion.Key.ARRIVAL
                && c.key() != SortCriterion.Key.SIZE);
        for (int from = 0; from < n; from += BATCH) {
            int to = Math.min(n, from + BATCH);
            List<MessageRef> batch = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                batch.add(mailbox.at(msns.get(i)));
            }
            if (needsSummary) {
                summaries.load(batch);
            }
            for (int i = from; i < to; i++) {
                MessageRef r = batch.get(i - from);
                MessageSummary.Envelope e = needsSummary
                        ? summaries.stored(r).map(MessageSummary::envelope).orElse(SortKeys.NO_HEADERS) : null;
                for (int c = 0; c < distinct.size(); c++) {
                    SortCriterion.Key key = distinct.get(c).key();
                    if (values[c] instanceof long[] longs) {
                        longs[i] = switch (key) {
                            case ARRIVAL -> SortKeys.arrival(r);
                            case DATE -> SortKeys.sentDate(e, r);
                            case SIZE -> r.size();
                            default -> throw new IllegalStateException("not numeric: " + key);
                        };
                    } else {
                        ((String[]) values[c])[i] = switch (key) {
                            case SUBJECT -> SortKeys.subject(e);
                            case FROM -> SortKeys.mailbox(e.from());
                            case TO -> SortKeys.mailbox(e.to());
                            case CC -> SortKeys.mailbox(e.cc());
                            case DISPLAYFROM -> SortKeys.display(e.from());
                            case DISPLAYTO -> SortKeys.display(e.to());
                            default -> throw new IllegalStateException("not text: " + key);
                        };
                    }
                }
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // RFC 5256 §3: ties go by sequence number; msns are ascending, so index order is that order
        Comparator<Integer> cmp = (a, b) -> 0;
        for (int c = 0; c < distinct.size(); c++) {
            Comparator<Integer> one = by(values[c]);
            cmp = cmp.thenComparing(distinct.get(c).reverse() ? one.reversed() : one);
        }
        Arrays.sort(order, cmp.thenComparing(Comparator.naturalOrder()));
        List<Integer> out = new ArrayList<>(n);
        for (int i : order) {
            out.add(msns.get(i));
        }
        return out;
    }

    private static Comparator<Integer> by(Object values) {
        if (values instanceof long[] longs) {
            return (a, b) -> Long.compare(longs[a], longs[b]);
        }
        String[] keys = (String[]) values;
        return (a, b) -> UnicodeCasemap.compare(keys[a], keys[b]);
    }

    private static boolean numeric(SortCriterion.Key key) {
        return key == SortCriterion.Key.ARRIVAL || key == SortCriterion.Key.DATE || key == SortCriterion.Key.SIZE;
    }

    private static List<SortCriterion> distinct(List<SortCriterion> criteria) {
        Set<SortCriterion.Key> seen = EnumSet.noneOf(SortCriterion.Key.class);
        List<SortCriterion> out = new ArrayList<>();
        for (SortCriterion c : criteria) {
            if (seen.add(c.key())) {
                out.add(c);
            }
        }
        return out;
    }
}

package dev.mailstack.imapd;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntToLongFunction;

/**
 * Threads the messages a search found (RFC 5256 §3 THREAD): ORDEREDSUBJECT, and REFERENCES with
 * its six steps. What it needs of a message comes from the stored summary: subject, Date,
 * Message-ID and In-Reply-To from the envelope, References from the header block kept with the
 * summary (read from the file up to the blank line only for a header too big to have been kept).
 * Messages are read in batches of {@link Sorter#BATCH}; what stays in memory is a date, a subject
 * (key and digest) and a flag per message and one node per distinct Message-ID, found by a 16-byte
 * digest of the id rather than the id itself. Every walk over the tree is a loop, not a recursion,
 * so a reply chain thousands deep cannot overflow the stack.
 */
final class Threader {
    /** References kept per message: the last ones, which name its nearest ancestors (MUAs cut the list the same way). */
    static final int MAX_REFERENCES = 100;

    /** A thread member: a message (its sequence number) or, with {@code msn} 0, a parent not among the messages. */
    record Node(int msn, List<Node> children) {
        boolean dummy() {
            return msn == 0;
        }
    }

    /**
     * 128 bits of SHA-256 of a Message-ID: what REFERENCES finds a node by. Ids are only compared
     * for equality (RFC 5256 §3), and keeping 16 bytes instead of the id itself (up to
     * MessageIds.MAX_ID_CHARS, a hundred per message from References) keeps a THREAD of a big
     * mailbox from holding every id of it for the whole command. Also of a whole subject key.
     */
    private record Digest(long high, long low) {
        static Digest of(MessageDigest sha256, String text) {
            ByteBuffer d = ByteBuffer.wrap(sha256.digest(text.getBytes(StandardCharsets.UTF_8)));
            return new Digest(d.getLong(), d.getLong());
        }

        static final Comparator<Digest> ORDER = Comparator.comparingLong(Digest::high).thenComparingLong(Digest::low);
    }

    /**
     * A base subject as THREAD compares it: SORT's collation key, cut to
     * {@link UnicodeCasemap#MAX_KEY_CHARS}, to order by, and a digest of the whole key, so that two
     * long subjects alike as far as the key goes are still two threads.
     */
    private record Subject(String key, Digest whole) {
        static final Subject NONE = new Subject("", null);
    }

    private final SummaryCache summaries;
    private final StoreSession store;
    private final SelectedMailbox mailbox;
    private final MessageDigest sha256;

    /** Per searched message (by its index in the search's result): sent date, base subject, reply or forward. */
    private long[] dates;
    private Subject[] subjects;
    private final BitSet replies = new BitSet();

    Threader(SummaryCache summaries, StoreSession store, SelectedMailbox mailbox) {
        this.summaries = summaries;
        this.store = store;
        this.mailbox = mailbox;
        try {
            this.sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    List<Node> thread(List<Integer> msns, ImapCommand.ThreadAlgorithm algorithm) {
        return switch (algorithm) {
            case ORDEREDSUBJECT -> orderedSubject(msns);
            case REFERENCES -> references(msns);
        };
    }

    /**
     * What every message needs (and, for REFERENCES, what links it), read in batches, in sequence
     * order. {@code summary} is null for a message whose content was swept away before this session
     * heard of its expunge ({@link SummaryCache#stored}): it threads as one without headers.
     */
    private interface Visitor {
        void visit(int hit, MessageRef r, MessageSummary summary);
    }

    private void read(List<Integer> msns, Visitor then) {
        int n = msns.size();
        dates = new long[n];
        subjects = new Subject[n];
        Map<Subject, Subject> interned = new HashMap<>();
        for (int from = 0; from < n; from += Sorter.BATCH) {
            int to = Math.min(n, from + Sorter.BATCH);
            List<MessageRef> batch = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                batch.add(mailbox.at(msns.get(i)));
            }
            summaries.load(batch);
            for (int i = from; i < to; i++) {
                MessageRef r = batch.get(i - from);
                MessageSummary s = summaries.stored(r).orElse(null);
                MessageSummary.Envelope e = s == null ? SortKeys.NO_HEADERS : s.envelope();
                dates[i] = SortKeys.sentDate(e, r);
                BaseSubject subject = BaseSubject.of(e.subject());
                Subject compared = new Subject(UnicodeCasemap.key(subject.text()),
                        Digest.of(sha256, UnicodeCasemap.key(subject.text(), Integer.MAX_VALUE)));
                subjects[i] = interned.computeIfAbsent(compared, k -> k);
                replies.set(i, subject.replyOrForward());
                if (then != null) {
                    then.visit(i, r, s);
                }
            }
        }
    }

    // --- ORDEREDSUBJECT

    /**
     * RFC 5256 §3 ORDEREDSUBJECT: sorted by base subject then sent date, one thread per subject
     * whose first message is the root and the rest its children; threads by their first message's
     * sent date. Ties go by sequence number (§2.2).
     */
    private List<Node> orderedSubject(List<Integer> msns) {
        read(msns, null);
        int n = msns.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // subjects alike as far as the key goes are kept apart by their digests, in no order of meaning
        Arrays.sort(order, Comparator.<Integer, String>comparing(i -> subjects[i].key(), UnicodeCasemap::compare)
                .thenComparing(i -> subjects[i].whole(), Digest.ORDER)
                .thenComparingLong(i -> dates[i]).thenComparingInt(i -> i));
        List<Integer> firsts = new ArrayList<>();
        Map<Integer, List<Node>> children = new HashMap<>();
        for (int k = 0; k < n; k++) {
            int i = order[k];
            if (k == 0 || !subjects[i].equals(subjects[order[k - 1]])) {
                firsts.add(i);
                children.put(i, new ArrayList<>());
            } else {
                children.get(firsts.getLast()).add(new Node(msns.get(i), List.of()));
            }
        }
        firsts.sort(Comparator.<Integer>comparingLong(i -> dates[i]).thenComparingInt(i -> i));
        List<Node> roots = new ArrayList<>(firsts.size());
        for (int i : firsts) {
            roots.add(new Node(msns.get(i), children.get(i)));
        }
        return roots;
    }

    // --- REFERENCES

    /** A node while threading: a message ({@code hit} ≥ 0) or a dummy for an id no searched message has. */
    private static final class Container {
        int hit = -1;
        Container parent;
        List<Container> children = List.of();
        /** What it sorts by: a message's sent date and place, a dummy's first child's after sorting (steps 4, 6). */
        long date;
        int order;

        boolean dummy() {
            return hit < 0;
        }

        void add(Container child) {
            if (children.isEmpty()) {
                children = new ArrayList<>(2);
            }
            children.add(child);
            child.parent = this;
        }

        void unlink() {
            if (parent != null) {
                parent.children.remove(this);
                parent = null;
            }
        }

        /** Whether {@code other} is this container or one of its ancestors. */
        boolean descendsFrom(Container other) {
            for (Container c = this; c != null; c = c.parent) {
                if (c == other) {
                    return true;
                }
            }
            return false;
        }
    }

    private List<Node> references(List<Integer> msns) {
        Map<Digest, Container> byId = new HashMap<>();
        Container[] messages = new Container[msns.size()];
        read(msns, (hit, r, s) -> messages[hit] = link(hit, byId, r, s));

        // (2) the containers without a parent head the threads so far; (3) dummies go: each message
        // hangs under its nearest ancestor that is a message, or under the topmost dummy above it
        // (a dummy at the top keeps its children together, RFC 5256 §3 step 3's last rule)
        Container[] up = new Container[messages.length];
        for (int i = 0; i < messages.length; i++) {
            Container p = messages[i].parent;
            while (p != null && p.dummy() && p.parent != null) {
                p = p.parent;
            }
            up[i] = p;
        }
        List<Container> roots = new ArrayList<>();
        for (Container m : messages) {
            m.parent = null;
            m.children = List.of();
        }
        Set<Container> dummies = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < messages.length; i++) {
            Container p = up[i];
            if (p == null) {
                roots.add(messages[i]);
                continue;
            }
            if (p.dummy() && dummies.add(p)) {
                p.children = List.of();
                roots.add(p);
            }
            p.add(messages[i]);
        }
        // a dummy left with one child gives way to it: it no longer joins anything
        roots.replaceAll(c -> c.dummy() && c.children.size() == 1 ? only(c) : c);

        // (4) the threads by sent date, a dummy by its oldest child
        for (Container c : roots) {
            dateDummy(c);
        }
        roots.sort(BY_DATE);

        // (5) threads whose (first) message has the same base subject are gathered
        Map<Subject, Container> table = new HashMap<>();
        for (Container c : roots) {
            Subject subject = subject(c);
            if (subject.key().isEmpty()) {
                continue;
            }
            Container t = table.get(subject);
            if (t == null || !t.dummy() && (c.dummy() || replies.get(t.hit) && !replies.get(c.hit))) {
                table.put(subject, c);
            }
        }
        List<Container> merged = new ArrayList<>();
        for (Container c : new ArrayList<>(roots)) {
            Subject subject = subject(c);
            Container t = subject.key().isEmpty() ? c : table.get(subject);
            if (c.parent != null || t == c) {
                continue; // already under a dummy made below, or the message the subject table keeps
            }
            if (t.dummy() && c.dummy()) {
                for (Container child : new ArrayList<>(c.children)) {
                    t.add(child);
                }
                c.children = List.of();
            } else if (t.dummy() || !c.dummy() && replies.get(c.hit) && !replies.get(t.hit)) {
                t.add(c);
            } else {
                Container d = new Container();
                d.add(t);
                d.add(c);
                table.put(subject, d);
                merged.add(d);
            }
        }
        roots.addAll(merged);
        roots.removeIf(c -> c.parent != null || c.dummy() && c.children.isEmpty());

        // (6) every set of siblings by sent date, children before their parents
        List<Container> all = new ArrayList<>();
        Deque<Container> todo = new ArrayDeque<>(roots);
        while (!todo.isEmpty()) {
            Container c = todo.pop();
            all.add(c);
            c.children.forEach(todo::push);
        }
        for (int k = all.size() - 1; k >= 0; k--) {
            Container c = all.get(k);
            if (c.children.size() > 1) {
                c.children.sort(BY_DATE);
            }
            dateDummy(c);
        }
        roots.sort(BY_DATE);
        return nodes(roots, all, msns);
    }

    /**
     * Step (1) for one message: its references linked parent to child, then the message under the
     * last of them (RFC 5256 §3, REFERENCES 1.A and 1.B), with no link that would make a loop.
     */
    private Container link(int hit, Map<Digest, Container> byId, MessageRef r, MessageSummary s) {
        MessageSummary.Envelope e = s == null ? SortKeys.NO_HEADERS : s.envelope();
        String id = MessageIds.first(e.messageId());
        Container self = id == null ? null : byId.computeIfAbsent(Digest.of(sha256, id), k -> new Container());
        if (self == null || !self.dummy()) {
            self = new Container(); // no Message-ID, or one an earlier message has: an id of its own
        }
        self.hit = hit;
        self.date = dates[hit];
        self.order = hit;
        List<String> refs = s == null ? List.of() : MessageIds.last(headerValue(r, s, "References"), MAX_REFERENCES);
        if (refs.isEmpty()) {
            String parent = MessageIds.first(e.inReplyTo());
            refs = parent == null ? List.of() : List.of(parent);
        }
        Container previous = null;
        for (String ref : refs) {
            Container c = byId.computeIfAbsent(Digest.of(sha256, ref), k -> new Container());
            // 1.A: a container that already has a parent keeps it (the list may have been cut)
            if (previous != null && c.parent == null && canAdopt(previous, c)) {
                previous.add(c);
            }
            previous = c;
        }
        // 1.B: the last reference is the parent, replacing a link made from someone's cut list
        if (self.parent != previous) {
            self.unlink();
            if (previous != null && canAdopt(previous, self)) {
                previous.add(self);
            }
        }
        return self;
    }

    /**
     * Whether {@code parent} may take {@code child} without making a loop: it must not be the child
     * or below it. A child without children of its own (a new message, mostly) needs no walk up.
     */
    private static boolean canAdopt(Container parent, Container child) {
        return parent != child && (child.children.isEmpty() || !parent.descendsFrom(child));
    }

    private static Container only(Container dummy) {
        Container child = dummy.children.get(0);
        child.parent = null;
        return child;
    }

    /** The base subject of a thread: its message's, or a dummy's first child's. */
    private Subject subject(Container c) {
        Container m = c.dummy() ? c.children.get(0) : c;
        return m.dummy() ? Subject.NONE : subjects[m.hit];
    }

    /** A dummy sorts as its oldest child (RFC 5256 §3 steps 4 and 6); a message has its own date from step 1. */
    private static void dateDummy(Container c) {
        if (c.dummy()) {
            if (c.children.size() > 1) {
                c.children.sort(BY_DATE);
            }
            Container first = c.children.get(0);
            c.date = first.date;
            c.order = first.order;
        }
    }

    private static final Comparator<Container> BY_DATE = Comparator.<Container>comparingLong(c -> c.date)
            .thenComparingInt(c -> c.order);

    /** The answer's tree, built leaves first from the post-order list {@code all}. */
    private static List<Node> nodes(List<Container> roots, List<Container> all, List<Integer> msns) {
        Map<Container, Node> built = new IdentityHashMap<>();
        for (int k = all.size() - 1; k >= 0; k--) {
            Container c = all.get(k);
            List<Node> children = new ArrayList<>(c.children.size());
            for (Container child : c.children) {
                children.add(built.remove(child));
            }
            built.put(c, new Node(c.dummy() ? 0 : msns.get(c.hit), children));
        }
        List<Node> out = new ArrayList<>(roots.size());
        for (Container r : roots) {
            out.add(built.get(r));
        }
        return out;
    }

    /**
     * The THREAD response (RFC 5256 §4): each thread in parentheses, a parent followed by its only
     * child with a space, children that are siblings each in their own parentheses, a dummy by its
     * children alone. {@code number} gives a message's number as the client asked (MSN or UID).
     */
    static String response(List<Node> roots, IntToLongFunction number) {
        StringBuilder sb = new StringBuilder("THREAD");
        if (!roots.isEmpty()) {
            sb.append(' ');
        }
        Deque<Object> todo = new ArrayDeque<>(); // nodes to write and the text between them, in order
        for (int i = roots.size() - 1; i >= 0; i--) {
            todo.push(")");
            todo.push(roots.get(i));
            todo.push("(");
        }
        while (!todo.isEmpty()) {
            Object next = todo.pop();
            if (next instanceof String text) {
                sb.append(text);
                continue;
            }
            Node n = (Node) next;
            if (!n.dummy()) {
                sb.append(number.applyAsLong(n.msn()));
            }
            if (n.children().size() == 1 && !n.dummy()) {
                todo.push(n.children().get(0));
                todo.push(" ");
            } else if (!n.children().isEmpty()) {
                for (int i = n.children().size() - 1; i >= 0; i--) {
                    todo.push(")");
                    todo.push(n.children().get(i));
                    todo.push("(");
                }
                if (!n.dummy()) {
                    todo.push(" ");
                }
            }
        }
        return sb.toString();
    }

    /**
     * The first value of a header field that the envelope does not hold, from the header block
     * kept with the summary or, for a header too big to have been kept, read from the file up to
     * the blank line (as FETCH BODY[HEADER.FIELDS] does), never parsed as a whole message.
     */
    private String headerValue(MessageRef r, MessageSummary s, String field) {
        byte[] header = s.header();
        if (header == null) {
            header = readHeader(r);
        }
        List<String> values = MessageText.headerValues(MessageText.headerText(header, header.length), field);
        return values.isEmpty() ? null : values.get(0);
    }

    private byte[] readHeader(MessageRef r) {
        try (InputStream in = store.openContent(r)) {
            return FetchResponder.headerBlock(in, r.size());
        } catch (NoSuchFileException e) {
            // Swept away since this session last looked while its summary stayed cached: no
            // References, as FETCH sends the section NIL
            return new byte[0];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.mailstack.imapd;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.store.ContentId;
import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.MessageFacts;
import dev.mailstack.store.MessageRef;
import dev.mailstack.store.StoreException;
import dev.mailstack.store.StoreFailure;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Decoded message summaries shared by every IMAP session of the process, each with the
 * BODYSTRUCTURE text rendered from it once asked for. A content never changes once stored, so an
 * entry never goes stale; the least recently used are dropped past {@link #MAX_BYTES}. Like
 * Dovecot's cache, it is what makes a second header sync or BODYSTRUCTURE of a big mailbox cheap,
 * so it may take a twentieth of the heap, between 40 MB and 300 MB (20,000 to 150,000 entries of
 * an ordinary message's 2 KB). It is bounded by an estimate of what its entries weigh, not by
 * their number: a summary keeps a header of up to 32 KiB and a part tree of up to MimeLimits'
 * parts, so counted entries could weigh many times the bound.
 */
final class SummaryCache {
    static final long MAX_BYTES = Math.clamp(Runtime.getRuntime().maxMemory() / 20, 20_000L * 2048, 150_000L * 2048);
    /**
     * An entry's map node, keys, records and lists beyond the octets its stored form counts, and
     * the fields a search decodes and keeps (a subject and a sender, some 128 octets, for ordinary mail).
     */
    static final long ENTRY_OVERHEAD = 640;

    private record Entry(StoredStructure structure, long weight) {
    }

    private final MailboxStore store;
    private final long maxBytes;
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}, as {@link #bytes} is. */
    private final LinkedHashMap<ContentId, Entry> entries = new LinkedHashMap<>(1024, 0.75f, true);
    private long bytes;

    SummaryCache(MailboxStore store) {
        this(store, MAX_BYTES);
    }

    /** With a bound of its own, for tests. */
    SummaryCache(MailboxStore store, long maxBytes) {
        this.store = store;
        this.maxBytes = maxBytes;
    }

    /**
     * What an entry takes in the heap, estimated from its stored form: the decoded strings about its
     * octets again (Java keeps ASCII and Latin-1 text a byte per character), and the BODYSTRUCTURE
     * and BODY rendered from it later about as many, as they spell out the same part tree (the
     * preview adds at most 256 characters). An ordinary message's summary is about 730 octets (the
     * benchmark's 10,000-message corpus): some 2 KB an entry, the figure the count bound was made
     * for, so a cache of ordinary mail holds about as many as before (nearly 150,000 in 300 MB).
     */
    static long weight(byte[] stored) {
        return ENTRY_OVERHEAD + 2L * stored.length;
    }

    /** The estimated bytes of the entries held. */
    long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return entries.size();
        } finally {
            lock.unlock();
        }
    }

    MessageSummary get(MessageRef r) {
        return structure(r).summary();
    }

    /**
     * The summary, or empty when its content is gone: expunged by another session and swept
     * (MailboxStore.sweepContents) before this one heard of it, so the store has no facts for it.
     * For SORT and THREAD, which then take the message as one without headers, as FETCH sends its
     * body sections as NIL.
     */
    Optional<MessageSummary> stored(MessageRef r) {
        try {
            return Optional.of(get(r));
        } catch (StoreException e) {
            if (e.failure() != StoreFailure.EXPUNGED) {
                throw e;
            }
            return Optional.empty();
        }
    }

    StoredStructure structure(MessageRef r) {
        StoredStructure s = cached(r.content());
        if (s == null) {
            byte[] stored = store.facts(r.content()).summary();
            s = StoredStructure.of(MessageSummary.decode(stored));
            put(r.content(), s, weight(stored));
        }
        return s;
    }

    /** Loads the summaries of these messages that are not cached yet, in bulk. */
    void load(Collection<MessageRef> messages) {
        structures(messages, Long.MAX_VALUE);
    }

    /**
     * The structures of the first of these messages, in their order, those not cached yet read in
     * bulk; empty for a message whose content is gone (see {@link #stored}). One look-up in the
     * cache per message, where a load followed by {@link #stored} for each took two, each under
     * the lock: a search of a large mailbox spent a fifth of its time there. As many as weigh
     * {@code maxBytes} at most ({@link #weight}), and always the first: the caller holds them,
     * the cache's bound aside, for as long as it works on them.
     */
    List<Optional<StoredStructure>> structures(Collection<MessageRef> messages, long maxBytes) {
        List<Entry> found = new ArrayList<>(messages.size());
        List<ContentId> missing = new ArrayList<>();
        lock.lock();
        try {
            for (MessageRef r : messages) {
                Entry e = entries.get(r.content());
                found.add(e);
                if (e == null) {
                    missing.add(r.content());
                }
            }
        } finally {
            lock.unlock();
        }
        Map<ContentId, Entry> read = new HashMap<>();
        if (!missing.isEmpty()) {
            for (Map.Entry<ContentId, MessageFacts> e : store.facts(missing).entrySet()) {
                byte[] stored = e.getValue().summary();
                Entry entry = new Entry(StoredStructure.of(MessageSummary.decode(stored)), weight(stored));
                read.put(e.getKey(), entry);
                put(e.getKey(), entry.structure(), entry.weight());
            }
        }
        List<Optional<StoredStructure>> out = new ArrayList<>(found.size());
        long bytes = 0;
        int i = 0;
        for (MessageRef r : messages) {
            Entry e = found.get(i++);
            e = e != null ? e : read.get(r.content());
            bytes += e == null ? 0 : e.weight();
            if (bytes > maxBytes && !out.isEmpty()) {
                break;
            }
            out.add(Optional.ofNullable(e).map(Entry::structure));
        }
        return out;
    }

    private StoredStructure cached(ContentId id) {
        lock.lock();
        try {
            Entry e = entries.get(id);
            return e == null ? null : e.structure();
        } finally {
            lock.unlock();
        }
    }

    /** Keeps the entry, dropping the least recently used past the bound; one heavier than the bound alone is not kept. */
    private void put(ContentId id, StoredStructure s, long weight) {
        if (weight > maxBytes) {
            return;
        }
        lock.lock();
        try {
            Entry old = entries.put(id, new Entry(s, weight));
            bytes += weight - (old == null ? 0 : old.weight());
            for (var eldest = entries.entrySet().iterator(); bytes > maxBytes; ) {
                bytes -= eldest.next().getValue().weight();
                eldest.remove();
            }
        } finally {
            lock.unlock();
        }
    }
}

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Decoded message summaries shared by every IMAP session of the process, each with the
 * BODYSTRUCTURE text rendered from it once asked for. A content never changes once stored, so an
 * entry never goes stale; the least recently used are dropped past {@link #CAPACITY}. Like
 * Dovecot's cache, it is what makes a second header sync or BODYSTRUCTURE of a big mailbox cheap,
 * so it holds as many as a twentieth of the heap takes (an entry weighs about 2 KB: 150,000 in the
 * 6 GB a JVM takes by default on a 24 GB machine, the most it holds), and never fewer than 20,000:
 * a mailbox bigger than the cache is read from the database on every full sync, each time.
 */
final class SummaryCache {
    static final int CAPACITY = Math.clamp(Runtime.getRuntime().maxMemory() / 20 / 2048, 20_000, 150_000);

    private final MailboxStore store;
    private final ReentrantLock lock = new ReentrantLock();
    private final LinkedHashMap<ContentId, StoredStructure> entries = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ContentId, StoredStructure> eldest) {
            return size() > CAPACITY;
        }
    };

    SummaryCache(MailboxStore store) {
        this.store = store;
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
            s = StoredStructure.of(MessageSummary.decode(store.facts(r.content()).summary()));
            put(r.content(), s);
        }
        return s;
    }

    /** Loads the summaries of these messages that are not cached yet, in bulk. */
    void load(Collection<MessageRef> messages) {
        List<ContentId> missing = new ArrayList<>();
        lock.lock();
        try {
            for (MessageRef r : messages) {
                if (!entries.containsKey(r.content())) {
                    missing.add(r.content());
                }
            }
        } finally {
            lock.unlock();
        }
        if (missing.isEmpty()) {
            return;
        }
        for (Map.Entry<ContentId, MessageFacts> e : store.facts(missing).entrySet()) {
            put(e.getKey(), StoredStructure.of(MessageSummary.decode(e.getValue().summary())));
        }
    }

    private StoredStructure cached(ContentId id) {
        lock.lock();
        try {
            return entries.get(id);
        } finally {
            lock.unlock();
        }
    }

    private void put(ContentId id, StoredStructure s) {
        lock.lock();
        try {
            entries.put(id, s);
        } finally {
            lock.unlock();
        }
    }
}

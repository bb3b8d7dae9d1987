package dev.mailstack.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a message row needs of its content row, its size and file key (the SHA-256), kept in the
 * process for every session: a content row never changes and its id is never given to another
 * (an identity column), so an entry is never stale. Reading them with each message meant a join,
 * and H2 reads a whole contents row, its summary (kilobytes) included, to give two of its columns:
 * on a 100,000-message INBOX that was most of SELECT and of a STORE 1:* and most of the work of
 * every other session catching up with one (measured with JFR, eighteenth session's corpus).
 * One shared key string per content also spares each open view a copy of its own.
 */
final class ContentKeys {
    /** At about 200 bytes an entry, a fortieth of the heap: 100,000 messages are 20 MB. */
    static final int CAPACITY = (int) Math.clamp(Runtime.getRuntime().maxMemory() / 40 / 200, 20_000, 2_000_000);
    /** Missing ids up to this many are asked for by id; past it, one pass over the range's rows with the join. */
    private static final int BY_ID = 300;
    /** Ids per IN list: H2 compares each row with every parameter of an IN list (NOTES, eighteenth session). */
    private static final int IN_LIST = 100;

    record Entry(long size, String key) {
    }

    private final Map<Long, Entry> entries = new ConcurrentHashMap<>();
    private final int capacity;

    ContentKeys() {
        this(CAPACITY);
    }

    ContentKeys(int capacity) {
        this.capacity = capacity;
    }

    Entry get(long contentId) {
        return entries.get(contentId);
    }

    /** Keeps an entry read from the contents table; returns the one kept, which may be an earlier equal one. */
    Entry put(long contentId, long size, String key) {
        Entry e = entries.get(contentId);
        if (e != null) {
            return e;
        }
        if (entries.size() >= capacity) {
            evictSome();
        }
        Entry fresh = new Entry(size, key);
        Entry earlier = entries.putIfAbsent(contentId, fresh);
        return earlier != null ? earlier : fresh;
    }

    int size() {
        return entries.size();
    }

    /** An eighth of the entries, in the map's order (no order of use is kept: that would cost every reader a write). */
    private void evictSome() {
        int drop = Math.max(1, capacity / 8);
        Iterator<Long> it = entries.keySet().iterator();
        while (drop-- > 0 && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** Forgets a content the sweep removed (its id comes back never; this only gives the memory back). */
    void forget(long contentId) {
        entries.remove(contentId);
    }

    /**
     * The entries of {@code ids}, read from the contents table where not kept yet: by id when they
     * are few, else by one pass joining the messages in the key range {@code [lowKey, highKey]} (where
     * the ids were found) to their contents, the cost a read of those rows had before this cache. The
     * answer is built as it is read, so an eviction meanwhile loses nothing. An id it lacks has no
     * content row (a race with the content sweep, which only removes unused ones).
     */
    Map<Long, Entry> resolve(Connection c, Set<Long> ids, long lowKey, long highKey) throws SQLException {
        Map<Long, Entry> found = new HashMap<>(Math.max(16, ids.size() * 2));
        Set<Long> missing = new HashSet<>();
        for (Long id : ids) {
            Entry e = entries.get(id);
            if (e != null) {
                found.put(id, e);
            } else {
                missing.add(id);
            }
        }
        if (missing.isEmpty()) {
            return found;
        }
        if (missing.size() > BY_ID) {
            try (PreparedStatement ps = c.prepareStatement("SELECT c.id, c.size, c.sha256 FROM messages m"
                    + " JOIN contents c ON c.id = m.content_id WHERE m.id BETWEEN ? AND ?")) {
                ps.setLong(1, lowKey);
                ps.setLong(2, highKey);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(1);
                        if (missing.contains(id) && !found.containsKey(id)) {
                            found.put(id, put(id, rs.getLong(2), rs.getString(3).trim()));
                        }
                    }
                }
            }
            return found;
        }
        List<Long> sorted = new ArrayList<>(missing);
        Collections.sort(sorted);
        for (int from = 0; from < sorted.size(); from += IN_LIST) {
            List<Long> part = sorted.subList(from, Math.min(sorted.size(), from + IN_LIST));
            try (PreparedStatement ps = c.prepareStatement("SELECT id, size, sha256 FROM contents WHERE id IN ("
                    + String.join(", ", Collections.nCopies(part.size(), "?")) + ")")) {
                for (int i = 0; i < part.size(); i++) {
                    ps.setLong(i + 1, part.get(i));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(1);
                        found.put(id, put(id, rs.getLong(2), rs.getString(3).trim()));
                    }
                }
            }
        }
        return found;
    }
}

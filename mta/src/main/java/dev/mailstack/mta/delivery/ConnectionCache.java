package dev.mailstack.mta.delivery;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;

/**
 * Outbound sessions kept open between messages to the same next hop, like Postfix's connection
 * cache (smtp_connection_cache_time_limit 2 s): a burst of mail to one domain pays for one TCP
 * connection, TLS handshake and login per concurrent delivery, not one per message. A session
 * is checked with RSET before it carries another message (RFC 5321 §4.1.1.5).
 */
final class ConnectionCache implements AutoCloseable {
    /** How long an idle session is kept. */
    static final Duration IDLE = Duration.ofSeconds(2);
    /** Messages one session carries at most, so no connection lives for ever. */
    static final int MAX_USES = 100;

    private record Idle(SmtpClient client, long since) {
    }

    private final Map<Route, Deque<Idle>> idle = new HashMap<>();
    private final Thread janitor;
    private boolean closed;

    ConnectionCache() {
        janitor = Thread.ofVirtual().name("smtp-connection-cache").start(this::evictLoop);
    }

    /**
     * A session to this route that still answers, or empty. One opened under other trusted
     * authorities (before a reload) is closed instead: its certificate check no longer counts.
     */
    Optional<SmtpClient> take(Route route, NextHopTrust trust) {
        while (true) {
            SmtpClient client;
            synchronized (this) {
                Deque<Idle> sessions = idle.get(route);
                Idle newest = sessions == null ? null : sessions.pollLast();
                if (newest == null) {
                    return Optional.empty();
                }
                if (sessions.isEmpty()) {
                    idle.remove(route);
                }
                client = newest.client();
            }
            if (client.trusts(trust) && client.reset()) {
                return Optional.of(client);
            }
            client.close(); // closed by the server meanwhile (its idle timeout), or checked under other authorities
        }
    }

    /**
     * Keeps a session that just finished a transaction, or closes it when full of years, closing
     * (a 421), or the cache is closed.
     */
    void put(Route route, SmtpClient client) {
        if (client.closed()) {
            client.abort(); // lost while sending, or the server said 421 and closes it (RFC 5321 §3.8)
            return;
        }
        if (client.markUsed() < MAX_USES) {
            synchronized (this) {
                if (!closed) {
                    idle.computeIfAbsent(route, r -> new ArrayDeque<>()).addLast(new Idle(client, System.nanoTime()));
                    return;
                }
            }
        }
        client.close();
    }

    private void evictLoop() {
        try {
            while (true) {
                // a clock, not a condition: idle sessions age whether or not anything happens
                Thread.sleep(IDLE.toMillis() / 2);
                List<SmtpClient> expired = new ArrayList<>();
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    long now = System.nanoTime();
                    for (Iterator<Deque<Idle>> it = idle.values().iterator(); it.hasNext(); ) {
                        Deque<Idle> sessions = it.next();
                        while (!sessions.isEmpty() && now - sessions.peekFirst().since() > IDLE.toNanos()) {
                            expired.add(sessions.pollFirst().client());
                        }
                        if (sessions.isEmpty()) {
                            it.remove();
                        }
                    }
                }
                expired.forEach(SmtpClient::close); // QUIT outside the lock
            }
        } catch (InterruptedException e) {
            // closing
        }
    }

    /** Sessions kept right now (for tests). */
    synchronized int size() {
        return idle.values().stream().mapToInt(Deque::size).sum();
    }

    @Override
    public void close() {
        List<SmtpClient> all = new ArrayList<>();
        synchronized (this) {
            closed = true;
            idle.values().forEach(d -> d.forEach(i -> all.add(i.client())));
            idle.clear();
        }
        janitor.interrupt();
        // each waits a moment for the reply to its QUIT: all at once, so a stop waits that moment once
        try (var quitting = Executors.newVirtualThreadPerTaskExecutor()) {
            all.forEach(c -> quitting.execute(c::close));
        }
    }
}

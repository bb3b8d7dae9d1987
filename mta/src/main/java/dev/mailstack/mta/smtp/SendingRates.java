package dev.mailstack.mta.smtp;

import dev.mailstack.store.AccountId;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How many recipients each logged-in account sent to in the last hour, on every SMTP endpoint,
 * held to {@code smtp.max_recipients_per_hour}: a stolen password otherwise sends thousands of
 * messages before anyone notices and puts the server's address on every blocklist (what rspamd's
 * per-user ratelimit and Postfix's anvil rates are used for). Counted in one-minute slots, so the
 * window slides a minute at a time. Kept in memory: a restart forgets, erring toward delivering.
 */
public final class SendingRates {
    private static final int SLOTS = 60;
    private static final long SLOT_MILLIS = 60_000;

    private final Clock clock;
    private final ConcurrentHashMap<AccountId, Window> windows = new ConcurrentHashMap<>();
    /** 0: no limit. Replaced by a SIGHUP. */
    private volatile int perHour;
    private final AtomicLong lastSweep = new AtomicLong(-1);

    public SendingRates(int perHour, Clock clock) {
        this.clock = clock;
        limit(perHour);
    }

    /** No limit: for tests and tools that do not configure one. */
    public static SendingRates unlimited() {
        return new SendingRates(0, Clock.systemUTC());
    }

    public void limit(int recipientsPerHour) {
        if (recipientsPerHour < 0) {
            throw new IllegalArgumentException("negative rate: " + recipientsPerHour);
        }
        perHour = recipientsPerHour;
    }

    public int limit() {
        return perHour;
    }

    /** Whether {@code account} may send to {@code recipients} more in this hour. */
    public boolean allows(AccountId account, int recipients) {
        int max = perHour;
        if (max == 0) {
            return true;
        }
        Window w = windows.get(account);
        return (w == null ? 0 : w.sum(minute())) + recipients <= max;
    }

    /** What {@link #tryRecord} took: so much in that minute's slot (none when there is no limit). */
    public record Taken(long minute, int recipients) {
        static final Taken NOTHING = new Taken(-1, 0);
    }

    /**
     * Takes {@code recipients} from the account's hour if they fit, in one step, so that sessions
     * of one account side by side cannot each pass a check that only looked ({@link #allows});
     * empty when they do not fit.
     */
    public Optional<Taken> tryRecord(AccountId account, int recipients) {
        int max = perHour;
        if (max == 0) {
            return Optional.of(Taken.NOTHING);
        }
        long now = minute();
        boolean[] taken = new boolean[1];
        windows.compute(account, (a, w) -> {
            Window window = w == null ? new Window() : w;
            if (window.sum(now) + recipients <= max) {
                window.add(now, recipients);
                taken[0] = true;
            }
            return window;
        });
        sweep(now);
        return taken[0] ? Optional.of(new Taken(now, recipients)) : Optional.empty();
    }

    /**
     * Gives back what {@link #tryRecord} took for a message that was not sent after all: from the
     * slot it went into, if that slot still holds its minute (later, it has lapsed anyway).
     */
    public void giveBack(AccountId account, Taken taken) {
        if (taken.recipients() == 0) {
            return;
        }
        windows.computeIfPresent(account, (a, w) -> {
            w.takeBack(taken.minute(), taken.recipients());
            return w;
        });
    }

    /** Accounts that sent nothing for an hour hold no memory: looked for once a minute, by one caller. */
    private void sweep(long now) {
        long last = lastSweep.get();
        if (now != last && windows.size() > 64 && lastSweep.compareAndSet(last, now)) {
            for (AccountId idle : windows.keySet()) {
                windows.computeIfPresent(idle, (a, w) -> w.sum(now) <= 0 ? null : w);
            }
        }
    }

    /** Accounts with a window held: bounded by those that sent in the last hour, and a few more. */
    int remembered() {
        return windows.size();
    }

    private long minute() {
        return clock.millis() / SLOT_MILLIS;
    }

    /** Recipients per minute of the last hour, as a ring of slots stamped with their minute. */
    private static final class Window {
        private final long[] minutes = new long[SLOTS];
        private final int[] counts = new int[SLOTS];

        synchronized void add(long minute, int recipients) {
            int slot = (int) (minute % SLOTS);
            if (minutes[slot] != minute) {
                minutes[slot] = minute;
                counts[slot] = 0;
            }
            counts[slot] += recipients;
        }

        synchronized void takeBack(long minute, int recipients) {
            int slot = (int) (minute % SLOTS);
            if (minutes[slot] == minute) {
                counts[slot] = Math.max(0, counts[slot] - recipients);
            }
        }

        synchronized int sum(long minute) {
            int total = 0;
            for (int i = 0; i < SLOTS; i++) {
                if (minute - minutes[i] < SLOTS) {
                    total += counts[i];
                }
            }
            return total;
        }
    }
}

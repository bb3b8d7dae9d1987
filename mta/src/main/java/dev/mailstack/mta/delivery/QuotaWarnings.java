package dev.mailstack.mta.delivery;

import dev.mailstack.store.QuotaChange;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The shares of an account's quota at which local delivery puts a warning into its INBOX, as
 * Dovecot's {@code quota_warning} (mailbox.quota_warning_percent); replaced whole at start and on
 * SIGHUP. A delivery warns when it takes the account's use from below a share to at or above it,
 * so each crossing warns once; only the highest share one delivery crosses warns.
 *
 * @param percents ascending, each 1 to 99, at most {@link #MAX_THRESHOLDS}; none: no warnings
 */
public record QuotaWarnings(List<Integer> percents) {
    /** More would be noise: Dovecot setups use one to three (80, 95, 100 is the usual pattern). */
    public static final int MAX_THRESHOLDS = 5;
    /** No warnings; also local delivery's until the server gives it the configured ones. */
    public static final QuotaWarnings OFF = new QuotaWarnings(List.of());

    public QuotaWarnings {
        percents = List.copyOf(percents);
        if (percents.size() > MAX_THRESHOLDS) {
            throw new IllegalArgumentException("at most " + MAX_THRESHOLDS + " percentages");
        }
        for (int i = 0; i < percents.size(); i++) {
            int p = percents.get(i);
            if (p < 1 || p > 99) {
                // 100 would warn only when the mailbox is full, when the refusals say so already
                throw new IllegalArgumentException("a percentage is 1 to 99: " + p);
            }
            if (i > 0 && p <= percents.get(i - 1)) {
                throw new IllegalArgumentException("percentages in ascending order, each once: " + percents);
            }
        }
    }

    /** "80, 95" (commas, spaces around them allowed; any order); "" for none. */
    public static QuotaWarnings parse(String text) {
        List<Integer> percents = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            String p = part.strip();
            if (p.isEmpty() && text.isBlank()) {
                continue;
            }
            if (!p.matches("[0-9]{1,3}")) {
                throw new IllegalArgumentException("comma-separated whole percentages, e.g. 80,95, or empty for none");
            }
            percents.add(Integer.parseInt(p));
        }
        return new QuotaWarnings(percents.stream().sorted().toList());
    }

    public boolean off() {
        return percents.isEmpty();
    }

    /**
     * The highest share that {@code change} took the account's use from below to at or above;
     * none without a limit (an account without a quota is never warned).
     */
    public OptionalInt crossed(QuotaChange change) {
        if (change.limitBytes().isEmpty()) {
            return OptionalInt.empty();
        }
        long limit = change.limitBytes().getAsLong();
        for (int i = percents.size() - 1; i >= 0; i--) {
            long threshold = threshold(limit, percents.get(i));
            if (change.usedBefore() < threshold && change.usedAfter() >= threshold) {
                return OptionalInt.of(percents.get(i));
            }
        }
        return OptionalInt.empty();
    }

    /** The octets that are {@code percent} of {@code limit}, rounded up, without overflow for any limit. */
    static long threshold(long limit, int percent) {
        return limit / 100 * percent + Math.ceilDiv(limit % 100 * percent, 100);
    }
}

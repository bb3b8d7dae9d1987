package dev.mailstack.mta.queue;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/** Running totals of the mail flow since start, for the metrics endpoint. */
public final class MailCounters {
    final AtomicLong received = new AtomicLong();
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong deferred = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong reports = new AtomicLong();
    private final Map<Refusal, AtomicLong> refused = new EnumMap<>(Refusal.class);
    private final AtomicLong quarantined = new AtomicLong();
    private final Map<Whitelist, AtomicLong> whitelisted = new EnumMap<>(Whitelist.class);

    /** Why the SMTP server refused mail (from another server, or past an account's rate), for mailstack_smtp_refused_total. */
    public enum Refusal {
        /** A DNS blocklist named the client. */
        DNSBL,
        /** The sender's SPF record does not allow the client. */
        SPF,
        /** The author domain's DMARC policy is reject. */
        DMARC,
        /** The From field names no domain that can be checked, or the header is too large to read. */
        UNCHECKABLE,
        /** A milter refused (reject or tempfail), or failed with milter_default_action tempfail or reject. */
        MILTER,
        /** A logged-in account reached smtp.max_recipients_per_hour. */
        RATE_LIMIT,
        /** A recipient deferred by greylisting (smtp.greylist): a new triplet, or a retry before the delay. */
        GREYLIST;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Which of postgrey's whitelists let a recipient skip greylisting (smtp.greylist_whitelist_clients,
     * smtp.greylist_whitelist_recipients), for mailstack_greylist_whitelisted_total.
     */
    public enum Whitelist {
        CLIENTS,
        RECIPIENTS;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public MailCounters() {
        for (Refusal r : Refusal.values()) {
            refused.put(r, new AtomicLong());
        }
        for (Whitelist w : Whitelist.values()) {
            whitelisted.put(w, new AtomicLong());
        }
    }

    public void whitelisted(Whitelist list) {
        whitelisted.get(list).incrementAndGet();
    }

    public long whitelistings(Whitelist list) {
        return whitelisted.get(list).get();
    }

    public void refused(Refusal why) {
        refused.get(why).incrementAndGet();
    }

    public long refusals(Refusal why) {
        return refused.get(why).get();
    }

    /** Messages accepted for the recipients' Junk mailboxes (DMARC p=quarantine, a milter's quarantine). */
    public void quarantined() {
        quarantined.incrementAndGet();
    }

    public long quarantines() {
        return quarantined.get();
    }

    /** Messages committed to the queue (SMTP, reports, forwards). */
    public long received() {
        return received.get();
    }

    /** Recipients delivered, locally or to the next server. */
    public long delivered() {
        return delivered.get();
    }

    /** Delivery attempts put off for a retry. */
    public long deferred() {
        return deferred.get();
    }

    /** Recipients given up on (5xx or expired). */
    public long failed() {
        return failed.get();
    }

    /** Delivery status notifications sent (bounces and delay warnings). */
    public long reports() {
        return reports.get();
    }
}

package dev.mailstack.mta.queue;

import java.util.concurrent.atomic.AtomicLong;

/** Running totals of the mail flow since start, for the metrics endpoint. */
public final class MailCounters {
    final AtomicLong received = new AtomicLong();
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong deferred = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong reports = new AtomicLong();

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

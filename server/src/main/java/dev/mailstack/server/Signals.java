package dev.mailstack.server;

import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * SIGHUP (systemctl reload) and SIGTERM/SIGINT (stop). The JDK's signal API is internal, so its
 * absence is tolerated.
 */
final class Signals {
    private Signals() {
    }

    @SuppressWarnings("removal")
    static void onHangup(Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> action.run());
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            System.getLogger(Signals.class.getName()).log(Level.WARNING, "SIGHUP reload unavailable: " + e.getMessage());
        }
    }

    /**
     * Runs {@code action} once on the first SIGTERM or SIGINT instead of starting the JVM's
     * shutdown. Handled this way, the stop happens before any shutdown hook runs: H2 closes its
     * databases from a hook of its own, which would otherwise race the SMTP transactions the
     * stop lets finish. Returns false when signals cannot be handled (use a shutdown hook then).
     */
    @SuppressWarnings("removal")
    static boolean onTerminate(Runnable action) {
        AtomicBoolean started = new AtomicBoolean();
        sun.misc.SignalHandler handler = signal -> {
            if (started.compareAndSet(false, true)) {
                action.run();
            }
        };
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            System.getLogger(Signals.class.getName()).log(Level.WARNING,
                    "SIGTERM handling unavailable, stopping from a shutdown hook: " + e.getMessage());
            return false;
        }
    }
}

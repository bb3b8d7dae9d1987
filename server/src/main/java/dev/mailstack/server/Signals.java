package dev.mailstack.server;

import java.lang.System.Logger.Level;

/** SIGHUP handling (systemctl reload). The JDK's signal API is internal, so its absence is tolerated. */
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
}

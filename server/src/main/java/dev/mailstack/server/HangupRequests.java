package dev.mailstack.server;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * SIGHUPs for a server that may still be starting. The configuration is read before the ports
 * open, so a reload asked for meanwhile (a script that edited the file and sent SIGHUP at once) is
 * applied as soon as the server runs, not dropped; several asked for then make one reload.
 */
final class HangupRequests {
    private final AtomicReference<Runnable> reload = new AtomicReference<>();
    private final AtomicBoolean pending = new AtomicBoolean();

    /** A SIGHUP arrived: reload now if the server runs, else once it does. */
    void requested() {
        pending.set(true);
        if (reload.get() == null) {
            System.getLogger(HangupRequests.class.getName()).log(System.Logger.Level.INFO,
                    "reload: requested during start-up; applied once the server runs");
        }
        take();
    }

    /** The server runs; {@code action} reloads it. Runs a reload asked for during start-up. */
    void started(Runnable action) {
        reload.set(action);
        take();
    }

    /** Whichever of the two sides sees both the request and the server runs it, once. */
    private void take() {
        Runnable action = reload.get();
        if (action != null && pending.getAndSet(false)) {
            try {
                action.run();
            } catch (RuntimeException e) {
                System.getLogger(HangupRequests.class.getName()).log(System.Logger.Level.ERROR,
                        "reload failed; the running configuration stays", e);
            }
        }
    }
}

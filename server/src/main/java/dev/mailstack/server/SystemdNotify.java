package dev.mailstack.server;

import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * Tells systemd the service is ready (Type=notify) once every listener is open, through
 * systemd-notify; NotifyAccess=all in the unit lets the helper process speak for us.
 */
final class SystemdNotify {
    private SystemdNotify() {
    }

    static void ready() {
        if (System.getenv("NOTIFY_SOCKET") == null) {
            return;
        }
        try {
            Process p = new ProcessBuilder("systemd-notify", "--ready", "--pid=" + ProcessHandle.current().pid())
                    .inheritIO().start();
            p.waitFor();
        } catch (IOException e) {
            System.getLogger(SystemdNotify.class.getName()).log(Level.WARNING, "cannot notify systemd: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

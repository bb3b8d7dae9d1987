package dev.mailstack.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether this process may bind ports below 1024: root, CAP_NET_BIND_SERVICE, or a lowered sysctl. */
final class PrivilegedPorts {
    private PrivilegedPorts() {
    }

    static boolean canBind(int port) {
        if (port >= 1024) {
            return true;
        }
        try {
            int start = Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).strip());
            if (port >= start) {
                return true;
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: fall through to the capability check
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                    return (caps & (1L << 10)) != 0; // CAP_NET_BIND_SERVICE
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }
}

package dev.mailstack.net;

import java.time.Duration;

/**
 * Connection-level limits shared by every protocol (STYLE.md R6). Protocol limits (message size,
 * recipients, literals) live with each protocol.
 *
 * @param maxLineBytes       longest command line accepted, terminator included (RFC 5321 §4.5.3.1.4
 *                           asks for 512; we allow more for long AUTH and IMAP command lines)
 * @param idleTimeout        time a client may stay silent (RFC 5321 §4.5.3.2.7: 5 minutes; IMAP
 *                           RFC 9051 §5.4: at least 30 minutes when authenticated)
 * @param maxConnections     connections served at once on one endpoint
 * @param maxConnectionsPerIp connections from one address at once on one endpoint
 * @param commandsPerSecond  commands one connection may send per second before it is slowed
 *                           down (0: no limit); see {@link CommandPacer}
 */
public record NetLimits(int maxLineBytes, Duration idleTimeout, int maxConnections, int maxConnectionsPerIp,
                        int commandsPerSecond) {
    public NetLimits {
        if (maxLineBytes < 512 || maxConnections < 1 || maxConnectionsPerIp < 1 || idleTimeout.isNegative()
                || idleTimeout.isZero() || commandsPerSecond < 0) {
            throw new IllegalArgumentException("limits out of range: " + maxLineBytes + ", " + idleTimeout + ", "
                    + maxConnections + ", " + maxConnectionsPerIp + ", " + commandsPerSecond);
        }
    }

    /** Limits without command pacing (tests, and callers that pace elsewhere). */
    public NetLimits(int maxLineBytes, Duration idleTimeout, int maxConnections, int maxConnectionsPerIp) {
        this(maxLineBytes, idleTimeout, maxConnections, maxConnectionsPerIp, 0);
    }

    /** Postfix-like defaults: 300 s idle, 8 KiB lines, 1000 connections, 50 per client address, 10,000 commands/s. */
    public static NetLimits defaults() {
        return new NetLimits(8192, Duration.ofSeconds(300), 1000, 50, 10_000);
    }

    public NetLimits withIdleTimeout(Duration timeout) {
        return new NetLimits(maxLineBytes, timeout, maxConnections, maxConnectionsPerIp, commandsPerSecond);
    }
}

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
 * @param minDataRate        bytes per second a payload (DATA, BDAT, a literal) must average, as
 *                           Postfix's smtpd_min_data_rate (0: each read only waits an idle
 *                           timeout); see {@link Connection#payload()}
 */
public record NetLimits(int maxLineBytes, Duration idleTimeout, int maxConnections, int maxConnectionsPerIp,
                        int commandsPerSecond, int minDataRate) {
    /** Postfix 3.7's smtpd_min_data_rate default, in bytes per second. */
    public static final int DEFAULT_MIN_DATA_RATE = 500;

    public NetLimits {
        if (maxLineBytes < 512 || maxConnections < 1 || maxConnectionsPerIp < 1 || idleTimeout.isNegative()
                || idleTimeout.isZero() || commandsPerSecond < 0 || minDataRate < 0) {
            throw new IllegalArgumentException("limits out of range: " + maxLineBytes + ", " + idleTimeout + ", "
                    + maxConnections + ", " + maxConnectionsPerIp + ", " + commandsPerSecond + ", " + minDataRate);
        }
    }

    /** Limits without command pacing (tests, and callers that pace elsewhere), at the default data rate. */
    public NetLimits(int maxLineBytes, Duration idleTimeout, int maxConnections, int maxConnectionsPerIp) {
        this(maxLineBytes, idleTimeout, maxConnections, maxConnectionsPerIp, 0, DEFAULT_MIN_DATA_RATE);
    }

    /** Postfix-like defaults: 300 s idle, 8 KiB lines, 1000 connections, 50 per client address, 10,000 commands/s, 500 bytes/s. */
    public static NetLimits defaults() {
        return new NetLimits(8192, Duration.ofSeconds(300), 1000, 50, 10_000, DEFAULT_MIN_DATA_RATE);
    }

    public NetLimits withIdleTimeout(Duration timeout) {
        return new NetLimits(maxLineBytes, timeout, maxConnections, maxConnectionsPerIp, commandsPerSecond, minDataRate);
    }

    public NetLimits withMinDataRate(int bytesPerSecond) {
        return new NetLimits(maxLineBytes, idleTimeout, maxConnections, maxConnectionsPerIp, commandsPerSecond, bytesPerSecond);
    }
}

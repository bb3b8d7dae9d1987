package dev.mailstack.server;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A listener could not bind its port at start: which endpoint, which address and port, and the
 * configuration key that sets it, so {@code serve} can say what to change instead of a bare
 * "Address already in use".
 */
final class ListenFailure extends IOException {
    private final String endpoint;
    private final ConfigKey key;
    private final InetSocketAddress address;

    ListenFailure(String endpoint, ConfigKey key, InetSocketAddress address, IOException cause) {
        super(endpoint + " cannot listen on " + address.getHostString() + ":" + address.getPort() + ": " + cause.getMessage(),
                cause);
        this.endpoint = endpoint;
        this.key = key;
        this.address = address;
    }

    ConfigKey key() {
        return key;
    }

    /**
     * What happened and what to do; {@code flag} is the serve option that sets this port, when it
     * has one (the TLS ports and HTTP have none).
     */
    String advice(String flag) {
        String port = Integer.toString(address.getPort());
        String why = getCause().getMessage() == null ? "" : getCause().getMessage();
        String holder;
        if (why.contains("in use")) {
            holder = "port " + port + " is already in use (another mailstack, or another mail or web server;"
                    + " ss -ltnp 'sport = :" + port + "' shows which): stop that program";
        } else if (why.contains("ermission") && address.getPort() < 1024) {
            holder = "ports below 1024 need root or CAP_NET_BIND_SERVICE: run as root (or the systemd unit)";
        } else if (why.contains("assign")) {
            holder = address.getHostString() + " is not an address of this machine: set bind (--bind) to one that is";
        } else {
            holder = why;
        }
        return endpoint + " cannot listen on " + address.getHostString() + ":" + port + ": " + holder
                + ", or pick another port with " + (flag == null ? "" : flag + " N, ") + key.key() + " = N in the"
                + " configuration file or the environment variable " + key.environmentName() + " (off turns " + endpoint
                + " off)";
    }

    String endpoint() {
        return endpoint;
    }
}

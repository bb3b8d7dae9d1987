package dev.mailstack.mta.delivery;

/** A host to try for a destination domain, in order of preference. */
public record Route(String host, int port) {
    public static Route parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new Route(hostPort, 25);
        }
        try {
            return new Route(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected host:port, got " + hostPort);
        }
    }

    @Override
    public String toString() {
        return host + ":" + port;
    }
}

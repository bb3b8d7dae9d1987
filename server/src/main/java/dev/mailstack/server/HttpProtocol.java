package dev.mailstack.server;

import dev.mailstack.net.Connection;
import dev.mailstack.net.Protocol;
import java.io.IOException;
import java.util.function.Function;

/** HTTP/1.1 for the autoconfig and metrics resources, served by net's listener (see {@link HttpSession}). */
final class HttpProtocol implements Protocol {
    private final Function<HttpRequest, HttpResponse> resources;

    HttpProtocol(Function<HttpRequest, HttpResponse> resources) {
        this.resources = resources;
    }

    @Override
    public void serve(Connection connection) throws IOException {
        new HttpSession(connection, resources).run();
    }

    /** A whole response (the listener adds the CRLF that ends its header section). */
    @Override
    public String tooManyConnectionsReply() {
        return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\nConnection: close\r\n";
    }

    @Override
    public boolean clientSpeaksFirst() {
        return true;
    }

    /** RFC 9112 §9.5: an idle persistent connection is closed; a response nobody asked for would answer the next request. */
    @Override
    public String idleTimeoutReply() {
        return "";
    }

    @Override
    public String shutdownReply() {
        return "";
    }
}

package dev.mailstack.server;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** What the endpoint answers: a status, a content type and the content (left out for HEAD by the session). */
record HttpResponse(int status, String contentType, byte[] body, Map<String, String> headers) {
    HttpResponse {
        headers = Map.copyOf(headers);
    }

    static HttpResponse of(int status, String contentType, String body) {
        return new HttpResponse(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** A short plain-text answer, for errors. */
    static HttpResponse text(int status, String body) {
        return of(status, "text/plain; charset=utf-8", body);
    }

    HttpResponse withHeader(String name, String value) {
        java.util.HashMap<String, String> more = new java.util.HashMap<>(headers);
        more.put(name, value);
        return new HttpResponse(status, contentType, body, more);
    }

    /** RFC 9110 §15's reason phrases for the statuses this endpoint sends. */
    String reason() {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status " + status;
        };
    }
}

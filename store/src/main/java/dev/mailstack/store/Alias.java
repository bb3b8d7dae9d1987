package dev.mailstack.store;

/** {@code address} ("user@domain", or "@domain" for the domain's catch-all) forwards to {@code target}. */
public record Alias(String address, String target) {
}

package dev.mailstack.store;

public record ContentId(long value) {
}

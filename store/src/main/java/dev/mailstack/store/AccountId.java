package dev.mailstack.store;

public record AccountId(long value) {
}

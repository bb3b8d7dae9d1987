package dev.mailstack.store;

import java.util.OptionalLong;

public record Account(AccountId id, String address, boolean disabled, OptionalLong quotaBytes, long usedBytes) {
}

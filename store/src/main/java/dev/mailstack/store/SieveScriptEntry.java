package dev.mailstack.store;

/** One of an account's Sieve scripts as a listing shows it: its name and whether delivery runs it. */
public record SieveScriptEntry(String name, boolean active) {
}

package dev.mailstack.store;

/** How a STORE-like operation changes flags. */
public record FlagChange(Mode mode, Flags flags) {
    public enum Mode { ADD, REMOVE, REPLACE }

    public Flags applyTo(Flags current) {
        return switch (mode) {
            case ADD -> current.with(flags);
            case REMOVE -> current.without(flags);
            case REPLACE -> flags;
        };
    }
}

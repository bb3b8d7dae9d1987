package dev.mailstack.store;

/** The system flags every protocol shares; stored as one bit each. */
public enum Flag {
    SEEN("\\Seen"), ANSWERED("\\Answered"), FLAGGED("\\Flagged"), DELETED("\\Deleted"), DRAFT("\\Draft");

    private final String wireName;

    Flag(String wireName) {
        this.wireName = wireName;
    }

    /** The name the mail protocols give this flag, e.g. {@code \Seen}. */
    public String wireName() {
        return wireName;
    }

    int bit() {
        return 1 << ordinal();
    }

    public static java.util.Optional<Flag> byWireName(String name) {
        for (Flag f : values()) {
            if (f.wireName.equalsIgnoreCase(name)) {
                return java.util.Optional.of(f);
            }
        }
        return java.util.Optional.empty();
    }
}

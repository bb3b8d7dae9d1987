package dev.mailstack.store;

/** Identifies one queued message; shown to SMTP clients as "queued as <id>". */
public record QueueId(long value) {
    @Override
    public String toString() {
        return "Q" + Long.toHexString(value).toUpperCase(java.util.Locale.ROOT);
    }

    public static QueueId parse(String text) {
        if (text.length() < 2 || Character.toUpperCase(text.charAt(0)) != 'Q') {
            throw new IllegalArgumentException("not a queue id: " + text);
        }
        return new QueueId(Long.parseLong(text.substring(1), 16));
    }
}

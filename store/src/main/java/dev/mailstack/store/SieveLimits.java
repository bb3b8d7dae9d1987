package dev.mailstack.store;

/**
 * How many Sieve scripts an account may keep and how large each may be (STYLE.md R6); refused
 * with {@link StoreFailure#OVER_QUOTA} and {@link StoreFailure#TOO_BIG}, which ManageSieve
 * answers with QUOTA/MAXSCRIPTS and QUOTA/MAXSIZE (RFC 5804 §1.3).
 *
 * @param maxScripts     scripts per account, the active one included (default 20)
 * @param maxScriptBytes octets of one script in UTF-8, as ManageSieve counts them (default 64 KiB)
 */
public record SieveLimits(int maxScripts, int maxScriptBytes) {
    public static final int DEFAULT_MAX_SCRIPTS = 20;
    /** A filter set is a few kilobytes; 64 KiB leaves room for long lists of addresses. */
    public static final int DEFAULT_MAX_SCRIPT_BYTES = 64 * 1024;
    /** The content column's bound (V13): a script of this many octets has at most as many characters. */
    public static final int MAX_SCRIPT_BYTES = 1_000_000;

    public SieveLimits {
        if (maxScripts < 1) {
            throw new IllegalArgumentException("maxScripts must be at least 1: " + maxScripts);
        }
        if (maxScriptBytes < 1 || maxScriptBytes > MAX_SCRIPT_BYTES) {
            throw new IllegalArgumentException("maxScriptBytes must be from 1 to " + MAX_SCRIPT_BYTES + ": " + maxScriptBytes);
        }
    }

    public static SieveLimits defaults() {
        return new SieveLimits(DEFAULT_MAX_SCRIPTS, DEFAULT_MAX_SCRIPT_BYTES);
    }
}

package dev.mailstack.mta.inbound;

/**
 * Ends an evaluation with temperror or permerror from wherever it is found, however deep in
 * include and redirect (RFC 7208 §4.6.4, §5.2: either result of an inner check is the whole
 * check's). It never leaves this package: {@link SpfCheck#check} turns it into a result.
 */
final class SpfError extends Exception {
    private final SpfResult.Kind kind;

    private SpfError(SpfResult.Kind kind, String reason) {
        super(reason, null, false, false);
        this.kind = kind;
    }

    /** RFC 7208 §2.6.7: the domain's records cannot be read as published. */
    static SpfError permanent(String reason) {
        return new SpfError(SpfResult.Kind.PERMERROR, reason);
    }

    /** RFC 7208 §2.6.6: DNS did not answer; a later try may succeed. */
    static SpfError temporary(String reason) {
        return new SpfError(SpfResult.Kind.TEMPERROR, reason);
    }

    SpfResult.Kind kind() {
        return kind;
    }
}

package dev.mailstack.sieve;

import java.util.List;

/** A Sieve script (RFC 5228) parsed and checked, ready to run against any number of messages. */
public final class SieveScript {
    /** The extensions this implementation offers, as `require` and ManageSieve's SIEVE capability name them. */
    public static final List<String> EXTENSIONS = List.of("fileinto");

    private SieveScript() {
    }

    /** Parses and checks a script; throws with the line and a reason a user can act on. */
    public static SieveScript parse(String text) throws SieveException {
        return new SieveScript();
    }
}

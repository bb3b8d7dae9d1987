package dev.mailstack.net;

import java.util.regex.Pattern;

/**
 * Host name syntax (RFC 1123 §2.1: letters, digits and hyphens in labels of at most 63, no hyphen
 * at either end; two labels at least), for names that become DNS queries or folder names, where
 * anything else (a slash, "..", a NUL) must never get through.
 */
public final class HostName {
    private static final Pattern LDH = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+");

    private HostName() {
    }

    /** Whether {@code name}, in lower case, is a host name. */
    public static boolean isValid(String name) {
        return LDH.matcher(name).matches();
    }
}

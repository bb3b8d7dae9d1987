package dev.mailstack.sieve;

import dev.mailstack.mime.AddressList;
import java.util.List;

/**
 * Checks that a string is one plain mail address, as redirect (RFC 5228 §4.2) and vacation's
 * :addresses and :from need, and gives it back as local@domain.
 */
final class RedirectAddress {
    private RedirectAddress() {
    }

    /** {@code local@domain}, or null if the text is not exactly one address with both parts. */
    static String parse(String text) {
        if (text == null || text.isBlank() || text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return null;
        }
        List<AddressList.Address> list = AddressList.parse(text);
        if (list.size() != 1) {
            return null;
        }
        AddressList.Address a = list.get(0);
        if (a.isGroupStart() || a.isGroupEnd() || a.mailbox() == null || a.mailbox().isEmpty()
                || a.host() == null || a.host().isEmpty() || a.host().contains(" ") || a.mailbox().contains(" ")) {
            return null;
        }
        return a.mailbox() + "@" + a.host();
    }
}

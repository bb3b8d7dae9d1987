package dev.mailstack.store;

import java.util.List;

/** Where mail for one address goes, after aliases, catch-all and {@code +tag} are applied. */
public sealed interface AddressResolution {
    /** A domain we do not host: the mail is for another server. */
    record NotLocal() implements AddressResolution {
    }

    /** A hosted domain without such a user, alias or catch-all. */
    record NoSuchUser() implements AddressResolution {
    }

    /** Local accounts to deliver to, plus alias targets on other servers. */
    record Deliver(List<Account> accounts, List<String> forwards) implements AddressResolution {
        public Deliver {
            accounts = List.copyOf(accounts);
            forwards = List.copyOf(forwards);
        }
    }
}

package dev.mailstack.sieve;

import java.util.List;
import java.util.Map;

/**
 * A command's or test's arguments after checking: the tags given, each mapped to its value (or to
 * the tag itself when it takes none), and the positional arguments in order.
 */
record Arguments(Map<String, Argument> tags, List<Argument> positional) {
    Arguments {
        tags = Map.copyOf(tags);
        positional = List.copyOf(positional);
    }

    boolean has(String tag) {
        return tags.containsKey(tag);
    }

    /** The first of {@code names} that was given, or null. */
    String firstOf(String... names) {
        for (String n : names) {
            if (tags.containsKey(n)) {
                return n;
            }
        }
        return null;
    }

    List<String> strings(String tag) {
        return ((Argument.Strings) tags.get(tag)).values();
    }

    String string(String tag) {
        return strings(tag).get(0);
    }

    long number(String tag) {
        return ((Argument.Number) tags.get(tag)).value();
    }

    List<String> positionalStrings(int index) {
        return ((Argument.Strings) positional.get(index)).values();
    }

    String positionalString(int index) {
        return positionalStrings(index).get(0);
    }
}

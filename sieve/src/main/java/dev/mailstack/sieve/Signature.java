package dev.mailstack.sieve;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What a command or test accepts (RFC 5228 §2.6, §8.2): the extension it needs, its tagged
 * arguments, its positional arguments, and whether it takes a test, a test list or a block.
 */
record Signature(String name, String extension, Map<String, TagSpec> tags, List<Kind> positional,
        int optionalLeading, Nested nested) {

    /** The type of a positional argument or a tag's value. */
    enum Kind {
        NONE("nothing"), STRING("a string"), STRING_LIST("a string list"), NUMBER("a number");

        final String description;

        Kind(String description) {
            this.description = description;
        }
    }

    /** What follows the arguments. */
    enum Nested {
        NOTHING, TEST, TEST_LIST, TEST_AND_BLOCK, BLOCK
    }

    /**
     * A tagged argument: the value it takes, the group of which only one may be given (null when
     * it is alone), and the extension it needs (null for the base language).
     */
    record TagSpec(String name, Kind value, String group, String extension) {
    }

    Signature(String name, String extension, List<TagSpec> tags, List<Kind> positional, int optionalLeading,
            Nested nested) {
        this(name, extension, tags.stream().collect(Collectors.toUnmodifiableMap(TagSpec::name, Function.identity())),
                positional, optionalLeading, nested);
    }
}

package dev.mailstack.sieve;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The fields a site keeps scripts from adding or deleting with editheader (RFC 5293 §6 lets an
 * implementation protect fields; Pigeonhole's sieve_editheader_forbid_add and _forbid_delete), on
 * top of those no script ever touches ({@link EditableHeader}). Subject stays editable whatever the
 * lists say, as Pigeonhole keeps it: changing the subject is what most scripts edit the header for.
 * Attempts on a forbidden field are ignored silently, as on the always protected ones (§6).
 *
 * @param forbidAdd    field names, lowercase, that addheader leaves alone
 * @param forbidDelete field names, lowercase, that deleteheader leaves alone
 */
public record EditHeaderRules(Set<String> forbidAdd, Set<String> forbidDelete) {
    /** No field forbidden beyond those always protected. */
    public static final EditHeaderRules NONE = new EditHeaderRules(Set.of(), Set.of());

    public EditHeaderRules {
        forbidAdd = lowercase(forbidAdd);
        forbidDelete = lowercase(forbidDelete);
    }

    private static Set<String> lowercase(Set<String> names) {
        for (String name : names) {
            if (!HeaderSection.isFieldName(name)) {
                throw new IllegalArgumentException("\"" + name + "\" is not a header field name");
            }
        }
        return names.stream().map(n -> n.toLowerCase(Locale.ROOT)).filter(n -> !n.equals("subject"))
                .collect(Collectors.toUnmodifiableSet());
    }

    /**
     * Field names as a site writes them in its configuration: separated by commas or white space
     * (Pigeonhole's lists are space-separated); an empty text is none.
     *
     * @throws IllegalArgumentException naming the first word that is not a field name
     */
    public static Set<String> names(String text) {
        Set<String> names = new java.util.LinkedHashSet<>();
        for (String word : text.split("[,\\s]+")) {
            if (!word.isEmpty()) {
                if (!HeaderSection.isFieldName(word)) {
                    throw new IllegalArgumentException("\"" + word + "\" is not a header field name");
                }
                names.add(word);
            }
        }
        return names;
    }

    boolean mayAdd(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return !EditableHeader.NOT_ADDED.contains(n) && !forbidAdd.contains(n);
    }

    boolean mayDelete(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return !EditableHeader.NOT_DELETED.contains(n) && !forbidDelete.contains(n);
    }
}

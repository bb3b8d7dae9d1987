package dev.mailstack.store;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;

/** System flags plus keywords of one message. Immutable. */
public record Flags(Set<Flag> system, Set<String> keywords) {
    public static final Flags NONE = new Flags(EnumSet.noneOf(Flag.class), Set.of());

    public Flags {
        EnumSet<Flag> copy = EnumSet.noneOf(Flag.class);
        copy.addAll(system);
        system = Collections.unmodifiableSet(copy);
        keywords = Collections.unmodifiableSet(new TreeSet<>(keywords));
        for (String k : keywords) {
            if (!isKeyword(k)) {
                throw new IllegalArgumentException("bad keyword: " + k);
            }
        }
    }

    /** Characters of a keyword at most (R6): a client's STORE or APPEND must check before it builds Flags. */
    public static final int MAX_KEYWORD = 100;
    /** The most a message's keywords take together, spaces between them included: the column's size. */
    public static final int MAX_KEYWORD_TEXT = 4000;

    /** Whether the store keeps {@code k} as a keyword: 1 to {@link #MAX_KEYWORD} printable US-ASCII characters. */
    public static boolean isKeyword(String k) {
        return !k.isEmpty() && k.length() <= MAX_KEYWORD && k.chars().allMatch(c -> c > 0x20 && c < 0x7f);
    }

    public static Flags of(Flag... flags) {
        EnumSet<Flag> set = EnumSet.noneOf(Flag.class);
        set.addAll(java.util.List.of(flags));
        return new Flags(set, Set.of());
    }

    public boolean has(Flag flag) {
        return system.contains(flag);
    }

    public Flags with(Flags other) {
        EnumSet<Flag> s = EnumSet.noneOf(Flag.class);
        s.addAll(system);
        s.addAll(other.system);
        Set<String> k = new TreeSet<>(keywords);
        k.addAll(other.keywords);
        return new Flags(s, k);
    }

    public Flags without(Flags other) {
        EnumSet<Flag> s = EnumSet.noneOf(Flag.class);
        s.addAll(system);
        s.removeAll(other.system);
        Set<String> k = new TreeSet<>(keywords);
        k.removeAll(other.keywords);
        return new Flags(s, k);
    }

    int bits() {
        int bits = 0;
        for (Flag f : system) {
            bits |= f.bit();
        }
        return bits;
    }

    String keywordText() {
        return String.join(" ", keywords);
    }

    /**
     * The flags of a message without keywords, one shared instance per combination of system
     * flags: opening a mailbox of 10,000 messages then builds no sets at all (issue 6, POP3
     * login and IMAP SELECT read every message's flags).
     */
    private static final Flags[] WITHOUT_KEYWORDS = new Flags[1 << Flag.values().length];

    static {
        for (int bits = 0; bits < WITHOUT_KEYWORDS.length; bits++) {
            WITHOUT_KEYWORDS[bits] = build(bits, Set.of());
        }
    }

    static Flags fromColumns(int bits, String keywordText) {
        if ((keywordText == null || keywordText.isBlank()) && bits >= 0 && bits < WITHOUT_KEYWORDS.length) {
            return WITHOUT_KEYWORDS[bits];
        }
        Set<String> k = keywordText == null || keywordText.isBlank()
                ? Set.of() : Set.of(keywordText.trim().split(" +"));
        return build(bits, k);
    }

    private static Flags build(int bits, Set<String> keywords) {
        EnumSet<Flag> s = EnumSet.noneOf(Flag.class);
        for (Flag f : Flag.values()) {
            if ((bits & f.bit()) != 0) {
                s.add(f);
            }
        }
        return new Flags(s, keywords);
    }
}

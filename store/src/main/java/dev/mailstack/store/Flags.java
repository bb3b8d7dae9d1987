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
            if (k.isEmpty() || k.length() > 100 || !k.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("bad keyword: " + k);
            }
        }
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

    static Flags fromColumns(int bits, String keywordText) {
        EnumSet<Flag> s = EnumSet.noneOf(Flag.class);
        for (Flag f : Flag.values()) {
            if ((bits & f.bit()) != 0) {
                s.add(f);
            }
        }
        Set<String> k = keywordText == null || keywordText.isBlank()
                ? Set.of() : Set.of(keywordText.trim().split(" +"));
        return new Flags(s, k);
    }
}

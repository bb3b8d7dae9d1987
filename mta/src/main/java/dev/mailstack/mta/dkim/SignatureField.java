package dev.mailstack.mta.dkim;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mta.dkim.DkimResult.Kind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One DKIM-Signature field, read and checked as far as the header alone allows (RFC 6376 §6.1.1):
 * what the key and the body hash are then checked against.
 *
 * @param names        what a result about it names
 * @param signedHeader the octets the signature covers (§3.7)
 * @param length       l=, or -1 for the whole body
 *
 * Never compared or used as a key: the arrays' identity equality does not matter.
 */
record SignatureField(Names names, String identityDomain, String algorithm, byte[] bodyHash, byte[] signature,
                      byte[] signedHeader, boolean relaxedBody, long length) {
    /** d=, s= and the start of b=, each empty when it is not fit to repeat in our header field. */
    record Names(String domain, String selector, String bPrefix) {
        static final Names NONE = new Names("", "", "");

        DkimResult result(Kind kind, String reason) {
            return new DkimResult(kind, domain, selector, bPrefix, reason);
        }
    }

    /** A field read: fit to verify, or refused on its face, with no DNS asked. */
    sealed interface Reading {
    }

    record Usable(SignatureField field) implements Reading {
    }

    record Refused(DkimResult result) implements Reading {
    }

    DkimResult result(Kind kind, String reason) {
        return names.result(kind, reason);
    }

    static Reading read(String field, List<String> fields, long now) {
        Names names = Names.NONE;
        try {
            Map<String, String> tags = TagList.parse(field.substring(field.indexOf(':') + 1));
            names = names(tags);
            for (String required : List.of("v", "a", "b", "bh", "d", "h", "s")) {
                if (!tags.containsKey(required)) {
                    throw new IllegalArgumentException("signature without " + required + "=");
                }
            }
            if (!tags.get("v").equals("1")) {
                throw new IllegalArgumentException("signature of version " + tags.get("v"));
            }
            if (names.domain().isEmpty() || names.selector().isEmpty()) {
                throw new IllegalArgumentException("bad d= or s=");
            }
            String algorithm = tags.get("a").toLowerCase(Locale.ROOT);
            if (algorithm.equals("rsa-sha1")) {
                throw new IllegalArgumentException("rsa-sha1 is not accepted (RFC 8301)");
            }
            if (!algorithm.equals("rsa-sha256") && !algorithm.equals("ed25519-sha256")) {
                throw new IllegalArgumentException("unknown algorithm " + algorithm);
            }
            List<String> signedNames = new ArrayList<>();
            for (String name : tags.get("h").split(":")) {
                signedNames.add(name.replaceAll("[ \t\r\n]", "").toLowerCase(Locale.ROOT));
            }
            if (!signedNames.contains("from")) {
                throw new IllegalArgumentException("From not signed");
            }
            String identity = tags.getOrDefault("i", "@" + names.domain());
            if (identity.indexOf('@') < 0) {
                throw new IllegalArgumentException("i= without @");
            }
            String identityDomain = identity.substring(identity.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
            if (!identityDomain.equals(names.domain()) && !identityDomain.endsWith("." + names.domain())) {
                throw new IllegalArgumentException("i= not within d=");
            }
            if (tags.containsKey("q") && Arrays.stream(tags.get("q").split(":")).noneMatch(q -> q.strip().equals("dns/txt"))) {
                throw new IllegalArgumentException("no known key query method");
            }
            if (tags.containsKey("x")) {
                long expires = number(tags.get("x"), "x");
                if (expires < now) {
                    throw new IllegalArgumentException("signature expired");
                }
                if (tags.containsKey("t") && expires < number(tags.get("t"), "t")) {
                    throw new IllegalArgumentException("x= before t=");
                }
            }
            String[] canon = tags.getOrDefault("c", "simple/simple").toLowerCase(Locale.ROOT).split("/", -1);
            boolean relaxedHeader = canonicalization(canon[0]);
            boolean relaxedBodyCanon = canon.length > 1 && canonicalization(canon[1]);
            if (canon.length > 2) {
                throw new IllegalArgumentException("bad c=");
            }
            byte[] bodyHash;
            byte[] signature;
            try {
                bodyHash = Base64.getDecoder().decode(TagList.base64(tags.get("bh")));
                signature = Base64.getDecoder().decode(TagList.base64(tags.get("b")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("bh= or b= is not base64");
            }
            return new Usable(new SignatureField(names, identityDomain, algorithm, bodyHash, signature,
                    signedHeader(field, fields, signedNames, relaxedHeader), relaxedBodyCanon,
                    tags.containsKey("l") ? number(tags.get("l"), "l") : -1));
        } catch (IllegalArgumentException e) {
            return new Refused(names.result(Kind.PERMERROR, e.getMessage()));
        }
    }

    private static boolean canonicalization(String name) {
        return switch (name) {
            case "simple" -> false;
            case "relaxed" -> true;
            default -> throw new IllegalArgumentException("unknown canonicalization " + name);
        };
    }

    private static long number(String value, String tag) {
        if (!value.matches("[0-9]{1,12}")) {
            throw new IllegalArgumentException("bad " + tag + "=");
        }
        return Long.parseLong(value);
    }

    /**
     * The octets the signature covers (RFC 6376 §3.7, §5.4.2): the h= fields, each name's
     * instances taken from the bottom up, then this field with b= emptied and no final CRLF.
     */
    private static byte[] signedHeader(String field, List<String> fields, List<String> names, boolean relaxed) {
        Map<String, List<String>> byName = new HashMap<>();
        for (String f : fields) {
            byName.computeIfAbsent(HeaderFields.name(f), n -> new ArrayList<>()).add(f);
        }
        Map<String, Integer> used = new HashMap<>();
        StringBuilder out = new StringBuilder();
        for (String name : names) {
            List<String> instances = byName.getOrDefault(name, List.of());
            int n = used.merge(name, 1, Integer::sum);
            if (n <= instances.size()) {
                out.append(canonical(instances.get(instances.size() - n), relaxed));
            }
        }
        String own = canonical(withoutB(field), relaxed);
        out.append(own, 0, own.length() - 2);
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String canonical(String field, boolean relaxed) {
        return relaxed ? RelaxedCanonicalization.header(field) : field + "\r\n";
    }

    /** The field with the value of its b= tag removed, all else as written. */
    private static String withoutB(String field) {
        int start = field.indexOf(':') + 1;
        while (start < field.length()) {
            int end = field.indexOf(';', start);
            if (end < 0) {
                end = field.length();
            }
            int eq = field.indexOf('=', start);
            if (eq > 0 && eq < end && field.substring(start, eq).replaceAll("[ \t\r\n]", "").equals("b")) {
                return field.substring(0, eq + 1) + field.substring(end);
            }
            start = end + 1;
        }
        return field;
    }

    /** The names a result repeats, kept only when they are names: they go into our header field. */
    private static Names names(Map<String, String> tags) {
        String d = tags.getOrDefault("d", "").toLowerCase(Locale.ROOT);
        String s = tags.getOrDefault("s", "");
        String b = TagList.base64(tags.getOrDefault("b", ""));
        return new Names(d.length() <= 253 && d.matches("[a-z0-9_-]+(\\.[a-z0-9_-]+)*") ? d : "",
                s.length() <= 253 && s.matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*") ? s : "",
                b.substring(0, Math.min(8, b.length())).replaceAll("[^A-Za-z0-9+/=]", ""));
    }
}

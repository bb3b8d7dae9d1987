package dev.mailstack.mta.dkim;

import dev.mailstack.mime.HeaderFields;
import dev.mailstack.mime.TraceField;
import dev.mailstack.net.HostName;
import dev.mailstack.store.MessageSource;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Signs outgoing mail with DKIM (RFC 6376): relaxed/relaxed, the header fields a reader sees and a
 * receiver's filters weigh, From signed once more than it occurs so that no From can be added
 * after signing (RFC 6376 §8.15). A domain's keys are in {@code <keys>/<domain>/}, one {@code
 * <selector>.pem} each ({@code mailstack dkim keygen} makes them); {@link DomainKeys} says which
 * sign: rsa-sha256, ed25519-sha256 (RFC 8463), or both. A domain without one is not signed. Keys
 * are read again when their files change, so a new domain's key counts without a restart.
 */
public final class DkimSigner {
    private static final System.Logger LOG = System.getLogger(DkimSigner.class.getName());
    /**
     * Signed when present; each field as often as it occurs. No DKIM-Signature: each of a dual
     * signature's fields leaves the other out, so both verify whichever a relay keeps.
     */
    private static final List<String> SIGNED = List.of("from", "reply-to", "subject", "date", "to", "cc",
            "message-id", "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding");
    /** Past this a header block is not ours to sign (the store's own limit is far lower in practice). */
    private static final int MAX_HEADER_BYTES = 1 << 20;
    public static final DkimSigner OFF = new DkimSigner(null, "");

    private final Path keys;
    private final String selector;
    private final Map<String, Choice> cache = new ConcurrentHashMap<>();

    /** A domain's keys as last read, with the times that say when to read them again. */
    private record Choice(FileTime folderModified, Map<Path, FileTime> files, DomainKeys keys) {
    }

    /** {@code keys}: the folder of per-domain key folders; null signs nothing. */
    public DkimSigner(Path keys, String selector) {
        this.keys = keys;
        this.selector = selector;
    }

    public static Path keyFile(Path keys, String domain, String selector) {
        return keys.resolve(domain.toLowerCase(Locale.ROOT)).resolve(selector + ".pem");
    }

    /**
     * The keys the domain signs with, RSA first ({@link DomainKeys}); none when it has none or
     * when they cannot be used. Each problem is logged once, when it first shows.
     */
    public List<DkimKey> keysFor(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        if (keys == null || !HostName.isValid(d)) {
            return List.of(); // also what keeps a From: host from naming a path outside the folder
        }
        Path folder = keys.resolve(d);
        try {
            FileTime folderModified = Files.getLastModifiedTime(folder);
            Map<Path, FileTime> files = new HashMap<>();
            for (Path file : DomainKeys.files(folder)) {
                files.put(file, Files.getLastModifiedTime(file));
            }
            Choice known = cache.get(d);
            if (known != null && known.folderModified().equals(folderModified) && known.files().equals(files)) {
                return known.keys().signing();
            }
            DomainKeys chosen = DomainKeys.read(folder, d, selector);
            Choice before = cache.put(d, new Choice(folderModified, files, chosen));
            String outcome = chosen.signing().isEmpty() ? "goes unsigned"
                    : "is signed with " + chosen.signing().stream().map(DkimKey::selector).collect(Collectors.joining(", ")) + " only";
            for (DomainKeys.Problem problem : chosen.problems()) {
                if (before == null || !before.keys().problems().contains(problem)) {
                    LOG.log(Level.WARNING, "dkim: mail from {0} {1}: {2}", d, outcome, problem.text());
                }
            }
            return chosen.signing();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "dkim: mail from {0} goes unsigned: {1}", d, e.toString());
            return List.of();
        }
    }

    /**
     * The DKIM-Signature field (with its CRLF) for {@code message}, to be put in its header. A
     * header that does not end within {@link #MAX_HEADER_BYTES} gives an IOException.
     */
    public String signature(DkimKey key, InputStream message, Instant now) throws IOException {
        return signatures(List.of(key), message, now);
    }

    /**
     * One DKIM-Signature field per key, in the order of {@code keys}, each over the message as
     * given: none signs another's field, so each verifies on its own and the order only says which
     * a verifier meets first. RSA goes on top, as {@link DomainKeys} lists it: it is the one every
     * verifier knows (RFC 8463 §3 signs with both for those that know no Ed25519), and it is as if
     * it were signed last (RFC 6376 §5.6: a new field goes before the ones already there). The
     * message is read once; the body hash is the same for every key.
     */
    public String signatures(List<DkimKey> keys, InputStream message, Instant now) throws IOException {
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        List<String> fields = HeaderFields.read(in, MAX_HEADER_BYTES);
        MessageDigest bodyHash = sha256();
        try (OutputStream body = new RelaxedCanonicalization.Body(new DigestOutputStream(OutputStream.nullOutputStream(), bodyHash))) {
            in.transferTo(body);
        }
        String bh = Base64.getEncoder().encodeToString(bodyHash.digest());
        Map<String, List<String>> byName = new HashMap<>();
        for (String field : fields) {
            byName.computeIfAbsent(HeaderFields.name(field), n -> new ArrayList<>()).add(field);
        }
        List<String> names = new ArrayList<>();
        for (String name : SIGNED) {
            for (int i = byName.getOrDefault(name, List.of()).size(); i > 0; i--) {
                names.add(name);
            }
        }
        names.add("from"); // one From more than there is: a verifier hashes nothing for it, and fails if one is added
        StringBuilder signed = new StringBuilder();
        Map<String, Integer> used = new LinkedHashMap<>();
        for (String name : names) {
            // RFC 6376 §5.4.2: several instances are signed from the bottom up
            List<String> instances = byName.getOrDefault(name, List.of());
            int n = used.merge(name, 1, Integer::sum);
            if (n <= instances.size()) {
                signed.append(RelaxedCanonicalization.header(instances.get(instances.size() - n)));
            }
        }
        StringBuilder out = new StringBuilder();
        for (DkimKey key : keys) {
            String unsigned = "DKIM-Signature: v=1; a=" + key.kind().algorithm() + "; c=relaxed/relaxed; d=" + key.domain()
                    + "; s=" + key.selector() + ";\r\n\tt=" + now.getEpochSecond() + "; h=" + folded(names)
                    + ";\r\n\tbh=" + bh + ";\r\n\tb=";
            String own = RelaxedCanonicalization.header(unsigned);
            // RFC 6376 §3.7: the signature's own field without its CRLF
            String data = signed + own.substring(0, own.length() - 2);
            try {
                String b = Base64.getEncoder().encodeToString(key.sign(data.getBytes(StandardCharsets.ISO_8859_1)));
                out.append(unsigned);
                for (int i = 0; i < b.length(); i += 72) {
                    out.append(i == 0 ? "" : "\r\n\t ").append(b, i, Math.min(b.length(), i + 72));
                }
                out.append("\r\n");
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot sign with the DKIM key " + key.selector() + " of " + key.domain() + ": "
                        + e.getMessage(), e);
            }
        }
        return out.toString();
    }

    /**
     * Writes {@code message} signed: its DKIM-Signature fields first, after our Return-Path line when it
     * starts with one (a relay drops that line, RFC 5321 §4.4, so it is not signed and must stay first).
     */
    public void writeSigned(List<DkimKey> keys, MessageSource message, OutputStream out, Instant now) throws IOException {
        String signature;
        try (InputStream in = message.open()) {
            signature = signatures(keys, in, now);
        }
        try (InputStream in = message.open()) {
            TraceField.write(in, signature, out);
        }
    }

    /** The h= list, folded after a colon before a line passes 78 characters (FWS is allowed there, RFC 6376 §3.5). */
    private static String folded(List<String> names) {
        StringBuilder out = new StringBuilder();
        int line = 20; // "\tt=<10 digits>; h=" starts the line
        for (String name : names) {
            if (!out.isEmpty()) {
                out.append(':');
                if (line + name.length() > 76) {
                    out.append("\r\n\t ");
                    line = 2;
                }
            }
            out.append(name);
            line += name.length() + 1;
        }
        return out.toString();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }
}

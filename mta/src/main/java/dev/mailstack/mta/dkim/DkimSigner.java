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
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Signs outgoing mail with DKIM (RFC 6376): rsa-sha256, relaxed/relaxed, the header fields a
 * reader sees and a receiver's filters weigh, From signed once more than it occurs so that no From
 * can be added after signing (RFC 6376 §8.15). A domain's key is {@code <keys>/<domain>/<selector>.pem}
 * ({@code mailstack dkim keygen} makes it); a domain without one is not signed. Keys are read
 * again when their file changes, so a new domain's key counts without a restart.
 */
public final class DkimSigner {
    private static final System.Logger LOG = System.getLogger(DkimSigner.class.getName());
    /** Signed when present; each field as often as it occurs. */
    private static final List<String> SIGNED = List.of("from", "reply-to", "subject", "date", "to", "cc",
            "message-id", "in-reply-to", "references", "mime-version", "content-type", "content-transfer-encoding");
    /** Past this a header block is not ours to sign (the store's own limit is far lower in practice). */
    private static final int MAX_HEADER_BYTES = 1 << 20;
    public static final DkimSigner OFF = new DkimSigner(null, "");

    private final Path keys;
    private final String selector;
    private final Map<String, Choice> cache = new ConcurrentHashMap<>();

    /** A domain's key as last read, with the times that say when to read it again; empty when none serves. */
    private record Choice(FileTime folderModified, FileTime fileModified, Optional<DkimKey> key) {
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
     * The domain's key: the one under the configured selector, else the domain's only key (so one
     * domain can change keys on its own: a key under a new selector, its record published, then
     * the old file removed). Empty when there is none, when several leave the choice open, or
     * when it cannot be read; the last two are logged once per change of the files.
     */
    public Optional<DkimKey> keyFor(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        if (keys == null || !HostName.isValid(d)) {
            return Optional.empty(); // also what keeps a From: host from naming a path outside the folder
        }
        Path folder = keys.resolve(d);
        try {
            FileTime folderModified = Files.getLastModifiedTime(folder);
            Path file = folder.resolve(selector + ".pem");
            if (!Files.exists(file)) {
                List<Path> all;
                try (var files = Files.list(folder)) {
                    all = files.filter(f -> f.getFileName().toString().endsWith(".pem")).toList();
                }
                if (all.size() != 1) {
                    return remember(d, new Choice(folderModified, null, Optional.empty()), all.isEmpty() ? null
                            : "keys under " + all.size() + " selectors and none under dkim.selector " + selector
                            + ": remove the retired ones from " + folder);
                }
                file = all.getFirst();
            }
            FileTime fileModified = Files.getLastModifiedTime(file);
            Choice known = cache.get(d);
            if (known != null && known.folderModified().equals(folderModified) && fileModified.equals(known.fileModified())) {
                return known.key();
            }
            String name = file.getFileName().toString();
            try {
                return remember(d, new Choice(folderModified, fileModified,
                        Optional.of(DkimKey.read(file, d, name.substring(0, name.length() - 4)))), null);
            } catch (IOException e) {
                return remember(d, new Choice(folderModified, fileModified, Optional.empty()), e.getMessage());
            }
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "dkim: mail from {0} goes unsigned: {1}", d, e.toString());
            return Optional.empty();
        }
    }

    private Optional<DkimKey> remember(String domain, Choice choice, String problem) {
        Choice before = cache.put(domain, choice);
        if (problem != null && !choice.equals(before)) {
            LOG.log(Level.WARNING, "dkim: mail from {0} goes unsigned: {1}", domain, problem);
        }
        return choice.key();
    }

    /**
     * The DKIM-Signature field (with its CRLF) for {@code message}, to be put in its header. A
     * header that does not end within {@link #MAX_HEADER_BYTES} gives an IOException.
     */
    public String signature(DkimKey key, InputStream message, Instant now) throws IOException {
        BufferedInputStream in = new BufferedInputStream(message, 64 * 1024);
        List<String> fields = HeaderFields.read(in, MAX_HEADER_BYTES);
        MessageDigest bodyHash = sha256();
        try (OutputStream body = new RelaxedCanonicalization.Body(new DigestOutputStream(OutputStream.nullOutputStream(), bodyHash))) {
            in.transferTo(body);
        }
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
        String unsigned = "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + key.domain() + "; s=" + key.selector()
                + ";\r\n\tt=" + now.getEpochSecond() + "; h=" + folded(names)
                + ";\r\n\tbh=" + Base64.getEncoder().encodeToString(bodyHash.digest()) + ";\r\n\tb=";
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
        String own = RelaxedCanonicalization.header(unsigned);
        signed.append(own, 0, own.length() - 2); // RFC 6376 §3.7: the signature's own field without its CRLF
        try {
            Signature rsa = Signature.getInstance("SHA256withRSA");
            rsa.initSign(key.privateKey());
            rsa.update(signed.toString().getBytes(StandardCharsets.ISO_8859_1));
            String b = Base64.getEncoder().encodeToString(rsa.sign());
            StringBuilder folded = new StringBuilder(unsigned);
            for (int i = 0; i < b.length(); i += 72) {
                folded.append(i == 0 ? "" : "\r\n\t ").append(b, i, Math.min(b.length(), i + 72));
            }
            return folded.append("\r\n").toString();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot sign with the DKIM key of " + key.domain() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes {@code message} signed: its DKIM-Signature first, after our Return-Path line when it
     * starts with one (a relay drops that line, RFC 5321 §4.4, so it is not signed and must stay first).
     */
    public void writeSigned(DkimKey key, MessageSource message, OutputStream out, Instant now) throws IOException {
        String signature;
        try (InputStream in = message.open()) {
            signature = signature(key, in, now);
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

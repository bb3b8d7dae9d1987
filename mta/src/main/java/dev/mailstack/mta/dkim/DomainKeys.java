package dev.mailstack.mta.dkim;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a domain's key folder holds and the keys its mail is signed with: of each kind (RSA,
 * Ed25519: both when there are both, as RFC 8463 §3 advises while many verifiers know only RSA)
 * the key under the configured selector, {@code SELECTOR.pem} for RSA and {@code
 * SELECTOR-ed25519.pem} for Ed25519, else the folder's only key of that kind. The kind is what a
 * file holds, and a file's name without ".pem" is its selector. So one domain changes keys on its
 * own (a key under a new selector, its record published, then the old file removed), and a damaged
 * key under the configured selector is never replaced by another of the folder's keys.
 *
 * @param signing  RSA first: see {@link DkimSigner#signatures}
 * @param problems files left out and kinds left unsigned, each with why
 */
public record DomainKeys(List<DkimKey> signing, List<Problem> problems) {
    public DomainKeys {
        signing = List.copyOf(signing);
        problems = List.copyOf(problems);
    }

    /** Why a key in the folder does not sign. */
    public sealed interface Problem {
        String text();
    }

    /** A file that is no key we can use: damaged, of another algorithm, too short. */
    public record Unreadable(Path file, String reason) implements Problem {
        @Override
        public String text() {
            return reason; // DkimKey.read names the file
        }
    }

    /** Several keys of one kind and none under the configured selector: which one is published is not ours to guess. */
    public record Undecided(DkimKey.Kind kind, String selector, List<Path> files) implements Problem {
        public Undecided {
            files = List.copyOf(files);
        }

        @Override
        public String text() {
            return files.size() + " " + kind.k() + " keys (" + files.stream().map(f -> f.getFileName().toString())
                    .collect(Collectors.joining(", ")) + ") and none under dkim.selector as " + selector
                    + ".pem: remove the retired ones from " + files.getFirst().getParent();
        }
    }

    /** The key files of a domain's folder, sorted by name; none when there is no folder. */
    static List<Path> files(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".pem")).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /** A key and the file it came from. */
    private record Found(Path file, DkimKey key) {
    }

    /** Reads every key file of {@code folder} and chooses by the rule above; {@code selector} is dkim.selector. */
    public static DomainKeys read(Path folder, String domain, String selector) throws IOException {
        List<Found> found = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        for (Path file : files(folder)) {
            String name = file.getFileName().toString();
            try {
                found.add(new Found(file, DkimKey.read(file, domain, name.substring(0, name.length() - ".pem".length()))));
            } catch (NoSuchFileException e) {
                // removed since the listing: as if it had never been there
            } catch (FileSystemException e) { // not readable by the server's user, say: its message is the bare path
                problems.add(new Unreadable(file, file + ": cannot read it (" + (e.getReason() != null ? e.getReason()
                        : e.getClass().getSimpleName()) + ")"));
            } catch (IOException e) {
                problems.add(new Unreadable(file, e.getMessage()));
            }
        }
        List<DkimKey> signing = new ArrayList<>();
        for (DkimKey.Kind kind : DkimKey.Kind.values()) {
            String own = kind.selector(selector);
            List<Found> ofKind = found.stream().filter(f -> f.key().kind() == kind).toList();
            var named = ofKind.stream().filter(f -> f.key().selector().equals(own)).findFirst();
            if (named.isPresent()) {
                signing.add(named.get().key());
                continue;
            }
            if (problems.stream().anyMatch(p -> p instanceof Unreadable u && u.file().getFileName().toString().equals(own + ".pem"))) {
                continue; // the key under the selector is damaged: another could be one whose record is gone
            }
            if (ofKind.size() == 1) {
                signing.add(ofKind.getFirst().key());
            } else if (ofKind.size() > 1) {
                problems.add(new Undecided(kind, own, ofKind.stream().map(Found::file).toList()));
            }
        }
        return new DomainKeys(signing, problems);
    }
}

package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.net.LineClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * SORT, ESORT and THREAD as imapd answers them, against what Dovecot 2.3.19.1 answered for the
 * same mailbox and commands ({@code dovecot-2.3.19.1.sort}, captured by {@code
 * sort/dovecot-capture.py}, see resources README.md): mime's corpus and then {@code sort/t*.eml}
 * (Chinese RFC 2047 subjects, Re:/Fwd: prefixes, a blob, a missing Date, equal keys, a broken
 * References chain, a missing parent, a duplicate Message-ID, a reference loop, replies to a missing
 * parent whose older one names the thread) are APPENDed over a
 * socket with the internal dates the capture gave them, and each command of {@code
 * sort/commands.txt} is sent. The SORT, THREAD and ESEARCH responses and the result (OK, NO, BAD)
 * must be Dovecot's, but for the tag inside ESEARCH, a space Dovecot leaves after an empty THREAD
 * (RFC 5256 §5: {@code "THREAD" [SP 1*thread-list]}), and the differences in {@link #DELIBERATE}.
 */
class DovecotSortTest {
    private static final Path CORPUS = Path.of("../mime/src/test/resources/corpus");
    private static final Path SORT = Path.of("src/test/resources/sort");
    private static final Path FIXTURE = Path.of("src/test/resources/dovecot-2.3.19.1.sort");

    /** A command with Dovecot's answer: its SORT/THREAD/ESEARCH lines and its result. */
    record Exchange(String command, List<String> responses, String result) {
        @Override
        public String toString() {
            return command;
        }

        String answer() {
            List<String> all = new ArrayList<>(responses);
            all.add(result);
            return String.join("\n", all);
        }
    }

    /** Where our answer to {@code command} differs from Dovecot's on purpose: {@code dovecot} (null: all of it) becomes {@code ours}. */
    record Difference(String command, String dovecot, String ours, String why) {
    }

    /** 06's subject is "=?x-gbk?b?tNnP+g==?=", 促销 in GBK. */
    private static final String X_GBK = "06's subject is in x-gbk, which we read as GBK (促销), as SEARCH does and Thunderbird"
            + " shows it; Dovecot's iconv does not know the name and sorts the undecoded subject after every other";

    static final List<Difference> DELIBERATE = List.of(
            new Difference("SORT (SUBJECT) UTF-8 ALL", "22 18 35 3 34 25 32 8 5 36 37 38 39 43 6",
                    "22 18 6 35 3 34 25 32 8 5 36 37 38 39 43", X_GBK),
            new Difference("SORT (SUBJECT DATE) US-ASCII ALL", "22 18 35 3 34 25 32 8 5 36 37 38 39 43 6",
                    "22 18 6 35 3 34 25 32 8 5 36 37 38 39 43", X_GBK),
            new Difference("SORT (REVERSE SUBJECT) UTF-8 ALL", "6 36 37 38 39 43 5 8 32 25 34 3 35 18 22",
                    "36 37 38 39 43 5 8 32 25 34 3 35 6 18 22", X_GBK),
            new Difference("UID SORT RETURN () (SUBJECT) UTF-8 UNDELETED", "22,18,35,3,34,25,32,8,5,36:39,43,6",
                    "22,18,6,35,3,34,25,32,8,5,36:39,43", X_GBK),
            new Difference("SORT (DATE) KOI8-R ALL", null, "NO",
                    "a charset SEARCH cannot read is NO [BADCHARSET (UTF-8 US-ASCII)] (RFC 5256 §3, as SEARCH's"
                            + " RFC 3501 §6.4.4); Dovecot converts any charset iconv knows"),
            new Difference("THREAD REFERENCES KOI8-R ALL", null, "NO", "the same"));

    @TempDir
    static Path dir;
    static ImapFixture imap;
    static LineClient client;
    static int tags;

    /** Internal date of the k-th message (from 1), as dovecot-capture.py gives it: arrival order is not sequence order, with ties. */
    static String internalDate(int k) {
        int hours = (k * 17) % 40;
        return String.format("%02d-Nov-2026 %02d:00:00 +0000", 1 + hours / 24, hours % 24);
    }

    static List<Path> messages() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path folder : List.of(CORPUS, SORT)) {
            try (Stream<Path> list = Files.list(folder)) {
                list.filter(p -> p.getFileName().toString().endsWith(".eml"))
                        .filter(p -> folder == CORPUS || p.getFileName().toString().startsWith("t"))
                        .sorted().forEach(out::add);
            }
        }
        return out;
    }

    @BeforeAll
    static void appendTheMessages() throws IOException {
        imap = new ImapFixture(dir);
        client = imap.login();
        int k = 0;
        for (Path p : messages()) {
            byte[] message = Files.readAllBytes(p);
            k++;
            client.sendBytes(("p" + k + " APPEND INBOX () \"" + internalDate(k) + "\" {" + message.length + "+}\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            client.sendBytes(message);
            client.send("");
            client.expectEventually("p" + k + " OK .*");
        }
        assertEquals(53, k, "35 corpus messages and 18 threading ones");
        client.send("s SELECT INBOX").expectEventually("s OK .*");
    }

    @AfterAll
    static void stop() throws IOException {
        client.close();
        imap.close();
    }

    static Stream<Exchange> exchanges() throws IOException {
        List<Exchange> out = new ArrayList<>();
        String command = null;
        List<String> responses = new ArrayList<>();
        for (String line : Files.readAllLines(FIXTURE, StandardCharsets.UTF_8)) {
            if (line.startsWith("C: ")) {
                command = line.substring(3);
                responses = new ArrayList<>();
            } else if (line.startsWith("S: * ")) {
                responses.add(normalised(line.substring(3)));
            } else if (line.startsWith("S: ")) {
                out.add(new Exchange(command, responses, line.substring(3)));
            }
        }
        return out.stream();
    }

    /** The tag in ESEARCH is the command's own; a trailing space is not part of the response's data. */
    private static String normalised(String response) {
        return response.replaceFirst("^\\* ESEARCH \\(TAG \"[^\"]*\"\\)", "* ESEARCH (TAG)").stripTrailing();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("exchanges")
    void answersAsDovecotDoes(Exchange dovecot) throws IOException {
        String tag = "c" + ++tags;
        client.send(tag + " " + dovecot.command());
        List<String> responses = new ArrayList<>();
        String result;
        while (true) {
            String line = client.readLine();
            assertTrue(line != null, "connection closed");
            if (line.startsWith(tag + " ")) {
                result = line.substring(tag.length() + 1).split(" ")[0];
                break;
            }
            String[] words = line.split(" ");
            if (words.length > 1 && List.of("SORT", "THREAD", "ESEARCH").contains(words[1])) {
                responses.add(normalised(line));
            }
        }
        assertEquals(expected(dovecot), new Exchange(dovecot.command(), responses, result).answer(), dovecot.command());
    }

    /** Dovecot's answer with this command's deliberate differences put in; each must still be there to replace. */
    private static String expected(Exchange dovecot) {
        String text = dovecot.answer();
        for (Difference d : DELIBERATE) {
            if (d.command().equals(dovecot.command())) {
                if (d.dovecot() == null) {
                    text = d.ours();
                } else {
                    assertTrue(text.contains(d.dovecot()), d.command() + ": Dovecot no longer says " + d.dovecot()
                            + " (" + d.why() + ") in " + text);
                    text = text.replace(d.dovecot(), d.ours());
                }
            }
        }
        return text;
    }
}

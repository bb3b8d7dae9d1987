package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.security.auth.module.UnixSystem;
import dev.mailstack.store.MailboxStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Who may write to the store with no server running: the data folder's owner, told apart by uid. */
class StoreAccessTest {
    /** A uid with no passwd entry, as a container's often is (checked below: it must show as its number). */
    private static final int NAMELESS = 54321;

    @TempDir
    Path dir;

    /**
     * As root (the only way a test can own files as another uid): a data folder of a nameless uid
     * is written offline by a process of that uid, though the JDK calls its user "?", and refused
     * to root, whose uid differs, with the uid in the sudo hint.
     */
    @Test
    @Timeout(120)
    void theFolderOwnerIsToldByUidEvenWithoutAName() throws Exception {
        Path setpriv = Path.of("/usr/bin/setpriv");
        assumeTrue(new UnixSystem().getUid() == 0 && Files.isExecutable(setpriv), "needs root and setpriv");
        Path data = dir.resolve("data");
        try (MailboxStore store = MailboxStore.open(data, null)) {
            store.accounts().addDomain("example.org");
        }
        assertEquals(0, userAdd(data, "root@example.org"), "the owner's own uid: written offline");
        assumeTrue(runsAsNameless(setpriv), "this machine cannot run this JDK as uid " + NAMELESS
                + " (a JDK under a private home folder, or no such uid in this container)");
        try {
            chown(data, NAMELESS);
        } catch (java.nio.file.FileSystemException e) {
            assumeTrue(false, "cannot give files to uid " + NAMELESS + " here: " + e.getMessage());
        }
        assumeTrue(Files.getOwner(data).getName().equals(Integer.toString(NAMELESS)), NAMELESS + " has a passwd entry here");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertEquals(1, userAdd(data, "other@example.org"), "another uid, no server: refused");
        assertTrue(err.contains("belongs to " + NAMELESS + ", so without a running server the command must run as "
                + NAMELESS + " (sudo -u '#" + NAMELESS + "' mailstack user ...)"), err);
        assertFalse(err.contains("waiting"), "no process holds the folder: refused at once\n" + err);
        try (DataFolderLock starting = DataFolderLock.tryTake(data).orElseThrow()) {
            // a server that holds the folder but has not opened its socket yet: root waits for it
            assertEquals(1, userAdd(data, "late@example.org"));
            assertTrue(err.contains("waiting up to " + StoreAccess.STARTING_SERVER_WAIT.toSeconds() + " s")
                    && err.contains("one still starting? try again in a moment"), err);
        }

        Child child = asNameless(setpriv, "-cp", readableClassPath(), "dev.mailstack.server.Main", "user", "add",
                "nameless@example.org", "--password-stdin", "--data", data.toString());
        assertEquals(0, child.exit(), "the folder's own uid, nameless: written offline\n" + child.out() + child.err());
        assertEquals("added user nameless@example.org", child.out().strip(), child.err());
        try (MailboxStore store = MailboxStore.open(data, null)) {
            assertTrue(store.accounts().authenticate("nameless@example.org", "pw").isPresent());
            assertFalse(store.accounts().find("other@example.org").isPresent());
        }
    }

    private String err = "";

    /** What a child JVM run as {@link #NAMELESS} printed; stdout and stderr apart (JAVA_TOOL_OPTIONS notes go to stderr). */
    private record Child(int exit, String out, String err) {
    }

    private Child asNameless(Path setpriv, String... javaArgs) throws Exception {
        List<String> command = new ArrayList<>(List.of(setpriv.toString(), "--reuid=" + NAMELESS, "--regid=" + NAMELESS,
                "--clear-groups", Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:-UsePerfData"));
        command.addAll(List.of(javaArgs));
        Path out = Files.createTempFile(dir, "child", ".out");
        Path errors = Files.createTempFile(dir, "child", ".err");
        // output to files, not pipes: a child that hangs cannot hang this test past its wait
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(errors.toFile()).start();
        p.getOutputStream().write("pw\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 60 s: " + command);
        }
        return new Child(p.exitValue(), Files.readString(out), Files.readString(errors));
    }

    /** Whether this JDK starts at all as {@link #NAMELESS} (it may lie under a folder only root may enter). */
    private boolean runsAsNameless(Path setpriv) throws Exception {
        return asNameless(setpriv, "-version").exit() == 0;
    }

    private int userAdd(Path data, String address) {
        InputStream stdin = System.in;
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream("pw\n".getBytes(StandardCharsets.UTF_8)));
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            return Main.run("user", "add", address, "--password-stdin", "--data", data.toString());
        } finally {
            System.setIn(stdin);
            System.setErr(stderr);
            err = captured.toString(StandardCharsets.UTF_8);
        }
    }

    private static void chown(Path tree, int uid) throws IOException {
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setAttribute(p, "unix:uid", uid);
                Files.setAttribute(p, "unix:gid", uid);
            }
        }
    }

    /** This JVM's class path copied where another uid may read it (the Maven repository may be root's alone). */
    private String readableClassPath() throws IOException {
        Path copy = Files.createDirectory(dir.resolve("classpath"));
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path from = Path.of(entry);
            Path to = copy.resolve(n++ + "-" + from.getFileName());
            if (Files.isDirectory(from)) {
                try (Stream<Path> tree = Files.walk(from)) {
                    for (Path p : (Iterable<Path>) tree::iterator) {
                        Files.copy(p, to.resolve(from.relativize(p).toString()));
                    }
                }
            } else if (Files.exists(from)) {
                Files.copy(from, to);
            }
            entries.add(to.toString());
        }
        try (Stream<Path> all = Files.walk(copy)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    /**
     * A command with no server running (domain add, queue list, backup) holds the data folder while
     * its store is open: a server started meanwhile refuses, instead of opening the database through
     * the command's process (H2's auto-server) and losing it when the command ends.
     */
    @Test
    void aCommandAloneHoldsTheDataFolderWhileItsStoreIsOpen() throws Exception {
        Path data = dir.resolve("data");
        StoreOptions options = new StoreOptions();
        options.data = data;
        try (MailboxStore store = options.openOrMakeStore()) {
            store.accounts().addDomain("example.org");
            assertTrue(DataFolderLock.tryTake(data).isEmpty(), "held by the command: a server starting now refuses");
        }
        try (DataFolderLock released = DataFolderLock.tryTake(data).orElseThrow()) {
            assertTrue(DataFolderLock.heldByAnother(data), "taken again once the command's store closed");
        }
    }
}

package dev.mailstack.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ./mailstack-bench launcher on a machine without a JDK 21: the JDK folders are hidden in a
 * mount namespace of its own (root and unshare(1) needed, else skipped), and the launcher runs
 * from a copy beside a stub ./mailstack, so nothing is built.
 */
class LauncherTest {
    @TempDir
    Path dir;

    @Test
    void withoutAJdk21TheBenchLauncherSaysWhatToInstall() throws Exception {
        Run r = bench(null);
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("mailstack-bench: needs Java 21 or newer; install one (e.g. apt-get install"
                + " openjdk-21-jdk-headless or Temurin 21)"), r.output());
    }

    @Test
    void theBenchLauncherRunsTheJdkThatJavaHomeNames() throws Exception {
        Path home = Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent().getParent();
        Run r = bench(home);
        // The copy's Bench.class is an empty stand-in: getting as far as that JVM refusing it is the point
        assertTrue(r.output().contains("while loading main class dev.mailstack.bench.Bench"), r.output());
    }

    /**
     * ./mailstack's first build, with a stand-in mvn on PATH that prints what it was given and
     * writes colour codes as Maven 3.8 does unless told not to (jansi.strip, jansi.noreset): the launcher says the first
     * build takes a while and asks Maven for plain output.
     */
    @Test
    void theFirstBuildSaysItTakesAWhileAndAsksMavenForPlainOutput() throws Exception {
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Files.copy(Path.of("..", "mailstack"), root.resolve("mailstack"), StandardCopyOption.COPY_ATTRIBUTES);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\necho \"mvn $* MAVEN_OPTS=$MAVEN_OPTS\"\n"
                + "case \"$MAVEN_OPTS\" in *-Djansi.strip=true*-Djansi.noreset=true*) ;; *) printf '\\033[0m\\033[0m\\n' ;; esac\n"
                + "mkdir -p server/target/lib\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder pb = new ProcessBuilder(root.resolve("mailstack").toString(), "--version").redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("JAVA_HOME", Path.of(ProcessHandle.current().info().command().orElseThrow()).getParent().getParent().toString());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher hung");
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(out.contains("mailstack: building (mvn package, tests skipped); the first build downloads the dependencies"
                + " and takes a couple of minutes..."), out);
        assertTrue(out.contains("mvn -q -B -Dstyle.color=never -DskipTests package"), out);
        assertTrue(!out.contains("\u001b["), "no colour codes: " + out);
        assertTrue(Files.exists(root.resolve("server/target/lib/.built")), "built once, not at every start");
    }

    private record Run(int exit, String output) {
    }

    private Run bench(Path javaHome) throws Exception {
        assumeTrue(new ProcessBuilder("unshare", "--mount", "true").start().waitFor() == 0,
                "needs root and unshare(1) to hide the JDKs");
        Path root = Files.createDirectories(dir.resolve("checkout"));
        Files.copy(Path.of("..", "mailstack-bench"), root.resolve("mailstack-bench"), StandardCopyOption.COPY_ATTRIBUTES);
        Path stub = root.resolve("mailstack");
        Files.writeString(stub, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path bench = Files.createDirectories(root.resolve("src-test/target/classes/dev/mailstack/bench"));
        Files.writeString(bench.resolve("Bench.class"), ""); // so the launcher does not build either
        Path empty = Files.createDirectories(dir.resolve("empty"));
        StringBuilder script = new StringBuilder();
        ProcessBuilder pb = new ProcessBuilder().redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        pb.environment().put("HOME", dir.toString());
        if (javaHome != null) {
            // Mounted elsewhere first, so hiding its folder below leaves this view of it
            Path visible = Files.createDirectories(dir.resolve("jdk"));
            script.append("mount --bind ").append(javaHome).append(' ').append(visible).append(" && ");
            pb.environment().put("JAVA_HOME", visible.toString());
        }
        for (String hidden : List.of("/usr/lib/jvm", "/opt")) {
            if (Files.isDirectory(Path.of(hidden))) {
                script.append("mount --bind ").append(empty).append(' ').append(hidden).append(" && ");
            }
        }
        pb.command("unshare", "--mount", "sh", "-c", script + "exec \"$0\" smtp", root.resolve("mailstack-bench").toString());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher hung");
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes()));
    }
}

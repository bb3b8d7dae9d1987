package dev.mailstack.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The command line in a child JVM, as an administrator runs it beside the server: its exit code and output. */
record Cli(int exit, String output) {
    static Cli run(Path scratch, String... args) throws IOException, InterruptedException {
        return withInput(scratch, "", args);
    }

    /** With {@code input} on its standard input, e.g. a password for --password-stdin. */
    static Cli withInput(Path scratch, String input, String... args) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "dev.mailstack.server.Main"));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(scratch, "cli-", ".out");
        Path stdin = Files.writeString(Files.createTempFile(scratch, "cli-", ".in"), input);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                .redirectInput(stdin.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the CLI hung: " + Files.readString(output));
        }
        return new Cli(p.exitValue(), Files.readString(output));
    }
}

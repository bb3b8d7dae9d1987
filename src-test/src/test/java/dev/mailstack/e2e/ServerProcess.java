package dev.mailstack.e2e;

import java.nio.file.Path;

/** {@code mailstack serve} in a child JVM: loopback, one SMTP port, the other listeners off. */
final class ServerProcess {
    private ServerProcess() {
    }

    static ProcessBuilder builder(Path data, int smtpPort) {
        return builder(data, smtpPort, java.util.List.of());
    }

    /** With more arguments for serve, e.g. --config FILE. */
    static ProcessBuilder builder(Path data, int smtpPort, java.util.List<String> more) {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "dev.mailstack.server.Main", "serve", "--data", data.toString(), "--bind", "127.0.0.1",
                "--hostname", "mx.example.org", "--smtp-port", Integer.toString(smtpPort), "--submission-port", "off",
                "--pop3-port", "off", "--imap-port", "off",
                "--managesieve-port", "off").redirectErrorStream(true);
        pb.command().addAll(more);
        pb.environment().put("MAILSTACK_HTTP_PORT", "off");
        return pb;
    }
}

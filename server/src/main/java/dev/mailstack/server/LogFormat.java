package dev.mailstack.server;

/** One line per event: time, level, logger, message with key=value pairs (STYLE.md §5). */
final class LogFormat {
    /** Held so the level sticks: java.util.logging keeps loggers only weakly. */
    private static final java.util.logging.Logger FLYWAY = java.util.logging.Logger.getLogger("org.flywaydb");

    private LogFormat() {
    }

    static void install() {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format",
                    "%1$tFT%1$tT.%1$tLZ %4$s %3$s: %5$s%6$s%n");
        }
        // Flyway narrates every start; its warnings and errors still show.
        FLYWAY.setLevel(java.util.logging.Level.WARNING);
    }
}

package dev.mailstack.e2e;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** Collects what an in-process server logs below one logger, as formatted lines, until closed. */
final class LogCapture extends Handler implements AutoCloseable {
    private final Logger logger;
    private final boolean withLevel;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private LogCapture(String name, boolean withLevel) {
        this.logger = Logger.getLogger(name);
        this.withLevel = withLevel;
        logger.addHandler(this);
    }

    /** Lines as "message with arguments", for every logger named {@code name} or below it. */
    static LogCapture of(String name) {
        return new LogCapture(name, false);
    }

    /** Lines as "LEVEL message with arguments". */
    static LogCapture withLevels(String name) {
        return new LogCapture(name, true);
    }

    List<String> lines() {
        return lines;
    }

    @Override
    public void publish(LogRecord r) {
        String message = new SimpleFormatter().formatMessage(r);
        lines.add(withLevel ? r.getLevel() + " " + message : message);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}

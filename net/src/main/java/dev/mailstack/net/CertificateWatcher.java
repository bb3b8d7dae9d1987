package dev.mailstack.net;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Notices when certificate files change (a certbot renewal) and calls back, so the new certificate
 * is used without a SIGHUP. It polls: every {@code interval} it looks at the files a
 * {@link TlsContext} reads, following symlinks, and compares where they lead, their size, time
 * and file identity with the last look. Polling rather than a WatchService because Let's Encrypt's
 * live/NAME/*.pem are symlinks into ../../archive that certbot re-points: a watch on live/ would
 * miss an in-place rewrite of the target and a watch on archive/ would miss the re-pointing, while
 * a stat of a few files every few seconds sees both for next to no cost.
 *
 * <p>Each state is acted on once: if the callback's reload fails (a half-written file, a key from
 * another pair) the next attempt is made at the next change, not at every poll.
 */
public final class CertificateWatcher implements AutoCloseable {
    private static final Logger LOG = System.getLogger(CertificateWatcher.class.getName());

    /** What a file looks like from outside, after following symlinks; all null when it cannot be seen. */
    record FileStamp(Path path, Path realPath, Object fileKey, FileTime modified, long size) {
        static FileStamp of(Path path) {
            try {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
                return new FileStamp(path, path.toRealPath(), a.fileKey(), a.lastModifiedTime(), a.size());
            } catch (IOException e) {
                // Missing or unreadable for now: its reappearance is a change like any other.
                return new FileStamp(path, null, null, null, -1);
            }
        }
    }

    private final TlsContext tls;
    private final Duration interval;
    private final Runnable onChange;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;
    private List<FileStamp> seen;

    private CertificateWatcher(TlsContext tls, Duration interval, Runnable onChange) {
        this.tls = tls;
        this.interval = interval;
        this.onChange = onChange;
        this.seen = look();
        this.thread = Thread.ofVirtual().name("certificate-watcher").unstarted(this::run);
    }

    /**
     * Starts watching the files of {@code tls}; {@code onChange} runs on the watcher's thread after
     * each change seen and is expected to reload {@code tls} (and say how that went).
     */
    public static CertificateWatcher start(TlsContext tls, Duration interval, Runnable onChange) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("poll interval must be positive: " + interval);
        }
        CertificateWatcher w = new CertificateWatcher(tls, interval, onChange);
        w.thread.start();
        return w;
    }

    private void run() {
        try {
            // Waiting on a latch, not sleeping to be interrupted: an interrupt in the middle of
            // the callback's file reads would close their channels and fail the reload.
            while (!stop.await(interval.toMillis(), TimeUnit.MILLISECONDS)) {
                List<FileStamp> now = look();
                if (!now.equals(seen)) {
                    seen = now;
                    changed();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void changed() {
        try {
            onChange.run();
        } catch (RuntimeException e) {
            // The top of this thread: a bug in one reload must not end the watching.
            LOG.log(Level.ERROR, "certificate reload after a file change failed", e);
        }
    }

    private List<FileStamp> look() {
        List<FileStamp> stamps = new ArrayList<>();
        try {
            for (Path p : tls.files()) {
                stamps.add(FileStamp.of(p));
            }
        } catch (IOException e) {
            // The SNI folder cannot be listed: seen as no files at all, so the reload this change
            // brings reports the folder's error, and its return is a change again.
            return List.of();
        }
        return stamps;
    }

    /** Stops polling and waits for a callback in progress to finish. */
    @Override
    public void close() {
        stop.countDown();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

package dev.mailstack.store;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The free space where message files are written, and how much of it new mail may not take. New
 * mail is refused for a while (SMTP 452 4.3.1, IMAP NO) rather than written into the last of the
 * disk, as Postfix refuses MAIL below {@code queue_minfree}: what fills a disk is new mail, and a
 * full disk fails the database's own writes (H2 then closes it, failing every session at once)
 * while mail already accepted still needs room to be delivered and read.
 */
public final class DiskSpace {
    private static final System.Logger LOG = System.getLogger(DiskSpace.class.getName());
    private static final long WARNING_INTERVAL = TimeUnit.MINUTES.toNanos(1);

    private final Path dir;
    /** Null when the file system cannot be looked up (no /proc/mounts in some sandboxes): space unknown. */
    private final FileStore fileStore;
    private volatile long reserve;
    private final AtomicLong lastWarning = new AtomicLong(System.nanoTime() - WARNING_INTERVAL);

    DiskSpace(Path dir) {
        this.dir = dir;
        FileStore found;
        try {
            found = Files.getFileStore(dir);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot find the file system of {0}, free space is not checked: {1}", dir,
                    e.getMessage());
            found = null;
        }
        this.fileStore = found;
    }

    /** Keeps {@code bytes} free: mail that would leave less is refused (0: only mail larger than what is free). */
    public void keepFree(long bytes) {
        this.reserve = Math.max(0, bytes);
    }

    public long reserve() {
        return reserve;
    }

    /** Bytes this process may still write there; unknown counts as plenty, so a failed look refuses no mail. */
    public long usable() {
        if (fileStore == null) {
            return Long.MAX_VALUE;
        }
        try {
            return fileStore.getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Whether a message of {@code bytes} (0 when its size is not known yet) leaves the reserve
     * free. When it does not, a warning says so, at most once a minute.
     */
    public boolean hasRoomFor(long bytes) {
        long reserve = this.reserve;
        long usable = usable();
        if (usable - Math.max(0, bytes) >= reserve) {
            return true;
        }
        long now = System.nanoTime();
        long last = lastWarning.get();
        if (now - last >= WARNING_INTERVAL && lastWarning.compareAndSet(last, now)) {
            LOG.log(System.Logger.Level.WARNING, "disk nearly full: new mail refused until space is freed free={0} keep={1}"
                    + " dir=\"{2}\": delete old mail or grow the disk (store.min_free_bytes sets what is kept)", usable, reserve, dir);
        }
        return false;
    }
}

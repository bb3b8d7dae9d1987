package dev.mailstack.bench;

import dev.mailstack.mime.MessageSummary;
import dev.mailstack.mime.MimeLimits;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The load generator (issue 9): plain sockets against any SMTP, IMAP and POP3 server, so
 * mailstack and Postfix/Dovecot are measured the same way. Prints a table and JSON lines.
 * Usage: {@code ./mailstack-bench <smtp|imap|pop3|mime|idle|all> [--option value]...}; see {@link #usage()}.
 */
public final class Bench {
    private final Map<String, String> opt = new LinkedHashMap<>();
    private final List<Map<String, Object>> results = new ArrayList<>();
    private final String label;

    private Bench(String[] args) {
        for (int i = 1; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        label = opt.getOrDefault("label", "server");
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help")) {
            System.out.println(usage());
            return;
        }
        Bench b = new Bench(args);
        long cpu0 = cpu();
        long t0 = System.nanoTime();
        switch (args[0]) {
            case "smtp" -> b.smtp();
            case "imap" -> b.imap();
            case "pop3" -> b.pop3();
            case "mime" -> b.mime();
            case "idle" -> b.idle();
            case "all" -> {
                b.mime();
                b.smtp();
                b.imap();
                b.pop3();
                b.idle();
            }
            default -> {
                System.err.println(usage());
                System.exit(2);
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        System.out.printf("client cpu %.1f s over %.1f s wall (%.0f%% of one core)%n", (cpu() - cpu0) / 1e9, wall,
                100.0 * (cpu() - cpu0) / 1e9 / wall);
        for (Map<String, Object> r : b.results) {
            StringBuilder json = new StringBuilder("{");
            r.forEach((k, v) -> json.append(json.length() > 1 ? "," : "").append('"').append(k).append("\":")
                    .append(v instanceof String str ? "\"" + str.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : v));
            System.out.println(json.append('}'));
        }
    }

    static String usage() {
        return String.join("\n",
                "mailstack-bench <smtp|imap|pop3|mime|idle|all> [options]",
                "  --host 127.0.0.1 --smtp-port 2525 --imap-port 1143 --pop3-port 1110",
                "  --user user1@example.test --password secret --rcpt user2@example.test",
                "  smtp: --messages 2000 --clients 1,8,32 --sizes 2048,102400",
                "  imap: --mailbox-size 10000 (populates the user's INBOX by APPEND if it holds fewer)",
                "  idle: --connections 1000 --server-pid PID (server memory per idle IMAP connection:",
                "        a JVM's heap after a full GC, else the PSS of the process and its children)",
                "  all: mime, smtp, imap, pop3 and idle",
                "  --repeat 3 (median, with the min; every figure, after one unrecorded run) --label mailstack",
                "  each figure also gives the client's own CPU use while it was measured (client_cpu_pct)");
    }

    private String o(String key, String def) {
        return opt.getOrDefault(key, def);
    }

    private int port(String proto, String def) {
        return Integer.parseInt(o(proto + "-port", def));
    }

    private static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Client CPU time and wall time at the previous figure: each figure says how busy the client was for it. */
    private long cpuMark = cpu();
    private long wallMark = System.nanoTime();

    private void report(String bench, String metric, double value, String unit, Map<String, Object> extra) {
        long cpuNow = cpu();
        long wallNow = System.nanoTime();
        double clientCpu = 100.0 * (cpuNow - cpuMark) / Math.max(1, wallNow - wallMark);
        cpuMark = cpuNow;
        wallMark = wallNow;
        extra = new LinkedHashMap<>(extra);
        extra.put("client_cpu_pct", Math.round(clientCpu));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("server", label);
        r.put("bench", bench);
        r.put("metric", metric);
        r.put("value", Math.round(value * 100) / 100.0);
        r.put("unit", unit);
        r.putAll(extra);
        results.add(r);
        System.out.printf("%-10s %-8s %-40s %12.2f %s %s%n", label, bench, metric, value, unit, extra.isEmpty() ? "" : extra);
    }

    /** Runs {@code work} --repeat times, reports the median (and the min) and returns it. */
    private double timed(String bench, String metric, String unit, Measured work) throws Exception {
        return timed(bench, metric, unit, Map.of(), work);
    }

    private double timed(String bench, String metric, String unit, Map<String, Object> extra, Measured work) throws Exception {
        List<Double> v = new ArrayList<>();
        if (repeat() > 1) {
            // One unrecorded run first: the client's own code for this figure is compiled before it
            // is measured, for any server, so that a cold first run does not count in the median.
            work.run();
        }
        for (int i = 0; i < repeat(); i++) {
            v.add(work.run());
        }
        return reportMedian(bench, metric, unit, extra, v);
    }

    private int repeat() {
        return Integer.parseInt(o("repeat", "1"));
    }

    /** The median of several runs' values, with their min and count when there are several. */
    private double reportMedian(String bench, String metric, String unit, Map<String, Object> extra, List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        Map<String, Object> all = new LinkedHashMap<>(extra);
        if (v.size() > 1) {
            all.put("min", v.get(0));
            all.put("runs", v.size());
        }
        double median = v.get(v.size() / 2);
        report(bench, metric, median, unit, all);
        return median;
    }

    interface Measured {
        double run() throws Exception;
    }

    // --- corpus

    /** Realistic varied messages: ASCII, Chinese RFC 2047 subjects, GBK bodies, multipart with attachments. */
    static byte[] message(int i, int size) {
        Random r = new Random(i);
        String subject = switch (i % 4) {
            case 0 -> "Quarterly report " + i;
            case 1 -> "=?UTF-8?B?" + Base64.getEncoder().encodeToString(("测试邮件 " + i).getBytes(StandardCharsets.UTF_8)) + "?=";
            case 2 -> "=?GBK?B?" + Base64.getEncoder().encodeToString(("中文主题 " + i).getBytes(Charset.forName("GBK"))) + "?=";
            default -> "Re: meeting notes " + i;
        };
        StringBuilder h = new StringBuilder();
        h.append("From: Sender ").append(i % 17).append(" <sender").append(i % 17).append("@example.net>\r\n");
        h.append("To: user@example.test\r\nSubject: ").append(subject).append("\r\n");
        h.append("Date: Tue, 1 Dec 2026 10:").append(String.format("%02d", i % 60)).append(":00 +0000\r\n");
        h.append("Message-ID: <bench-").append(i).append("@example.net>\r\nMIME-Version: 1.0\r\n");
        StringBuilder body = new StringBuilder();
        String filler = i % 4 == 2 ? "国标编码的正文，用于搜索测试。" : "The quick brown fox jumps over the lazy dog. ";
        while (body.length() < size * 0.8) {
            body.append(filler).append(r.nextInt(1000)).append("\r\n");
        }
        byte[] text = body.toString().getBytes(i % 4 == 2 ? Charset.forName("GBK") : StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(size + 1024);
        if (i % 5 == 4) {
            h.append("Content-Type: multipart/mixed; boundary=\"b").append(i).append("\"\r\n\r\n");
            out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(("--b" + i + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(text, 0, Math.min(text.length, 2000));
            out.writeBytes(("\r\n--b" + i + "\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\n"
                    + "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] bin = new byte[Math.max(100, size / 2)];
            r.nextBytes(bin);
            out.writeBytes(Base64.getMimeEncoder().encode(bin));
            out.writeBytes(("\r\n--b" + i + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        } else {
            h.append("Content-Type: text/plain; charset=").append(i % 4 == 2 ? "GBK" : "UTF-8")
                    .append("\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
            out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(text);
        }
        return out.toByteArray();
    }

    // --- SMTP

    private void smtp() throws Exception {
        String host = o("host", "127.0.0.1");
        int port = port("smtp", "2525");
        int n = Integer.parseInt(o("messages", "2000"));
        String rcpt = o("rcpt", "user2@example.test");
        for (String c : o("clients", "1,8,32").split(",")) {
            for (String s : o("sizes", "2048,102400").split(",")) {
                int clients = Integer.parseInt(c);
                int size = Integer.parseInt(s);
                int count = size > 10_000 ? Math.max(clients * 10, n / 10) : n;
                List<Double> accepted = new ArrayList<>();
                List<Double> delivered = new ArrayList<>();
                List<Long> latencies = new ArrayList<>();
                for (int run = 0; run < repeat(); run++) {
                    double[] rates = smtpRound(host, port, rcpt, clients, size, count, latencies);
                    accepted.add(rates[0]);
                    delivered.add(rates[1]);
                }
                Collections.sort(latencies);
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("clients", clients);
                extra.put("size", size);
                extra.put("messages", count);
                extra.put("p50_ms", latencies.get(latencies.size() / 2) / 1e6);
                extra.put("p99_ms", latencies.get((int) (latencies.size() * 0.99)) / 1e6);
                reportMedian("smtp", "accepted msgs/s", "msg/s", extra, accepted);
                reportMedian("smtp", "delivered into mailbox msgs/s", "msg/s", Map.of("clients", clients, "size", size),
                        delivered);
            }
        }
        deliveryLatency(host, port, rcpt);
    }

    /**
     * One SMTP round: {@code count} messages over {@code clients} connections; its accepted and
     * delivered-into-mailbox rates, each transaction's latency added to {@code latencies}.
     */
    private double[] smtpRound(String host, int port, String rcpt, int clients, int size, int count, List<Long> latencies)
            throws Exception {
        // One logged-in IMAP connection watches the INBOX for the whole round: a LOGIN per
        // poll cost Dovecot a process and an auth lookup every 20 ms, load that competed with
        // the deliveries being measured on a small machine.
        Wire watch = imapLogin(rcpt);
        long before = status(watch, "b");
        List<Long> round = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        byte[] body = stuffed(message(1, size));
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int k = 0; k < clients; k++) {
                fs.add(pool.submit(() -> {
                    try (Wire w = new Wire(host, port)) {
                        w.line();
                        ehlo(w);
                        while (next.getAndIncrement() < count) {
                            long s0 = System.nanoTime();
                            transaction(w, rcpt, body);
                            round.add(System.nanoTime() - s0);
                        }
                        w.send("QUIT");
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        latencies.addAll(round);
        // delivered: the recipient's INBOX over IMAP STATUS
        long target = before + count;
        try (watch) {
            for (int poll = 0; status(watch, "p" + poll) < target; poll++) {
                Thread.sleep(20); // the server under test has no event to wait on: poll its mailbox
            }
        }
        double deliveredSecs = (System.nanoTime() - t0) / 1e9;
        return new double[]{count / secs, count / deliveredSecs};
    }

    /** One message: MAIL, RCPT and DATA in one send (PIPELINING), then the dot-stuffed body; its 250. */
    private static void transaction(Wire w, String rcpt, byte[] body) throws IOException {
        w.write(("MAIL FROM:<bench@example.net>\r\nRCPT TO:<" + rcpt + ">\r\nDATA\r\n").getBytes(StandardCharsets.US_ASCII));
        w.flush();
        expect(w.line(), "250");
        expect(w.line(), "250");
        expect(w.line(), "354");
        w.write(body);
        w.write(".\r\n".getBytes(StandardCharsets.US_ASCII));
        w.flush();
        expect(w.line(), "250");
    }

    /** 250 to visible in INBOX (IMAP STATUS polling), one message at a time. */
    private void deliveryLatency(String host, int port, String rcpt) throws Exception {
        List<Long> lat = new ArrayList<>();
        try (Wire w = new Wire(host, port); Wire imap = imapLogin(rcpt)) {
            w.line();
            ehlo(w);
            byte[] body = stuffed(message(2, 2048));
            int tag = 0;
            for (int i = 0; i < 200; i++) {
                long before = status(imap, "t" + tag++);
                transaction(w, rcpt, body);
                long t0 = System.nanoTime();
                while (status(imap, "t" + tag++) <= before) {
                    // poll as fast as the server answers
                }
                lat.add(System.nanoTime() - t0);
            }
        }
        Collections.sort(lat);
        report("smtp", "delivery latency p50 (250 -> in INBOX)", lat.get(lat.size() / 2) / 1e6, "ms",
                Map.of("p99_ms", lat.get((int) (lat.size() * 0.99)) / 1e6));
    }

    /**
     * EHLO, and the server must offer PIPELINING: both loops send MAIL, RCPT and DATA in one
     * group, which RFC 2920 allows only after EHLO advertised it (Postfix 3.9 and the backports
     * of smtpd_forbid_unauth_pipelining drop clients that pipeline after HELO).
     */
    private static void ehlo(Wire w) throws IOException {
        w.send("EHLO bench.example.net");
        boolean pipelining = false;
        String l;
        do {
            l = w.line();
            expect(l, "250");
            pipelining |= l.length() > 4 && l.substring(4).trim().equalsIgnoreCase("PIPELINING");
        } while (l.startsWith("250-"));
        if (!pipelining) {
            throw new IOException("the server does not offer PIPELINING, which the smtp benchmark uses");
        }
    }

    private static void expect(String line, String code) throws IOException {
        if (!line.startsWith(code)) {
            throw new IOException("expected " + code + ", got: " + line);
        }
    }

    static byte[] stuffed(byte[] message) {
        String s = new String(message, StandardCharsets.ISO_8859_1).replace("\r\n.", "\r\n..");
        if (!s.endsWith("\r\n")) {
            s += "\r\n";
        }
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    // --- IMAP

    private Wire imapLogin(String user) throws IOException {
        Wire w = new Wire(o("host", "127.0.0.1"), port("imap", "1143"));
        w.line();
        w.send("l LOGIN \"" + user + "\" \"" + o("password", "secret") + "\"");
        w.imapUntil("l");
        return w;
    }

    private static long status(Wire w, String tag) throws IOException {
        w.send(tag + " STATUS INBOX (MESSAGES)");
        long n = -1;
        while (true) {
            String l = w.line();
            if (l.startsWith("* STATUS")) {
                n = Long.parseLong(l.replaceAll(".*MESSAGES (\\d+).*", "$1"));
            } else if (l.startsWith(tag + " ")) {
                return n;
            }
        }
    }

    private void imap() throws Exception {
        String user = o("user", "user1@example.test");
        int m = Integer.parseInt(o("mailbox-size", "10000"));
        try (Wire w = imapLogin(user)) {
            long have = status(w, "c");
            if (have > m) { // a mailbox left bigger by an earlier run would make two servers' figures incomparable
                throw new IllegalStateException(user + "'s INBOX holds " + have + " messages, more than --mailbox-size "
                        + m + ": empty it first, or measure with --mailbox-size " + have);
            }
            long t0 = System.nanoTime();
            for (long i = have; i < m; i++) {
                byte[] msg = message((int) i, 2000 + (int) (i % 7) * 1500);
                w.write(("a" + i + " APPEND INBOX {" + msg.length + "+}\r\n").getBytes(StandardCharsets.US_ASCII));
                w.write(msg);
                w.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                if (i % 50 == 49 || i == m - 1) {
                    w.flush();
                    for (long k = i - (i % 50); k <= i; k++) {
                        w.imapUntil("a" + k);
                    }
                }
            }
            if (have < m) {
                report("imap", "APPEND (populate)", (m - have) / ((System.nanoTime() - t0) / 1e9), "msg/s", Map.of());
            }
        }
        timed("imap", "LOGIN+SELECT", "ms", () -> {
            long t = System.nanoTime();
            try (Wire w = imapLogin(user)) {
                w.send("s SELECT INBOX");
                w.imapUntil("s");
                return (System.nanoTime() - t) / 1e6;
            }
        });
        try (Wire w = imapLogin(user)) {
            w.send("s SELECT INBOX");
            w.imapUntil("s");
            timed("imap", "header sync UID FETCH 1:* (Thunderbird)", "ms", () -> fetch(w,
                    "UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID "
                            + "Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])"));
            timed("imap", "UID FETCH 1:* (FLAGS)", "ms", () -> fetch(w, "UID FETCH 1:* (FLAGS)"));
            timed("imap", "FETCH 1:* BODYSTRUCTURE", "ms", () -> fetch(w, "FETCH 1:* BODYSTRUCTURE"));
            timed("imap", "BODY[] of every message", "MB/s", () -> {
                long before = w.bytesRead;
                double ms = fetch(w, "FETCH 1:* BODY.PEEK[]");
                return (w.bytesRead - before) / 1e6 / (ms / 1000);
            });
            timed("imap", "SEARCH SUBJECT", "ms", () -> fetch(w, "SEARCH SUBJECT report"));
            timed("imap", "SEARCH BODY", "ms", () -> fetch(w, "SEARCH BODY lazy"));
            timed("imap", "STORE 1:* +FLAGS (\\Flagged)", "ms", () -> {
                double a = fetch(w, "STORE 1:* +FLAGS (\\Flagged)");
                fetch(w, "STORE 1:* -FLAGS.SILENT (\\Flagged)");
                return a;
            });
        }
        for (int clients : new int[]{8, 32}) {
            timed("imap", "mixed workload", "ops/s", Map.of("clients", clients), () -> mixed(user, clients));
        }
    }

    private int tag;

    private double fetch(Wire w, String command) throws IOException {
        String t = "f" + tag++;
        long t0 = System.nanoTime();
        w.send(t + " " + command);
        w.imapUntil(t);
        return (System.nanoTime() - t0) / 1e6;
    }

    /** A mixed workload: each client selects, fetches flags of a window, a body, stores a flag, searches. */
    /** Ops per second of {@code clients} clients doing a mix of IMAP commands for 10 seconds. */
    private double mixed(String user, int clients) throws Exception {
        AtomicInteger ops = new AtomicInteger();
        long end = System.nanoTime() + 10_000_000_000L;
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int seed = c;
                fs.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    try (Wire w = imapLogin(user)) {
                        w.send("s SELECT INBOX");
                        w.imapUntil("s");
                        int t = 0;
                        while (System.nanoTime() < end) {
                            int n = 1 + r.nextInt(1000);
                            String[] cmds = {"FETCH " + n + ":" + (n + 50) + " (FLAGS)", "FETCH " + n + " BODY.PEEK[]",
                                    "STORE " + n + " +FLAGS.SILENT ($Bench)", "FETCH " + n + " (ENVELOPE BODYSTRUCTURE)",
                                    "NOOP"};
                            String tg = "m" + t++;
                            w.send(tg + " " + cmds[r.nextInt(cmds.length)]);
                            w.imapUntil(tg);
                            ops.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        }
        return ops.get() / 10.0;
    }

    private void idle() throws Exception {
        String user = o("user", "user1@example.test");
        int n = Integer.parseInt(o("connections", "1000"));
        String pid = o("server-pid", "");
        ServerMemory memory = pid.isEmpty() ? null : ServerMemory.of(Long.parseLong(pid));
        long before = memory == null ? 0 : memory.bytes();
        List<Wire> open = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Wire w = imapLogin(user);
                w.send("s SELECT INBOX");
                w.imapUntil("s");
                w.send("i IDLE");
                w.line();
                open.add(w);
            }
            // Every session has answered "+ idling"; each one's state is built.
            if (memory != null) {
                report("imap", "server memory per idle IDLE connection", (memory.bytes() - before) / 1024.0 / n, "KB",
                        Map.of("connections", n, "measure", memory.measure()));
            }
        } finally {
            for (Wire w : open) {
                w.close();
            }
        }
    }

    /**
     * What a server holds in memory, measured from outside the way that fits it: a JVM's heap in
     * use right after a full collection (jcmd; its resident size never shrinks, so RSS would show
     * nothing), and for any other server (Dovecot: a process per connection) the proportional set
     * size of the process and all its descendants, so shared pages are counted once.
     */
    private record ServerMemory(long pid, Path jcmd) {
        static ServerMemory of(long pid) {
            ProcessHandle p = ProcessHandle.of(pid).orElseThrow(() -> new IllegalArgumentException("no process " + pid));
            Path command = Path.of(p.info().command().orElse(""));
            Path jcmd = command.resolveSibling("jcmd");
            boolean jvm = command.getFileName() != null && command.getFileName().toString().equals("java")
                    && Files.isExecutable(jcmd);
            return new ServerMemory(pid, jvm ? jcmd : null);
        }

        String measure() {
            return jcmd != null ? "JVM heap after full GC" : "PSS of the process tree";
        }

        long bytes() throws IOException, InterruptedException {
            if (jcmd != null) {
                run(jcmd.toString(), Long.toString(pid), "GC.run");
                String info = run(jcmd.toString(), Long.toString(pid), "GC.heap_info");
                java.util.regex.Matcher used = java.util.regex.Pattern.compile("used (\\d+)K").matcher(info);
                if (!used.find()) {
                    throw new IOException("no heap figure in jcmd's GC.heap_info: " + info);
                }
                return Long.parseLong(used.group(1)) * 1024;
            }
            long total = 0;
            List<ProcessHandle> tree = new ArrayList<>();
            ProcessHandle.of(pid).ifPresent(tree::add);
            ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(tree::add));
            for (ProcessHandle h : tree) {
                try {
                    for (String l : Files.readAllLines(Path.of("/proc", Long.toString(h.pid()), "smaps_rollup"))) {
                        if (l.startsWith("Pss:")) {
                            total += Long.parseLong(l.replaceAll("\\D", "")) * 1024;
                        }
                    }
                } catch (IOException e) {
                    // gone meanwhile, or not ours to read
                }
            }
            return total;
        }

        private static String run(String... command) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        }
    }

    // --- POP3

    private void pop3() throws Exception {
        String user = o("user", "user1@example.test");
        timed("pop3", "login+STAT", "ms", () -> {
            long t = System.nanoTime();
            try (Wire w = popLogin(user)) {
                w.send("STAT");
                w.line();
                double ms = (System.nanoTime() - t) / 1e6;
                // Wait for QUIT's answer: the next round's login would otherwise race the end of this
                // session and find the maildrop still locked (RFC 1939 §8, [IN-USE] in RFC 2449)
                w.send("QUIT");
                w.line();
                return ms;
            }
        });
        try (Wire w = popLogin(user)) {
            timed("pop3", "STAT (logged in)", "ms", () -> {
                long t = System.nanoTime();
                w.send("STAT");
                w.line();
                return (System.nanoTime() - t) / 1e6;
            });
            timed("pop3", "UIDL (whole maildrop)", "ms", () -> {
                long t = System.nanoTime();
                w.send("UIDL");
                w.line();
                w.dotted();
                return (System.nanoTime() - t) / 1e6;
            });
            w.send("QUIT");
            w.line(); // the maildrop is released before this answer
        }
        // Every message in one session, as a client with "leave on server" does; a new session for
        // each repetition, as each mail check is (a server may pace one connection's commands:
        // mailstack allows 10,000 a second after a second's burst, net.max_commands_per_second).
        long[] octets = new long[1];
        int[] count = new int[1];
        double rate = timed("pop3", "RETR every message", "msg/s", () -> {
            try (Wire w = popLogin(user)) {
                w.send("STAT");
                count[0] = Integer.parseInt(w.line().split(" ")[1]);
                octets[0] = 0;
                long t = System.nanoTime();
                for (int i = 1; i <= count[0]; i++) {
                    w.write(("RETR " + i + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    if (i % 20 == 0 || i == count[0]) {
                        w.flush();
                        for (int k = i - ((i - 1) % 20); k <= i; k++) {
                            w.line();
                            octets[0] += w.dotted();
                        }
                    }
                }
                double secs = (System.nanoTime() - t) / 1e9;
                w.send("QUIT");
                w.line(); // the \Seen update is applied before this answer; a next run must not race it
                return count[0] / secs;
            }
        });
        report("pop3", "RETR every message, octets", rate * octets[0] / count[0] / 1e6, "MB/s", Map.of());
    }

    private Wire popLogin(String user) throws IOException {
        Wire w = new Wire(o("host", "127.0.0.1"), port("pop3", "1110"));
        w.line();
        w.send("USER " + user);
        w.line();
        w.send("PASS " + o("password", "secret"));
        String ok = w.line();
        if (!ok.startsWith("+OK")) {
            throw new IOException("POP3 login failed: " + ok);
        }
        return w;
    }

    // --- MIME (in process)

    private void mime() throws Exception {
        // Typical mail: 4 KB to 100 KB, spread evenly (the corpus of message(): text, Chinese, GBK, attachments).
        List<byte[]> corpus = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] m = message(i, 4_000 + (i % 25) * 4_000);
            corpus.add(m);
            bytes += m.length;
        }
        long total = bytes;
        for (byte[] m : corpus) {
            MessageSummary.parse(new ByteArrayInputStream(m), MimeLimits.defaults()); // warm-up
        }
        timed("mime", "parse + summary", "MB/s", Map.of("message_kb", "4-100"), () -> {
            long t = System.nanoTime();
            for (byte[] m : corpus) {
                MessageSummary.parse(new ByteArrayInputStream(m), MimeLimits.defaults()).summary().encode();
            }
            return total / 1e6 / ((System.nanoTime() - t) / 1e9);
        });
        // Memory independent of size: what one parse allocates, for a 4 KB and a 10 MB message of
        // the same shape. A streaming parser allocates about the same for both.
        for (int size : new int[]{4_000, 10_000_000}) {
            byte[] m = message(3, size);
            timed("mime", "bytes allocated per parse", "KB", Map.of("message_kb", m.length / 1000), () -> {
                var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long before = threads.getCurrentThreadAllocatedBytes();
                MessageSummary.parse(new ByteArrayInputStream(m), MimeLimits.defaults()).summary().encode();
                return (threads.getCurrentThreadAllocatedBytes() - before) / 1024.0;
            });
        }
    }
}

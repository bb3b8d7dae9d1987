package dev.mailstack.net;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Seeded damage to valid command lines, for each protocol's hostile-input test: spans cut, doubled
 * or swapped for protocol tokens, numbers made extreme, bytes replaced by anything but CR and LF (NUL and 8-bit included),
 * lines cut short. The same seed gives the same lines, so a failure names a reproducible input.
 */
public final class LineMutator {
    private static final List<String> NUMBERS = List.of("0", "1", "2", "3", "7", "65535", "2147483647", "2147483648",
            "4294967295", "4294967296", "9223372036854775807", "99999999999999999999");
    private final Random random;
    private final List<byte[]> tokens;

    public LineMutator(long seed, List<String> tokens) {
        this.random = new Random(seed);
        this.tokens = tokens.stream().map(t -> t.getBytes(StandardCharsets.UTF_8)).toList();
    }

    public <T> T pick(List<T> choices) {
        return choices.get(random.nextInt(choices.size()));
    }

    /** One to four mutations of {@code line}, mostly one; never contains CR or LF. */
    public byte[] mutate(String line) {
        return mutate(line, 0);
    }

    /**
     * Mutations after the first {@code keep} characters (ASCII), so most damaged lines still reach
     * the command's own code rather than stopping at "unknown command".
     */
    public byte[] mutate(String line, int keep) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        int rounds = random.nextInt(3) == 0 ? 2 + random.nextInt(3) : 1;
        for (int i = 0; i < rounds; i++) {
            bytes = once(bytes, Math.min(keep, bytes.length));
        }
        return bytes;
    }

    private byte[] once(byte[] in, int keep) {
        int at = keep + random.nextInt(in.length - keep + 1);
        int span = Math.min(in.length - at, 1 + random.nextInt(8));
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length + 16);
        switch (random.nextInt(7)) {
            case 0 -> { // cut a span
                out.write(in, 0, at);
                out.write(in, at + span, in.length - at - span);
            }
            case 1 -> { // insert a token
                out.write(in, 0, at);
                out.writeBytes(pick(tokens));
                out.write(in, at, in.length - at);
            }
            case 2 -> { // replace a span by a token
                out.write(in, 0, at);
                out.writeBytes(pick(tokens));
                out.write(in, at + span, in.length - at - span);
            }
            case 3 -> { // double a span
                out.write(in, 0, at + span);
                out.write(in, at, in.length - at);
            }
            case 4 -> { // replace one byte by any byte but CR and LF
                out.writeBytes(in);
                if (at < in.length) {
                    byte[] b = out.toByteArray();
                    int any;
                    do {
                        any = random.nextInt(256);
                    } while (any == '\r' || any == '\n');
                    b[at] = (byte) any;
                    return b;
                }
            }
            case 5 -> { // a number made extreme, so the line still parses and reaches the command's code
                int start = at;
                while (start < in.length && (in[start] < '0' || in[start] > '9')) {
                    start++;
                }
                int end = start;
                while (end < in.length && in[end] >= '0' && in[end] <= '9') {
                    end++;
                }
                out.write(in, 0, start);
                if (start < in.length) {
                    out.writeBytes(pick(NUMBERS).getBytes(StandardCharsets.US_ASCII));
                }
                out.write(in, end, in.length - end);
            }
            default -> out.write(in, 0, at); // cut the line short
        }
        return out.toByteArray();
    }
}

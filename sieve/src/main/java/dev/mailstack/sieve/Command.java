package dev.mailstack.sieve;

import java.util.List;

/**
 * One checked command of the script tree (RFC 5228 §2.5): its name, arguments, the test of
 * {@code if}/{@code elsif} (none otherwise) and the block of {@code if}/{@code elsif}/{@code else}.
 */
record Command(String name, Arguments arguments, List<Test> tests, List<Command> block, int line) {
    Command {
        tests = List.copyOf(tests);
        block = List.copyOf(block);
    }
}

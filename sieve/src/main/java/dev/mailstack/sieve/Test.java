package dev.mailstack.sieve;

import java.util.List;

/** One checked test (RFC 5228 §5): its name, arguments and nested tests (of allof, anyof, not). */
record Test(String name, Arguments arguments, List<Test> tests, int line) {
    Test {
        tests = List.copyOf(tests);
    }
}

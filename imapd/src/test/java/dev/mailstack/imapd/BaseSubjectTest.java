package dev.mailstack.imapd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BaseSubjectTest {
    private static void base(String raw, String text, boolean replyOrForward) {
        assertEquals(new BaseSubject(text, replyOrForward), BaseSubject.of(raw), raw);
    }

    /** RFC 5256 §2.1 steps (2) to (6), each artifact alone and stacked. */
    @Test
    void repliesForwardsBlobsAndTrailersAreRemoved() {
        base("hello", "hello", false);
        base("Re: hello", "hello", true);
        base("RE:hello", "hello", true);
        base("re : hello", "hello", true);
        base("Fwd: Re: FW: hello", "hello", true);
        base("Re[2]: hello", "hello", true);
        base("Re [2]: hello", "hello", true);
        base("[list] Re: hello", "hello", true);
        base("[list] hello", "hello", false);
        base("[list]", "[list]", false); // (4): a blob is removed only when something is left
        base("[a][b] hello", "hello", false);
        base("hello (fwd)", "hello", true);
        base("hello (FWD) (fwd)  ", "hello", true);
        base("[Fwd: hello]", "hello", true);
        base("[fwd: Re: [fwd: hello] (fwd)]", "hello", true);
        base("[a][b] Re: [c] hello", "hello", true);
        base("[a][b]Re[c]: [d]", "[d]", true);
        base("[fwd: [fwd: x] ]", "x", true);
        base("[fwd:re:]", "", true);
        base("Reply: hello", "Reply: hello", false); // "re" must be followed by ":" (or a blob and ":")
        base("Fwd hello", "Fwd hello", false);
        base("回复: 你好", "回复: 你好", false); // §7: translated prefixes are not removed
        base("   ", "", false);
        base(null, "", false);
    }

    /**
     * A Subject: may be up to a MiB (MimeLimits.maxHeaderBytes). Runs of blobs, "[fwd:" wrappers,
     * prefixes and trailers are each read a few times at most, not once per blob or wrapper (a MiB
     * of "[a]" took minutes), even without the cut in front of it.
     */
    @Test
    void aMebibyteOfBlobsWrappersOrPrefixesIsReadInLinearTime() {
        int mib = 1 << 20;
        List<String> hostile = List.of("[a]".repeat(mib / 3), "[a] ".repeat(mib / 4), "[a]".repeat(mib / 6) + "Re: x",
                "[fwd:".repeat(mib / 10) + "x" + "]".repeat(mib / 10), "[fwd: [a]".repeat(mib / 18) + "]".repeat(mib / 18),
                "Re: ".repeat(mib / 4) + "x", "re[".repeat(mib / 3), "Re[a]".repeat(mib / 5), "[".repeat(mib),
                "(fwd)".repeat(mib / 5), "x" + " (fwd)".repeat(mib / 6), "[a]re:".repeat(mib / 6));
        for (String raw : hostile) {
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
                BaseSubject.of(raw);
                BaseSubject.of(raw, Integer.MAX_VALUE);
            }, raw.substring(0, 12));
        }
    }

    /** Step (1): encoded-words decoded first (a Chinese subject in GBK, a prefix inside the encoding), white space packed. */
    @Test
    void encodedWordsAreDecodedAndWhiteSpacePackedFirst() {
        base("=?GBK?B?1tDOxLLiytQ=?=", "中文测试", false);
        base("Re: =?UTF-8?B?5Lit5paH5rWL6K+V?=", "中文测试", true);
        base("=?UTF-8?Q?Re:_hello?=", "hello", true);
        base("a \t  b\t\tc", "a b c", false);
        base("=?UTF-8?B?5Lit?= =?UTF-8?B?5paH?=", "中文", false);
    }

    /** RFC 5051 i;unicode-casemap: titlecase then canonical decomposition, compared by code point. */
    @Test
    void collationKeysFoldCaseAndComposition() {
        assertEquals(UnicodeCasemap.key("HELLO"), UnicodeCasemap.key("hello"));
        assertEquals(UnicodeCasemap.key("Zoë"), UnicodeCasemap.key("ZOE\u0308"));
        assertEquals("中文", UnicodeCasemap.key("中文"));
        assertTrue(UnicodeCasemap.compare("", "a") < 0);
        assertTrue(UnicodeCasemap.compare(UnicodeCasemap.key("apple"), UnicodeCasemap.key("Banana")) < 0);
        assertTrue(UnicodeCasemap.compare("\uFFFD", "\uD83D\uDE00") < 0, "U+FFFD before U+1F600, as in UTF-8");
        assertEquals(UnicodeCasemap.MAX_KEY_CHARS, UnicodeCasemap.key("x".repeat(100_000)).length());
    }
}

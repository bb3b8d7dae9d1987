package dev.mailstack.mime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class HtmlMarkupTest {
    /** The expressions HtmlMarkup replaced: it must remove exactly what they removed. */
    private static final Pattern COMMENT_OR_SCRIPT = Pattern.compile(
            "(?is)<!--.{0,100000}?-->|<(script|style)\\b[^>]{0,2000}>.{0,1000000}?</\\1\\s*>");
    private static final Pattern TAG = Pattern.compile("<[^>]{0,2000}>");
    private static final Pattern INVISIBLE = Pattern.compile(
            "(?is)<!--.*?(-->|\\z)|<(style|script)\\b[^>]*>.*?(</\\2\\s*>|\\z)|<(head|title)\\b[^>]*>.*?</\\4\\s*>");
    private static final Pattern OPEN_TAG_AT_END = Pattern.compile("<[^>]*\\z");
    private static final String[] PIECES = {"<", ">", "<!--", "-->", "--", "<script", "<SCRIPT", "<style", "<Style",
            "<head", "<title", "</script", "</style >", "</STYLE\n>", "</head>", "</title\t>", "</", "x", "_", "é", " ",
            "\n", "a b", "<b>", "<br/>", "&amp;", ">>", "<ſtyle", "</ſtyle>", "<scrıpt"};

    @Test
    void removesWhatTheRegularExpressionsRemoved() {
        Random random = new Random(2031);
        for (int n = 0; n < 20_000; n++) {
            StringBuilder html = new StringBuilder();
            for (int k = random.nextInt(12); k >= 0; k--) {
                html.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String h = html.toString();
            assertEquals(COMMENT_OR_SCRIPT.matcher(h).replaceAll(" "), HtmlMarkup.dropCommentsAndScripts(h), h);
            assertEquals(TAG.matcher(h).replaceAll(" "), HtmlMarkup.dropTags(h), h);
            assertEquals(INVISIBLE.matcher(h).replaceAll(" "), HtmlMarkup.dropInvisible(h), h);
            assertEquals(OPEN_TAG_AT_END.matcher(h).replaceAll(""), HtmlMarkup.dropOpenTagAtEnd(h), h);
        }
    }

    @Test
    void keepsTheBoundsOfTheSearchExtractor() {
        String longComment = "<!--" + "x".repeat(100_001) + "-->";
        assertEquals(COMMENT_OR_SCRIPT.matcher(longComment).replaceAll(" "), HtmlMarkup.dropCommentsAndScripts(longComment));
        String longTag = "<a" + "b".repeat(2000) + ">";
        assertEquals(TAG.matcher(longTag).replaceAll(" "), HtmlMarkup.dropTags(longTag));
    }

    @Test
    void unclosedMarkupRepeatedOverAPartTakesLinearTime() {
        // each used to be searched to the end again from every start: hours for a 4 MiB part
        for (String unit : new String[]{"<style", "<!--", "<script>", "<head>", "<", "<title x", "&", "&a"}) {
            String html = unit.repeat(2 * 1024 * 1024 / unit.length());
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> TextExtractor.html(html), unit);
            assertTimeoutPreemptively(Duration.ofSeconds(2), () -> HtmlMarkup.dropOpenTagAtEnd(HtmlMarkup.dropInvisible(html)), unit);
        }
    }
}

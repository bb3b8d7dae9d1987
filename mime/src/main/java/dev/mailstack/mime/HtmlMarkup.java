package dev.mailstack.mime;

/**
 * Removes HTML markup in one left-to-right pass. These were regular expressions with lazy or
 * bounded repetitions that, tried again at every "&lt;", "&lt;!--" or "&lt;style" of a body
 * without the matching end, took time quadratic in the body: 43 KB of "&lt;style" cost a
 * SEARCH a quarter of a second, and a 4 MiB part (TextExtractor's limit) hours (STYLE.md R6:
 * the work per message is bounded). Here the next closing text is searched for once and
 * remembered while the scan moves on, so the time is linear whatever the markup. What is
 * removed is what the expressions removed; each method names the one it replaces.
 */
final class HtmlMarkup {
    /** Characters between "&lt;!--" and "--&gt;" for a comment (TextExtractor). */
    private static final int MAX_COMMENT = 100_000;
    /** Characters of a script or style element's content (TextExtractor). */
    private static final int MAX_ELEMENT = 1_000_000;
    /** Characters inside a tag's angle brackets (TextExtractor). */
    private static final int MAX_TAG = 2000;

    private HtmlMarkup() {
    }

    /**
     * {@code (?is)<!--.{0,100000}?-->|<(script|style)\b[^>]{0,2000}>.{0,1000000}?</\1\s*>} each
     * replaced by a space: comments, scripts and styles that are closed within those bounds.
     */
    static String dropCommentsAndScripts(String html) {
        return dropElements(html, false);
    }

    /**
     * {@code (?is)<!--.*?(-->|\z)|<(style|script)\b[^>]*>.*?(</\2\s*>|\z)|<(head|title)\b[^>]*>.*?</\4\s*>}
     * each replaced by a space: comments, styles and scripts (left open to the end), and a head or
     * title only when closed.
     */
    static String dropInvisible(String html) {
        return dropElements(html, true);
    }

    /** {@code <[^>]{0,2000}>} each replaced by a space. */
    static String dropTags(String text) {
        if (text.indexOf('<') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        Next gt = new Next(text, ">");
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            int close = c == '<' ? gt.from(i + 1) : -1;
            if (close >= 0 && close - i - 1 <= MAX_TAG) {
                out.append(' ');
                i = close + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /**
     * The text outside blockquote elements, nested ones counted: where a reply quotes the mail it
     * answers (Thunderbird's cite, Gmail's gmail_quote). One pass; a blockquote left open (the
     * text was cut inside it) drops the rest.
     */
    static String dropBlockquotes(String html) {
        StringBuilder out = new StringBuilder(html.length());
        int depth = 0;
        int copied = 0;
        for (int i = html.indexOf('<'); i >= 0; i = html.indexOf('<', i + 1)) {
            boolean end = i + 1 < html.length() && html.charAt(i + 1) == '/';
            int name = i + (end ? 2 : 1);
            int after = name + "blockquote".length();
            if (!asciiMatches(html, name, "blockquote") || after < html.length() && isWordChar(html.charAt(after))) {
                continue;
            }
            if (!end) {
                if (depth++ == 0) {
                    out.append(html, copied, i).append(' '); // a block's edge separates words
                }
            } else if (depth > 0 && --depth == 0) {
                // the end tag's '>' (or the next tag, when it has none); the scan goes on after it,
                // so every character is looked at once
                copied = after;
                for (int k = after; k < Math.min(html.length(), after + MAX_TAG); k++) {
                    if (html.charAt(k) == '>' || html.charAt(k) == '<') {
                        copied = html.charAt(k) == '>' ? k + 1 : k;
                        break;
                    }
                }
                i = copied - 1;
            }
        }
        if (depth == 0) {
            out.append(html, copied, html.length());
        }
        return out.toString();
    }

    /** {@code <[^>]*\z} removed: a tag cut off by the end of the text. */
    static String dropOpenTagAtEnd(String text) {
        int open = text.indexOf('<', text.lastIndexOf('>') + 1);
        return open < 0 ? text : text.substring(0, open);
    }

    private static String dropElements(String html, boolean preview) {
        if (html.indexOf('<') < 0) {
            return html;
        }
        StringBuilder out = new StringBuilder(html.length());
        Next commentEnd = new Next(html, "-->");
        Next gt = new Next(html, ">");
        java.util.Map<String, Next> ends = new java.util.HashMap<>();
        int i = 0;
        while (i < html.length()) {
            int end = html.charAt(i) == '<' ? elementEnd(html, i, preview, commentEnd, gt, ends) : -1;
            if (end >= 0) {
                out.append(' ');
                i = end;
            } else {
                out.append(html.charAt(i));
                i++;
            }
        }
        return out.toString();
    }

    /** Where the comment or element that starts at {@code i} ends (exclusive); -1 when none does. */
    private static int elementEnd(String html, int i, boolean preview, Next commentEnd, Next gt,
                                  java.util.Map<String, Next> ends) {
        if (html.startsWith("<!--", i)) {
            int close = commentEnd.from(i + 4);
            if (preview) {
                return close < 0 ? html.length() : close + 3;
            }
            return close >= 0 && close - (i + 4) <= MAX_COMMENT ? close + 3 : -1;
        }
        for (String name : preview ? new String[]{"style", "script", "head", "title"} : new String[]{"script", "style"}) {
            int afterName = i + 1 + name.length();
            if (!asciiMatches(html, i + 1, name)
                    || afterName < html.length() && isWordChar(html.charAt(afterName))) {
                continue; // not this name, or the name goes on (\b)
            }
            int tagEnd = gt.from(afterName);
            if (tagEnd < 0 || !preview && tagEnd - afterName > MAX_TAG) {
                return -1;
            }
            int contentStart = tagEnd + 1;
            Next endTag = ends.computeIfAbsent(name, n -> new Next(html, "</" + n));
            int close = endTag.from(contentStart);
            boolean openToEnd = preview && !name.equals("head") && !name.equals("title");
            if (close < 0) {
                return openToEnd ? html.length() : -1;
            }
            if (!preview && close - contentStart > MAX_ELEMENT) {
                return -1;
            }
            return endTag.endOfMatch();
        }
        return -1;
    }

    /**
     * Whether {@code lower} (lower case) is at {@code at}, ignoring the case of ASCII letters only,
     * as the patterns this replaced did ((?i) without UNICODE_CASE): "ſtyle" is no "style".
     */
    private static boolean asciiMatches(String text, int at, String lower) {
        if (at + lower.length() > text.length()) {
            return false;
        }
        for (int k = 0; k < lower.length(); k++) {
            char c = text.charAt(at + k);
            if (c != lower.charAt(k) && !(c >= 'A' && c <= 'Z' && c + ('a' - 'A') == lower.charAt(k))) {
                return false;
            }
        }
        return true;
    }

    /** {@code \b} word characters (ASCII, as java.util.regex counts them since JDK 19). */
    private static boolean isWordChar(char c) {
        return c < 128 && (Character.isLetterOrDigit(c) || c == '_');
    }

    /**
     * The next place at or after a position where {@code target} occurs (ignoring ASCII case; an
     * end tag "&lt;/name" only when {@code \s*>} follows it), remembered: the scan only moves
     * forward, so an answer stays right until the scan passes it, and each search covers new text.
     */
    private static final class Next {
        private final String text;
        private final String target;
        private final boolean endTag;
        private int found = -2;
        private int matchEnd;

        Next(String text, String target) {
            this.text = text;
            this.target = target;
            this.endTag = target.startsWith("</");
        }

        int from(int at) {
            if (found == -1 || found >= at) {
                return found;
            }
            for (int i = at; i + target.length() <= text.length(); i++) {
                if (asciiMatches(text, i, target)) {
                    int end = i + target.length();
                    if (endTag) {
                        while (end < text.length() && isRegexSpace(text.charAt(end))) {
                            end++;
                        }
                        if (end == text.length() || text.charAt(end) != '>') {
                            i = end - 1; // the white space after this one holds no other "</"
                            continue;
                        }
                        end++;
                    }
                    found = i;
                    matchEnd = end;
                    return found;
                }
            }
            found = -1;
            return found;
        }

        /** Where the last match found ends (after the '>' of an end tag). */
        int endOfMatch() {
            return matchEnd;
        }

        /** {@code \s} without UNICODE_CHARACTER_CLASS. */
        private static boolean isRegexSpace(char c) {
            return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
        }
    }
}

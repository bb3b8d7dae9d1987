package dev.mailstack.sieve;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The encoded-character extension (RFC 5228 §2.4.2.4): {@code ${hex: 41 42}} stands for octets
 * (which must form UTF-8) and {@code ${unicode: 263A}} for code points. A sequence that does not
 * fit the syntax is left as written, as the RFC says. The pattern's quantifiers are possessive,
 * so a long run of hex digits without its closing brace cannot make the regex backtrack.
 */
final class EncodedCharacter {
    private static final Pattern SEQUENCE = Pattern.compile(
            "\\$\\{(hex|unicode):([ \\t\\r\\n]*+(?:[0-9a-fA-F]++[ \\t\\r\\n]*+)*+)}", Pattern.CASE_INSENSITIVE);

    private EncodedCharacter() {
    }

    static String decode(String s, int line) throws SieveException {
        if (!s.contains("${")) {
            return s;
        }
        Matcher m = SEQUENCE.matcher(s);
        StringBuilder out = new StringBuilder();
        int last = 0;
        while (m.find()) {
            String[] items = m.group(2).strip().split("[ \\t\\r\\n]+");
            if (items.length == 1 && items[0].isEmpty()) {
                continue; // "${hex:}" is not an encoding: left as it is
            }
            if (m.group(1).equalsIgnoreCase("hex")) {
                String decoded = hex(items, line);
                if (decoded == null) {
                    continue;
                }
                out.append(s, last, m.start()).append(decoded);
            } else {
                out.append(s, last, m.start());
                for (String item : items) {
                    String digits = item.replaceFirst("^0+(?=.)", "");
                    long cp = digits.length() > 6 ? Long.MAX_VALUE : Long.parseLong(digits, 16);
                    // §2.4.2.4: only 0-D7FF and E000-10FFFF are characters
                    if (cp > 0x10FFFF || cp >= 0xD800 && cp <= 0xDFFF) {
                        throw new SieveException(line, "${unicode:" + item + "} is not a Unicode character");
                    }
                    out.appendCodePoint((int) cp);
                }
            }
            last = m.end();
        }
        out.append(s, last, s.length());
        return out.toString();
    }

    /** The octets as UTF-8, or null when an item is not a hex-pair (then the sequence stays as written). */
    private static String hex(String[] items, int line) throws SieveException {
        ByteBuffer bytes = ByteBuffer.allocate(items.length);
        for (String item : items) {
            if (item.length() > 2) {
                return null;
            }
            bytes.put((byte) Integer.parseInt(item, 16));
        }
        bytes.flip();
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new SieveException(line, "${hex:...} octets are not valid UTF-8");
        }
    }
}

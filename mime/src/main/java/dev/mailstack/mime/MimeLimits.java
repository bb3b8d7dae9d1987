package dev.mailstack.mime;

/**
 * Bounds on the work of one parse (STYLE.md R6). Past a limit the message is still stored and
 * served; the part where the limit hit is treated as one opaque leaf.
 *
 * @param maxDepth          multipart and message/rfc822 nesting (Dovecot: 100; we keep it small)
 * @param maxParts          parts in one message
 * @param maxHeaderBytes    header bytes kept per part for analysis
 * @param maxParamsPerHeader parameters read from one Content-Type or Content-Disposition
 */
public record MimeLimits(int maxDepth, int maxParts, int maxHeaderBytes, int maxParamsPerHeader) {
    public static MimeLimits defaults() {
        return new MimeLimits(20, 1000, 1024 * 1024, 100);
    }
}

package dev.mailstack.mime;

/**
 * Bounds on the work of one parse (STYLE.md R6). Past a limit the message is still stored and
 * served; the part where the limit hit is treated as one opaque leaf.
 *
 * @param maxDepth          multipart and message/rfc822 nesting (Dovecot: 100; we keep it small)
 * @param maxParts          parts in one message
 * @param maxHeaderBytes    header bytes of one part that are analysed; the rest of a longer header
 *                          is counted (its size stays exact) but not kept
 * @param maxParamsPerHeader parameters read from one Content-Type or Content-Disposition
 */
public record MimeLimits(int maxDepth, int maxParts, int maxHeaderBytes, int maxParamsPerHeader) {
    public MimeLimits {
        // 0 is allowed (as the config keys allow it): structure is then not parsed, the message is one part
        if (maxDepth < 0 || maxParts < 0 || maxHeaderBytes < 0 || maxParamsPerHeader < 0) {
            throw new IllegalArgumentException("MIME limits must not be negative: " + maxDepth + ", " + maxParts + ", "
                    + maxHeaderBytes + ", " + maxParamsPerHeader);
        }
    }

    /** Depth 20, 1000 parts, 1 MiB of header, 100 parameters: far above real mail, far below harm. */
    public static MimeLimits defaults() {
        return new MimeLimits(20, 1000, 1024 * 1024, 100);
    }
}

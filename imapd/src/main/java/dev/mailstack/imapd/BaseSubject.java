package dev.mailstack.imapd;

/**
 * The "base subject" of RFC 5256 §2.1, which SORT SUBJECT and both THREAD algorithms compare,
 * and whether taking it removed a reply or forward marker (§3, REFERENCES: a subj-refwd, a
 * "(fwd)" trailer, or a subj-fwd-hdr with its subj-fwd-trl). {@code text} is as decoded, not yet
 * case-folded: {@link UnicodeCasemap} makes the key that is compared.
 */
record BaseSubject(String text, boolean replyOrForward) {
    static final BaseSubject NONE = new BaseSubject("", false);
    /**
     * What is read of a Subject: value: its start. A header may be up to a MiB
     * (MimeLimits.maxHeaderBytes); real subjects are a line or two, and what SORT compares of one is
     * a key of {@link UnicodeCasemap#MAX_KEY_CHARS}.
     */
    static final int MAX_SUBJECT_CHARS = 8 * 1024;
    /** Positions the scans below return: no subj-refwd there, and not looked for yet. */
    private static final int NONE_FOUND = -1;
    private static final int UNKNOWN = -2;

    /** From the Subject: value as stored (unfolded, RFC 2047 words not yet decoded); null when there is none. */
    static BaseSubject of(String raw) {
        return of(raw, MAX_SUBJECT_CHARS);
    }

    /**
     * {@link #of(String)} reading at most {@code maxChars} of the value. Every step works on one
     * string by index, each character read a few times at most, so even a value read whole takes
     * linear time (tested so): a MiB of "[a]" took minutes when each pass looked through the whole
     * run of blobs again and each "[fwd:" unwrapped copied the rest.
     */
    static BaseSubject of(String raw, int maxChars) {
        if (raw == null) {
            return NONE;
        }
        // (1) encoded-words to text; tabs, line ends and runs of spaces to one space
        String s = spaces(MessageText.decodeHeader(raw.length() <= maxChars ? raw : raw.substring(0, maxChars)));
        boolean marked = false;
        int from = 0; // the base subject so far is s[from, to)
        int to = s.length();
        while (true) {
            // (2) trailers: "(fwd)" and white space, as often as they occur
            while (to > from) {
                if (s.charAt(to - 1) == ' ') {
                    to--;
                } else if (to - from >= 5 && s.regionMatches(true, to - 5, "(fwd)", 0, 5)) {
                    to -= 5;
                    marked = true;
                } else {
                    break;
                }
            }
            // (3) a leader: one space, or *subj-blob subj-refwd; (4) a blob, unless nothing would be left;
            // (5) again until neither matches
            int refwd = UNKNOWN; // where *subj-blob subj-refwd from `from` ends, or NONE_FOUND
            while (true) {
                int next = from;
                boolean blobOnly = false;
                if (next < to && s.charAt(next) == ' ') {
                    next++;
                } else {
                    if (refwd == UNKNOWN) {
                        refwd = refwdAt(s, blobsEnd(s, next, to), to);
                    }
                    if (refwd != NONE_FOUND) {
                        next = refwd;
                        marked = true;
                    }
                }
                int blob = blob(s, next, to);
                if (blob > next && blob < to) {
                    blobOnly = next == from;
                    next = blob;
                }
                if (next == from) {
                    break;
                }
                from = next;
                if (!blobOnly) {
                    // a blob taken alone leaves the rest of its run and what follows it: the subj-refwd
                    // looked for stays valid; after a space or a subj-refwd it is looked for again
                    refwd = UNKNOWN;
                }
            }
            // (6) "[fwd:" ... "]" around it all: unwrap and start again from (2)
            if (to - from >= 6 && s.regionMatches(true, from, "[fwd:", 0, 5) && s.charAt(to - 1) == ']') {
                from += 5;
                to--;
                marked = true;
                continue;
            }
            return new BaseSubject(s.substring(from, to), marked);
        }
    }

    /** Step (1): every run of white space (tabs and what unfolding left of line ends included) as one space. */
    private static String spaces(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean space = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                if (!space) {
                    out.append(' ');
                }
                space = true;
            } else {
                out.append(c);
                space = false;
            }
        }
        return out.toString();
    }

    /** Where the run of subj-blobs from {@code p} ends ({@code p} when there is none). */
    private static int blobsEnd(String s, int p, int to) {
        for (int b = blob(s, p, to); b > p; b = blob(s, p, to)) {
            p = b;
        }
        return p;
    }

    /** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at {@code p}, before {@code to}; where it ends, or -1. */
    private static int refwdAt(String s, int p, int to) {
        if (at(s, p, to, "re")) {
            p += 2;
        } else if (at(s, p, to, "fwd")) {
            p += 3;
        } else if (at(s, p, to, "fw")) {
            p += 2;
        } else {
            return NONE_FOUND;
        }
        if (p < to && s.charAt(p) == ' ') {
            p++;
        }
        p = blob(s, p, to);
        return p < to && s.charAt(p) == ':' ? p + 1 : NONE_FOUND;
    }

    private static boolean at(String s, int p, int to, String word) {
        return p + word.length() <= to && s.regionMatches(true, p, word, 0, word.length());
    }

    /**
     * subj-blob = "[" *BLOBCHAR "]" *WSP, BLOBCHAR being anything but '[' and ']', at {@code p}
     * before {@code to}; where it ends, or {@code p}.
     */
    private static int blob(String s, int p, int to) {
        if (p >= to || s.charAt(p) != '[') {
            return p;
        }
        int q = p + 1;
        while (q < to && s.charAt(q) != '[' && s.charAt(q) != ']') {
            q++;
        }
        if (q >= to || s.charAt(q) != ']') {
            return p;
        }
        q++;
        return q < to && s.charAt(q) == ' ' ? q + 1 : q;
    }
}

package dev.mailstack.imapd;

/**
 * The "base subject" of RFC 5256 §2.1, which SORT SUBJECT and both THREAD algorithms compare,
 * and whether taking it removed a reply or forward marker (§3, REFERENCES: a subj-refwd, a
 * "(fwd)" trailer, or a subj-fwd-hdr with its subj-fwd-trl). {@code text} is as decoded, not yet
 * case-folded: {@link UnicodeCasemap} makes the key that is compared.
 */
record BaseSubject(String text, boolean replyOrForward) {
    static final BaseSubject NONE = new BaseSubject("", false);

    /** From the Subject: value as stored (unfolded, RFC 2047 words not yet decoded); null when there is none. */
    static BaseSubject of(String raw) {
        if (raw == null) {
            return NONE;
        }
        // (1) encoded-words to text; tabs, line ends and runs of spaces to one space
        String s = spaces(MessageText.decodeHeader(raw));
        boolean marked = false;
        while (true) {
            // (2) trailers: "(fwd)" and white space, as often as they occur
            int end = s.length();
            while (end > 0) {
                if (s.charAt(end - 1) == ' ') {
                    end--;
                } else if (end >= 5 && s.regionMatches(true, end - 5, "(fwd)", 0, 5)) {
                    end -= 5;
                    marked = true;
                } else {
                    break;
                }
            }
            s = s.substring(0, end);
            // (3) a leader: one space, or *subj-blob subj-refwd; (4) a blob, unless nothing would be left;
            // (5) again until neither matches
            int start = 0;
            while (true) {
                int next = start;
                if (next < s.length() && s.charAt(next) == ' ') {
                    next++;
                } else {
                    int refwd = refwdAfterBlobs(s, next);
                    if (refwd > next) {
                        next = refwd;
                        marked = true;
                    }
                }
                int blob = blob(s, next);
                if (blob > next && blob < s.length()) {
                    next = blob;
                }
                if (next == start) {
                    break;
                }
                start = next;
            }
            s = s.substring(start);
            // (6) "[fwd:" ... "]" around it all: unwrap and start again from (2)
            if (s.length() >= 6 && s.regionMatches(true, 0, "[fwd:", 0, 5) && s.endsWith("]")) {
                s = s.substring(5, s.length() - 1);
                marked = true;
                continue;
            }
            return new BaseSubject(s, marked);
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

    /** *subj-blob subj-refwd from {@code i}: where it ends, or -1 when there is none. */
    private static int refwdAfterBlobs(String s, int i) {
        int p = i;
        for (int b = blob(s, p); b > p; b = blob(s, p)) {
            p = b;
        }
        return refwdAt(s, p);
    }

    /** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; where it ends, or -1. */
    private static int refwdAt(String s, int p) {
        if (s.regionMatches(true, p, "re", 0, 2)) {
            p += 2;
        } else if (s.regionMatches(true, p, "fwd", 0, 3)) {
            p += 3;
        } else if (s.regionMatches(true, p, "fw", 0, 2)) {
            p += 2;
        } else {
            return -1;
        }
        if (p < s.length() && s.charAt(p) == ' ') {
            p++;
        }
        p = blob(s, p);
        return p < s.length() && s.charAt(p) == ':' ? p + 1 : -1;
    }

    /** subj-blob = "[" *BLOBCHAR "]" *WSP, BLOBCHAR being anything but '[' and ']'; where it ends, or {@code p}. */
    private static int blob(String s, int p) {
        if (p >= s.length() || s.charAt(p) != '[') {
            return p;
        }
        int q = p + 1;
        while (q < s.length() && s.charAt(q) != '[' && s.charAt(q) != ']') {
            q++;
        }
        if (q >= s.length() || s.charAt(q) != ']') {
            return p;
        }
        q++;
        return q < s.length() && s.charAt(q) == ' ' ? q + 1 : q;
    }
}

package dev.mailstack.mta.milter;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a milter sends back (libmilter's SMFIR_* replies), parsed from a packet. */
public sealed interface MilterReply {
    /** The answer that ends a step. */
    sealed interface Decision extends MilterReply {
    }

    /** SMFIR_ACCEPT: this milter wants nothing more of the message (or, before MAIL, of the session). */
    record Accept() implements Decision {
    }

    /** SMFIR_CONTINUE: go on to the next step. */
    record Continue() implements Decision {
    }

    /** SMFIR_DISCARD: accept the message and deliver it to no one. */
    record Discard() implements Decision {
    }

    /** SMFIR_REJECT, SMFIR_TEMPFAIL, or SMFIR_REPLYCODE with the milter's own text. */
    record Refuse(int code, String enhanced, String text) implements Decision {
        public static final Refuse REJECT = new Refuse(550, "5.7.1", "Command rejected");
        public static final Refuse TEMPFAIL = new Refuse(451, "4.7.1", "Service unavailable - try again later");

        public boolean temporary() {
            return code < 500;
        }
    }

    /** SMFIR_PROGRESS: still working; the timeout starts over. */
    record Progress() implements MilterReply {
    }

    /** SMFIR_SKIP: no more body chunks, please (only with SMFIP_SKIP, only to a body chunk). */
    record Skip() implements MilterReply {
    }

    /** SMFIR_QUARANTINE, at the end of the message: keep it, away from the inbox. */
    record Quarantine(String reason) implements MilterReply {
    }

    /** SMFIR_OPTNEG: the milter's side of the negotiation. */
    record Negotiate(MilterOptions options) implements MilterReply {
    }

    /** Changes to the header, at the end of the message. Names and values are ISO-8859-1 (octets as they are). */
    sealed interface HeaderChange extends MilterReply {
        String name();

        String value();
    }

    /** SMFIR_ADDHEADER. */
    record AddHeader(String name, String value) implements HeaderChange {
    }

    /** SMFIR_INSHEADER: at {@code index} among the fields the milter saw (0 is the top). */
    record InsertHeader(int index, String name, String value) implements HeaderChange {
    }

    /** SMFIR_CHGHEADER: the {@code index}-th (from 1) field of this name; an empty value deletes it. */
    record ChangeHeader(int index, String name, String value) implements HeaderChange {
    }

    /**
     * Changes to the envelope, at the end of the message. Addresses are as in a path without
     * its angle brackets; their syntax is checked against the session's rules when they arrive
     * ({@link MilterConnection#endOfMessage}).
     */
    sealed interface EnvelopeChange extends MilterReply {
        String address();
    }

    /**
     * SMFIR_ADDRCPT, or SMFIR_ADDRCPT_PAR ({@code withArguments}, negotiated on its own) with
     * the DSN arguments RCPT TO takes (RFC 3461).
     */
    record AddRecipient(String address, Optional<String> dsnNotify, Optional<String> orcpt, boolean withArguments)
            implements EnvelopeChange {
    }

    /** SMFIR_DELRCPT: the recipient as given at RCPT TO, compared without regard to case. */
    record DeleteRecipient(String address) implements EnvelopeChange {
    }

    /** SMFIR_CHGFROM: the new return path (empty: the null sender), with the DSN arguments MAIL FROM takes. */
    record ChangeSender(String address, Optional<String> ret, Optional<String> envId) implements EnvelopeChange {
    }

    /** Parses a reply; anything else, or a reply with malformed data, is a protocol error. */
    static MilterReply parse(MilterPacket p) throws MilterProtocolException {
        byte[] d = p.data();
        return switch (p.code()) {
            case 'a' -> new Accept();
            case 'c' -> new Continue();
            case 'd' -> new Discard();
            case 'r' -> Refuse.REJECT;
            case 't' -> Refuse.TEMPFAIL;
            case 'y' -> replyCode(strings(d, 1).get(0));
            case 'p' -> new Progress();
            case 's' -> new Skip();
            case 'q' -> new Quarantine(strings(d, 1).get(0));
            case 'h' -> {
                List<String> s = strings(d, 2);
                yield new AddHeader(name(s.get(0)), s.get(1));
            }
            case 'i', 'm' -> {
                if (d.length < 4) {
                    throw new MilterProtocolException("header change without an index");
                }
                int index = ByteBuffer.wrap(d).getInt();
                List<String> s = strings(java.util.Arrays.copyOfRange(d, 4, d.length), 2);
                if (index < 0) {
                    throw new MilterProtocolException("negative header index " + index);
                }
                yield p.code() == 'i' ? new InsertHeader(index, name(s.get(0)), s.get(1))
                        : new ChangeHeader(index, name(s.get(0)), s.get(1));
            }
            case '+' -> new AddRecipient(path(strings(d, 1).get(0), false), Optional.empty(), Optional.empty(), false);
            case '2' -> {
                // smfi_addrcpt_par: the address, then its arguments (libmilter leaves them out when there are none)
                List<String> s = stringsWithArguments(d);
                EsmtpArguments a = EsmtpArguments.parse(s.size() > 1 ? s.get(1) : "", EsmtpArguments.RCPT);
                yield new AddRecipient(path(s.get(0), false), a.get("NOTIFY"), a.get("ORCPT"), true);
            }
            case '-' -> new DeleteRecipient(path(strings(d, 1).get(0), false));
            case 'e' -> {
                List<String> s = stringsWithArguments(d);
                EsmtpArguments a = EsmtpArguments.parse(s.size() > 1 ? s.get(1) : "", EsmtpArguments.MAIL);
                yield new ChangeSender(path(s.get(0), true), a.get("RET"), a.get("ENVID"));
            }
            case 'O' -> {
                if (d.length < 12) {
                    throw new MilterProtocolException("option negotiation reply of " + d.length + " octets");
                }
                ByteBuffer b = ByteBuffer.wrap(d);
                // what follows the three numbers (a v6 SMFIR_SETSYMLIST of wanted macros) is not used:
                // we send the macros we have at each step
                yield new Negotiate(new MilterOptions(b.getInt(), b.getInt(), b.getInt()));
            }
            default -> throw new MilterProtocolException("unknown or unsupported reply '" + printable(p.code()) + "'");
        };
    }

    private static String printable(byte code) {
        return code >= 0x21 && code < 0x7f ? String.valueOf((char) code) : String.format("0x%02x", code & 0xff);
    }

    /**
     * An address as libmilter passes it: in angle brackets or bare (both occur: smfi_addrcpt
     * documents the brackets as optional). Source routes (RFC 5321 §4.1.2) are not taken. Its
     * syntax is checked later, against the session's rules.
     */
    private static String path(String text, boolean nullAllowed) throws MilterProtocolException {
        // addresses travel as UTF-8 (SMTPUTF8), as we send them
        String a = new String(text.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8).strip();
        if (a.startsWith("<") && a.endsWith(">") && a.length() >= 2) {
            a = a.substring(1, a.length() - 1);
        }
        if ((a.isEmpty() && !nullAllowed) || a.indexOf('<') >= 0 || a.indexOf('>') >= 0 || a.startsWith("@")
                || a.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new MilterProtocolException("malformed address '" + printableText(text) + "'");
        }
        return a;
    }

    private static String printableText(String s) {
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /** One or two NUL-terminated strings: an address and, if given, its ESMTP arguments. */
    private static List<String> stringsWithArguments(byte[] d) throws MilterProtocolException {
        int nuls = 0;
        for (byte b : d) {
            nuls += b == 0 ? 1 : 0;
        }
        return strings(d, nuls == 2 ? 2 : 1);
    }

    /** A header field name (RFC 5322 §3.6.8: printable ASCII but colon). */
    private static String name(String name) throws MilterProtocolException {
        if (name.isEmpty() || !name.chars().allMatch(c -> c > 32 && c < 127 && c != ':')) {
            throw new MilterProtocolException("bad header field name '" + name.replaceAll("[^\\x21-\\x7e]", "?") + "'");
        }
        return name;
    }

    /** Exactly {@code count} NUL-terminated strings (ISO-8859-1), nothing after them. */
    private static List<String> strings(byte[] d, int count) throws MilterProtocolException {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < d.length && out.size() < count; i++) {
            if (d[i] == 0) {
                out.add(new String(d, start, i - start, StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        if (out.size() < count || start != d.length) {
            throw new MilterProtocolException("expected " + count + " NUL-terminated strings");
        }
        return out;
    }

    Pattern LINE = Pattern.compile("([45][0-9][0-9])([ -])(?:([45]\\.[0-9]{1,3}\\.[0-9]{1,3}) )?([^\\x00-\\x08\\x0a-\\x1f\\x7f]*)");

    /**
     * SMFIR_REPLYCODE (smfi_setreply, smfi_setmlreply): "550 5.7.1 text", or lines joined by CRLF,
     * each "550-" but the last "550 ". Only 4xx and 5xx, one code throughout, an enhanced code of
     * the same class (RFC 3463 §2); no control characters in the text.
     */
    static Refuse replyCode(String text) throws MilterProtocolException {
        String[] lines = text.split("\r\n", -1);
        int code = 0;
        String enhanced = null;
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            Matcher m = LINE.matcher(lines[i]);
            boolean last = i == lines.length - 1;
            if (!m.matches() || m.group(2).equals(" ") != last) {
                throw new MilterProtocolException("malformed reply code line '" + lines[i].replaceAll("[^\\x20-\\x7e]", "?") + "'");
            }
            int c = Integer.parseInt(m.group(1));
            if (i == 0) {
                code = c;
                enhanced = m.group(3);
            } else if (c != code) {
                throw new MilterProtocolException("reply lines with different codes " + code + " and " + c);
            }
            if (m.group(3) != null && m.group(3).charAt(0) != m.group(1).charAt(0)) {
                throw new MilterProtocolException("enhanced code " + m.group(3) + " does not match " + c);
            }
            texts.add(m.group(4).isEmpty() ? "" : m.group(4));
        }
        return new Refuse(code, enhanced, String.join("\n", texts));
    }
}

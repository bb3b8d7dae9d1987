package dev.mailstack.mta.milter;

/**
 * What option negotiation (SMFIC_OPTNEG) settled: the protocol version, the actions the milter
 * may take (SMFIF_*) and the protocol steps it skips or does not answer (SMFIP_*), as in
 * libmilter's mfapi.h and mfdef.h.
 */
public record MilterOptions(int version, int actions, int protocol) {
    // Actions (SMFIF_*): only those we carry out are offered.
    public static final int ADDHDRS = 0x01;
    public static final int CHGBODY = 0x02;
    public static final int ADDRCPT = 0x04;
    public static final int DELRCPT = 0x08;
    public static final int CHGHDRS = 0x10;
    public static final int QUARANTINE = 0x20;
    public static final int CHGFROM = 0x40;
    public static final int ADDRCPT_PAR = 0x80;

    // Protocol steps (SMFIP_*)
    public static final int NOCONNECT = 0x01;
    public static final int NOHELO = 0x02;
    public static final int NOMAIL = 0x04;
    public static final int NORCPT = 0x08;
    public static final int NOBODY = 0x10;
    public static final int NOHDRS = 0x20;
    public static final int NOEOH = 0x40;
    public static final int NR_HDR = 0x80;
    public static final int NOUNKNOWN = 0x100;
    public static final int NODATA = 0x200;
    public static final int SKIP = 0x400;
    public static final int RCPT_REJ = 0x800;
    public static final int NR_CONN = 0x1000;
    public static final int NR_HELO = 0x2000;
    public static final int NR_MAIL = 0x4000;
    public static final int NR_RCPT = 0x8000;
    public static final int NR_DATA = 0x10000;
    public static final int NR_UNKN = 0x20000;
    public static final int NR_EOH = 0x40000;
    public static final int NR_BODY = 0x80000;
    public static final int HDR_LEADSPC = 0x100000;

    /** The version we speak: 6, as libmilter 8.14 and later, and Postfix 2.6 and later. */
    public static final int VERSION = 6;

    /**
     * Our offer: add, insert and change header fields, quarantine, and the envelope changes at
     * the end of the message (recipients added, with or without ESMTP arguments, or removed;
     * sender changed). Not offered (a milter that needs it fails its own negotiation, as with an
     * MTA that lacks it): body replaced. Every step may be skipped or left unanswered, SKIP is
     * honoured in the body, and header values may keep their leading space. RCPT_REJ is not
     * offered (refused recipients are not shown to milters); SMFIC_UNKNOWN is never sent.
     */
    public static final MilterOptions OFFER = new MilterOptions(VERSION,
            ADDHDRS | CHGHDRS | QUARANTINE | ADDRCPT | ADDRCPT_PAR | DELRCPT | CHGFROM,
            NOCONNECT | NOHELO | NOMAIL | NORCPT | NOBODY | NOHDRS | NOEOH | NR_HDR | NOUNKNOWN | NODATA | SKIP
                    | NR_CONN | NR_HELO | NR_MAIL | NR_RCPT | NR_DATA | NR_UNKN | NR_EOH | NR_BODY | HDR_LEADSPC);

    public boolean has(int protocolFlag) {
        return (protocol & protocolFlag) != 0;
    }

    public boolean may(int action) {
        return (actions & action) != 0;
    }
}

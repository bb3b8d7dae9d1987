package dev.mailstack.mta.milter;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One packet of the milter protocol (libmilter's mfdef.h, version 6): a 32-bit length in network
 * order counting the command octet and the data, the command octet, the data. Strings inside are
 * NUL-terminated. The MTA's commands are built here; header text travels as ISO-8859-1 so 8-bit
 * octets pass unchanged, addresses as UTF-8 (SMTPUTF8).
 */
public record MilterPacket(byte code, byte[] data) {
    /**
     * The largest reply we read: libmilter's largest buffer (SMFIP_MDS_1M). A milter that sends
     * more is broken, and we would not hold it in memory.
     */
    public static final int MAX_DATA = 1024 * 1024;
    /** libmilter's MILTER_CHUNK_SIZE: a body chunk is at most this long. */
    public static final int BODY_CHUNK = 65535;

    // Commands, MTA to milter (mfdef.h SMFIC_*)
    static final byte OPTNEG = 'O';
    static final byte MACRO = 'D';
    static final byte CONNECT = 'C';
    static final byte HELO = 'H';
    static final byte MAIL = 'M';
    static final byte RCPT = 'R';
    static final byte DATA = 'T';
    static final byte HEADER = 'L';
    static final byte EOH = 'N';
    static final byte BODY = 'B';
    static final byte BODYEOB = 'E';
    static final byte ABORT = 'A';
    static final byte QUIT = 'Q';

    public MilterPacket {
        if (data.length > MAX_DATA) {
            throw new IllegalArgumentException("milter packet over " + MAX_DATA + " octets");
        }
    }

    static MilterPacket optionNegotiation(MilterOptions offer) {
        return new MilterPacket(OPTNEG, ByteBuffer.allocate(12).putInt(offer.version()).putInt(offer.actions())
                .putInt(offer.protocol()).array());
    }

    /** SMFIC_MACRO: the command the macros are for, then name and value pairs. */
    static MilterPacket macros(byte forCommand, Map<String, String> macros) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(forCommand);
        for (Map.Entry<String, String> m : macros.entrySet()) {
            string(out, m.getKey(), StandardCharsets.UTF_8);
            string(out, m.getValue(), StandardCharsets.UTF_8);
        }
        return new MilterPacket(MACRO, out.toByteArray());
    }

    /** SMFIC_CONNECT: host name, family ('4' or '6'), port (16 bits), address. */
    static MilterPacket connect(String hostname, InetAddress address, int port) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        string(out, hostname, StandardCharsets.UTF_8);
        out.write(address instanceof Inet4Address ? '4' : '6');
        out.write((port >> 8) & 0xff);
        out.write(port & 0xff);
        string(out, address.getHostAddress(), StandardCharsets.US_ASCII);
        return new MilterPacket(CONNECT, out.toByteArray());
    }

    static MilterPacket helo(String name) {
        return strings(HELO, List.of(name), StandardCharsets.UTF_8);
    }

    /** SMFIC_MAIL and SMFIC_RCPT: "&lt;address&gt;" then each ESMTP parameter, as libmilter's argv. */
    static MilterPacket mail(List<String> args) {
        return strings(MAIL, args, StandardCharsets.UTF_8);
    }

    static MilterPacket rcpt(List<String> args) {
        return strings(RCPT, args, StandardCharsets.UTF_8);
    }

    static MilterPacket dataCommand() {
        return new MilterPacket(DATA, new byte[0]);
    }

    static MilterPacket header(String name, String value) {
        return strings(HEADER, List.of(name, value), StandardCharsets.ISO_8859_1);
    }

    static MilterPacket endOfHeader() {
        return new MilterPacket(EOH, new byte[0]);
    }

    static MilterPacket body(byte[] b, int off, int len) {
        if (len > BODY_CHUNK) {
            throw new IllegalArgumentException("body chunk over " + BODY_CHUNK + " octets");
        }
        return new MilterPacket(BODY, Arrays.copyOfRange(b, off, off + len));
    }

    static MilterPacket endOfBody() {
        return new MilterPacket(BODYEOB, new byte[0]);
    }

    static MilterPacket abort() {
        return new MilterPacket(ABORT, new byte[0]);
    }

    static MilterPacket quit() {
        return new MilterPacket(QUIT, new byte[0]);
    }

    private static MilterPacket strings(byte code, List<String> values, Charset cs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String v : values) {
            string(out, v, cs);
        }
        return new MilterPacket(code, out.toByteArray());
    }

    private static void string(ByteArrayOutputStream out, String s, Charset cs) {
        // a NUL inside would end the string early and shift every field after it
        out.writeBytes(s.replace('\0', ' ').getBytes(cs));
        out.write(0);
    }

    /** The packet on the wire: length, command, data. */
    byte[] encode() {
        return ByteBuffer.allocate(5 + data.length).putInt(data.length + 1).put(code).put(data).array();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MilterPacket p && p.code == code && Arrays.equals(p.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * code + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "MilterPacket[" + (char) code + ", " + data.length + " octets]";
    }
}

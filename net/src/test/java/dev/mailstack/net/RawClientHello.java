package dev.mailstack.net;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * A TLS ClientHello written byte by byte (RFC 5246 §7.4.1.2), offering exactly the version and
 * cipher suites a test names. JSSE as a client would refuse to offer TLS 1.1 or TLS_RSA_* suites
 * on a JDK whose java.security disables them, which would test the client's policy, not the
 * server's; raw bytes test the server whatever the JDK.
 */
final class RawClientHello {
    /** What the server sent back first. */
    enum Answer { SERVER_HELLO, ALERT, CLOSED }

    static final int TLS_1_1 = 0x0302;
    static final int TLS_1_2 = 0x0303;

    private RawClientHello() {
    }

    static byte[] of(int version, int... suites) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, version);
        body.writeBytes(new byte[32]); // random: the server does not judge it
        body.write(0); // no session id
        u16(body, suites.length * 2);
        for (int s : suites) {
            u16(body, s);
        }
        body.write(1);
        body.write(0); // null compression
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        extension(ext, 0x000a, 0, 6, 0, 0x1d, 0, 0x17, 0, 0x18); // supported_groups: x25519, P-256, P-384
        extension(ext, 0x000b, 1, 0); // ec_point_formats: uncompressed
        // signature_algorithms: rsa_pss_rsae_sha256, rsa_pkcs1_sha256, ecdsa_secp256r1_sha256
        extension(ext, 0x000d, 0, 6, 0x08, 0x04, 0x04, 0x01, 0x04, 0x03);
        extension(ext, 0x0017); // extended_master_secret
        extension(ext, 0xff01, 0); // renegotiation_info, empty (RFC 5746 §3.4)
        byte[] extensions = ext.toByteArray();
        u16(body, extensions.length);
        body.writeBytes(extensions);

        byte[] hello = body.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.write(0x16); // handshake
        u16(record, 0x0301); // record version as clients send it
        u16(record, hello.length + 4);
        record.write(0x01); // client_hello
        record.write(0);
        u16(record, hello.length);
        record.writeBytes(hello);
        return record.toByteArray();
    }

    /** Sends the hello and reads the type of the first record back (the server ends with an alert or a close). */
    static Answer send(OutputStream out, InputStream in, byte[] hello) throws IOException {
        out.write(hello);
        out.flush();
        DataInputStream data = new DataInputStream(in);
        try {
            int type = data.readUnsignedByte();
            data.skipNBytes(4); // version, length
            return switch (type) {
                case 0x16 -> data.readUnsignedByte() == 0x02 ? Answer.SERVER_HELLO : Answer.ALERT;
                case 0x15 -> Answer.ALERT;
                default -> throw new IOException("unexpected TLS record type " + type);
            };
        } catch (EOFException | java.net.SocketException e) {
            return Answer.CLOSED; // a close, or a reset after an alert that was lost
        }
    }

    private static void extension(ByteArrayOutputStream out, int type, int... octets) {
        u16(out, type);
        u16(out, octets.length);
        for (int o : octets) {
            out.write(o);
        }
    }

    private static void u16(ByteArrayOutputStream out, int v) {
        out.write(v >> 8);
        out.write(v);
    }
}

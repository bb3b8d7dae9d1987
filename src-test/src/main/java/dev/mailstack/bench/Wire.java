package dev.mailstack.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A plain-socket protocol client: lines out, lines and literals in. Shares nothing with the server. */
final class Wire implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    long bytesRead;

    Wire(String host, int port) throws IOException {
        socket = new Socket(host, port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(120_000);
        in = new BufferedInputStream(socket.getInputStream(), 256 * 1024);
        out = new BufferedOutputStream(socket.getOutputStream(), 256 * 1024);
    }

    void send(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
    }

    void flush() throws IOException {
        out.flush();
    }

    String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        while ((c = in.read()) >= 0) {
            bytesRead++;
            if (c == '\n') {
                break;
            }
            b.write(c);
        }
        if (c < 0 && b.size() == 0) {
            throw new IOException("connection closed");
        }
        byte[] bytes = b.toByteArray();
        int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, len, StandardCharsets.UTF_8);
    }

    void skip(long n) throws IOException {
        long left = n;
        while (left > 0) {
            long k = in.skip(left);
            if (k <= 0) {
                if (in.read() < 0) {
                    throw new IOException("connection closed in a literal");
                }
                k = 1;
            }
            left -= k;
        }
        bytesRead += n;
    }

    /** Reads an IMAP response up to the tagged line, skipping literal octets; returns the tagged line. */
    String imapUntil(String tag) throws IOException {
        while (true) {
            String l = line();
            int brace = l.endsWith("}") ? l.lastIndexOf('{') : -1;
            if (brace >= 0) {
                skip(Long.parseLong(l.substring(brace + 1, l.length() - 1).replace("+", "")));
                continue;
            }
            if (l.startsWith(tag + " ")) {
                if (!l.startsWith(tag + " OK")) {
                    throw new IOException("IMAP error: " + l);
                }
                return l;
            }
        }
    }

    /** Reads a POP3/SMTP multi-line reply up to the final "." line. */
    long dotted() throws IOException {
        long octets = 0;
        while (true) {
            String l = line();
            if (l.equals(".")) {
                return octets;
            }
            octets += l.length() + 2;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

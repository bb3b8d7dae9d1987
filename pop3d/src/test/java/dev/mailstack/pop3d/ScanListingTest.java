package dev.mailstack.pop3d;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ScanListingTest {
    private static final byte[] PREFIX = "5f3a1c00-".getBytes(StandardCharsets.US_ASCII);

    @Test
    void listLinesAreNumberSpaceOctetsAndEndWithADot() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ScanListing l = new ScanListing(out, 4096).status(Pop3Replies.listing(3, 1_000_000_123L));
        l.size(1, 0);
        l.size(2, 9);
        l.size(10, 1_000_000_114L);
        l.finish();
        assertEquals("+OK 3 messages (1000000123 octets)\r\n1 0\r\n2 9\r\n10 1000000114\r\n.\r\n",
                out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void uidlLinesSpellTheUidInLowerCaseHexAfterThePrefix() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ScanListing l = new ScanListing(out, 4096).status(Pop3Replies.uidlFollows());
        for (long uid : new long[]{1, 15, 16, 0xabcdef, 0xFFFF_FFFFL}) {
            l.uniqueId((int) (uid % 1000) + 1, PREFIX, uid);
        }
        l.finish();
        StringBuilder expected = new StringBuilder("+OK Unique-id listing follows\r\n");
        for (long uid : new long[]{1, 15, 16, 0xabcdef, 0xFFFF_FFFFL}) {
            expected.append((uid % 1000) + 1).append(" 5f3a1c00-").append(Long.toHexString(uid)).append("\r\n");
        }
        assertEquals(expected.append(".\r\n").toString(), out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void aLongListingIsWrittenInPiecesNoLargerThanTheChunkWithTheSameBytes() throws IOException {
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        int[] largestWrite = {0};
        int[] writes = {0};
        OutputStream counting = new OutputStream() {
            @Override
            public void write(int b) {
                throw new AssertionError("written a byte at a time");
            }

            @Override
            public void write(byte[] b, int off, int len) {
                writes[0]++;
                largestWrite[0] = Math.max(largestWrite[0], len);
                whole.write(b, off, len);
            }
        };
        ScanListing l = new ScanListing(counting, 2048).status(Pop3Replies.uidlFollows());
        StringBuilder expected = new StringBuilder("+OK Unique-id listing follows\r\n");
        for (int n = 1; n <= 10_000; n++) {
            l.uniqueId(n, PREFIX, n);
            expected.append(n).append(" 5f3a1c00-").append(Long.toHexString(n)).append("\r\n");
        }
        l.finish();
        assertEquals(expected.append(".\r\n").toString(), whole.toString(StandardCharsets.US_ASCII));
        assertTrue(largestWrite[0] <= 2048, "largest write " + largestWrite[0]);
        assertTrue(writes[0] > 50, "written in pieces, not once: " + writes[0]);
    }
}

package dev.mailstack.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {
    private static Cidr client(String address) throws Exception {
        return Cidr.clientNetwork(InetAddress.getByName(address));
    }

    @Test
    void anIpv6ClientIsItsSlash64AndAnIpv4ClientItsAddress() throws Exception {
        assertEquals(client("2001:db8:1:2::1"), client("2001:db8:1:2:a:b:c:d"));
        assertEquals(client("2001:db8:1:2::1").hashCode(), client("2001:db8:1:2:a:b:c:d").hashCode());
        assertNotEquals(client("2001:db8:1:2::1"), client("2001:db8:1:3::1"));
        assertEquals("2001:db8:1:2:0:0:0:0/64", client("2001:db8:1:2:a:b:c:d").toString());
        assertNotEquals(client("192.0.2.1"), client("192.0.2.2"));
        assertEquals("192.0.2.1/32", client("192.0.2.1").toString());
        assertEquals(client("192.0.2.1"), client("::ffff:192.0.2.1"), "an IPv4-mapped address is the IPv4 client");
        assertTrue(client("2001:db8:1:2::1").contains(InetAddress.getByName("2001:db8:1:2:ffff::")));
    }
}

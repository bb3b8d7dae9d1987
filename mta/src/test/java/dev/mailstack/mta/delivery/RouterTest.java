package dev.mailstack.mta.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.naming.NamingException;
import org.junit.jupiter.api.Test;

class RouterTest {
    @Test
    void mxRecordsFromALocalResolverInPreferenceOrder() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "example.net", List.of(new LocalDnsServer.Mx(20, "backup.example.net."), new LocalDnsServer.Mx(10, "localhost.")),
                "nomail.example", List.of(new LocalDnsServer.Mx(0, "."))))) {
            Router router = new Router(Map.of(), Optional.empty(), dns.url(), 2526);
            assertEquals(List.of(new Route("localhost", 2526), new Route("backup.example.net", 2526)), router.routes("Example.NET"));
            assertEquals(List.of(), router.routes("nomail.example"), "RFC 7505 null MX: no mail for this domain");
            assertThrows(NamingException.class, () -> router.routes("unknown.example"));
        }
    }

    @Test
    void mailIsRelayedToTheMxTheResolverNames(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        try (dev.mailstack.mta.MtaFixture b = dev.mailstack.mta.MtaFixture.create(dir.resolve("b"));
             LocalDnsServer dns = new LocalDnsServer(Map.of("example.net", List.of(new LocalDnsServer.Mx(10, "localhost."))))) {
            b.store.store().accounts().addDomain("example.net");
            b.store.store().accounts().addUser("bob@example.net", dev.mailstack.store.PasswordScheme.hash("x"));
            Router router = new Router(Map.of(), Optional.empty(), dns.url(), b.smtp.port());
            try (dev.mailstack.mta.MtaFixture a = new dev.mailstack.mta.MtaFixture(dir.resolve("a"), router,
                    dev.mailstack.mta.smtp.SmtpSettings.mx("a.example.org"),
                    dev.mailstack.mta.queue.QueueSettings.defaults("a.example.org")); // b is mx.example.org
                 dev.mailstack.net.LineClient c = new dev.mailstack.net.LineClient(a.submission.port())) {
                c.expect("220 .*");
                c.send("EHLO laptop");
                c.expectEventually("250 HELP");
                c.send("AUTH PLAIN " + java.util.Base64.getEncoder().encodeToString("\0alice@example.org\0secret".getBytes()))
                        .expect("235 .*");
                c.send("MAIL FROM:<alice@example.org>").expect("250 .*");
                c.send("RCPT TO:<bob@example.net>").expect("250 .*");
                c.send("DATA").expect("354 .*");
                c.send("Subject: via MX\r\n\r\nx\r\n.").expect("250 .*");
                var bob = b.store.store().open(b.store.store().accounts().find("bob@example.net").orElseThrow().id());
                b.awaitMessages(bob, dev.mailstack.store.MailboxName.INBOX, 1);
                assertEquals(1, bob.status(dev.mailstack.store.MailboxName.INBOX).messages());
            }
        }
    }

    @Test
    void staticRoutesAndTheRelayHostComeBeforeDns() throws Exception {
        Router router = new Router(Router.parseStaticRoutes("example.net=127.0.0.1:2600"), Optional.of(Route.parse("smart:587")),
                "dns://127.0.0.1:9");
        assertEquals(List.of(new Route("127.0.0.1", 2600)), router.routes("example.net"));
        assertEquals(List.of(new Route("smart", 587)), router.routes("elsewhere.test"));
    }

    @Test
    void addressLiteralsNeedNoDnsAndUnicodeDomainsAreLookedUpAsALabels() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(java.net.IDN.toASCII("邮件.example"),
                List.of(new LocalDnsServer.Mx(10, "mx.example.net."))))) {
            Router router = new Router(Map.of(), Optional.empty(), dns.url(), 2526);
            assertEquals(List.of(new Route("127.0.0.1", 2526)), router.routes("[127.0.0.1]")); // RFC 5321 §4.1.3
            assertEquals(List.of(new Route("::1", 2526)), router.routes("[IPv6:::1]"));
            assertThrows(javax.naming.NameNotFoundException.class, () -> router.routes("[not.an.address]"));
            assertEquals(List.of(new Route("mx.example.net", 2526)), router.routes("邮件.example"), "RFC 6531: as xn--...");
        }
    }

    @Test
    void txtRecordsComeWithTheirStringsJoinedAndHostsResolveThroughTheSameServer() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(Map.of(
                "_mta-sts.example.net", List.of(new LocalDnsServer.Txt("v=STSv1; ", "id=2026"), new LocalDnsServer.Txt("a \"quoted\\ one")),
                "mx.example.net", List.of(new LocalDnsServer.A("127.0.0.2"))))) {
            Router router = new Router(Map.of(), Optional.empty(), dns.url(), 2526);
            assertEquals(java.util.Set.of("v=STSv1; id=2026", "a \"quoted\\ one"),
                    java.util.Set.copyOf(router.txt("_mta-sts.example.net")));
            assertEquals(List.of(), router.txt("_mta-sts.unknown.example"), "NXDOMAIN: no record");
            assertEquals("127.0.0.2", router.addresses("mx.example.net").getFirst().getHostAddress());
            assertTrue(router.addresses("localhost").getFirst().isLoopbackAddress(), "a name the server does not know: the system's");
        }
    }
}

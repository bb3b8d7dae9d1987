package dev.mailstack.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mailstack.mta.delivery.LocalDnsServer;
import dev.mailstack.mta.delivery.LocalDnsServer.A;
import dev.mailstack.mta.delivery.LocalDnsServer.Aaaa;
import dev.mailstack.mta.delivery.LocalDnsServer.Mx;
import dev.mailstack.mta.delivery.LocalDnsServer.Ptr;
import dev.mailstack.mta.delivery.LocalDnsServer.Record;
import dev.mailstack.mta.delivery.LocalDnsServer.ServFail;
import dev.mailstack.mta.delivery.LocalDnsServer.Txt;
import dev.mailstack.mta.dkim.DkimKey;
import dev.mailstack.mta.dns.DnsLookup;
import dev.mailstack.server.DnsRecordsCheck.Finding;
import dev.mailstack.server.DnsRecordsCheck.Status;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mailstack dns check against a DNS server on loopback, one broken record at a time. */
class DnsCheckTest {
    private static final String PTR_NAME = "5.113.0.203.in-addr.arpa";

    @TempDir
    Path dir;
    private String data;
    private String config;
    /** The record mailstack dkim keygen printed, as the administrator published it. */
    private Txt dkimRecord;

    @BeforeEach
    void serverWithAKey() throws Exception {
        data = dir.resolve("data").toString();
        Path conf = dir.resolve("mailstack.conf");
        Files.writeString(conf, "hostname = mail.example.org\n");
        config = conf.toString();
        Files.createDirectories(Path.of(data)); // the server's data folder, where keygen puts its keys
        assertEquals(0, quietly("dkim", "keygen", "example.org", "--data", data));
        dkimRecord = published(DkimKey.read(dir.resolve("data/dkim/example.org/mailstack.pem"), "example.org", "mailstack"));
    }

    /** Everything as README's list of records says: every line ok, exit 0. */
    @Test
    void aDomainPublishedAsReadmeSaysIsAllOk() throws Exception {
        Output out = check(zone());
        assertEquals(0, out.status(), out.text());
        List<String> lines = out.text().lines().toList();
        assertEquals(6, lines.size(), out.text());
        assertEquals(List.of("MX", "A", "PTR", "SPF", "DKIM", "DMARC"), lines.stream().map(l -> l.split(" +")[0]).toList());
        assertTrue(lines.stream().allMatch(l -> l.endsWith("  ok")), out.text());
        int column = lines.getFirst().length();
        // the DKIM line names the key's file, in a temporary folder too long to align with the rest
        assertTrue(lines.stream().filter(l -> !l.startsWith("DKIM")).allMatch(l -> l.length() == column),
                "statuses aligned:\n" + out.text());
        assertTrue(lines.get(0).startsWith("MX     example.org -> mail.example.org (10)   "), lines.get(0));
        assertTrue(lines.get(1).startsWith("A      mail.example.org -> 203.0.113.5 "), lines.get(1));
        assertTrue(lines.get(2).startsWith("PTR    203.0.113.5 -> mail.example.org "), lines.get(2));
        assertTrue(lines.get(3).startsWith("SPF    \"v=spf1 mx -all\": 203.0.113.5 pass "), lines.get(3));
        assertTrue(lines.get(4).startsWith("DKIM   mailstack._domainkey.example.org matches "
                + Path.of(data, "dkim", "example.org", "mailstack.pem") + " "), lines.get(4));
        assertTrue(lines.get(5).startsWith("DMARC  \"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org\" "), lines.get(5));
    }

    @Test
    void noMxFailsWithTheRecordToPublish() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.get("example.org").removeIf(r -> r instanceof Mx);
        zone.get("example.org").set(0, new Txt("v=spf1 a:mail.example.org -all")); // "mx" would fail with it
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "MX     example.org -> no MX record", "FAIL", "publish example.org. MX 10 mail.example.org.");
    }

    /** On a machine called localhost (hostname unset), the advice is to set hostname, not an MX pointing at localhost. */
    @Test
    void withoutAFullHostnameTheAdviceIsToSetItFirst() throws Exception {
        Files.writeString(Path.of(config), "hostname = localhost\n");
        Map<String, List<Record>> zone = zone();
        zone.get("example.org").removeIf(r -> r instanceof Mx);
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "MX     example.org -> no MX record", "FAIL", "set hostname in the configuration first (the name"
                + " other servers reach this one by, e.g. hostname = mail.example.org), then publish example.org. MX 10 that name.");
        assertLine(out, "A      hostname = localhost, not a name other servers can look up", "FAIL", "set hostname in the");
        assertFalse(out.text().contains("MX 10 localhost"), out.text());
        assertFalse(out.text().contains("PTR"), out.text());
    }

    @Test
    void aNullMxOrAnotherServersMx() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.get("example.org").set(1, new Mx(0, "."));
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "MX     example.org -> . (null MX)", "FAIL", "RFC 7505: the null MX says example.org takes no mail");

        zone.get("example.org").set(1, new Mx(10, "mx.provider.net"));
        zone.get("example.org").set(0, new Txt("v=spf1 a:mail.example.org -all"));
        out = check(zone);
        assertEquals(0, out.status(), "not ours is a warning: " + out.text());
        assertLine(out, "MX     example.org -> mx.provider.net (10)", "warn",
                "mail for example.org goes to mx.provider.net, not this server (hostname = mail.example.org)");
    }

    @Test
    void anSpfRecordThatFailsTheServersAddress() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.get("example.org").set(0, new Txt("v=spf1 ip4:198.51.100.0/24 -all"));
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "SPF    \"v=spf1 ip4:198.51.100.0/24 -all\": 203.0.113.5 fail", "FAIL",
                "example.org does not designate 203.0.113.5 as permitted sender; add ip4:203.0.113.5 to the record");
    }

    @Test
    void aDkimRecordWithAnotherKeyFails() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.put("mailstack._domainkey.example.org", new ArrayList<>(List.of(published(DkimKey.generate("example.org", "mailstack")))));
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "DKIM   mailstack._domainkey.example.org holds another key than "
                + Path.of(data, "dkim", "example.org", "mailstack.pem"), "FAIL",
                "receivers cannot verify what this server signs; publish mailstack._domainkey.example.org. IN TXT ( \"v=DKIM1; k=rsa; p=");
    }

    @Test
    void aMissingDkimRecordFailsWithTheRecordToPublish() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.remove("mailstack._domainkey.example.org");
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        DkimKey key = DkimKey.read(dir.resolve("data/dkim/example.org/mailstack.pem"), "example.org", "mailstack");
        assertLine(out, "DKIM   mailstack._domainkey.example.org -> no DKIM record", "FAIL", "publish " + key.zoneLine());
    }

    /** The record folded into strings and its tags spaced and reordered still names the same key. */
    @Test
    void theDkimKeyIsComparedWithoutFoldingOrTagOrder() throws Exception {
        String p = DnsRecordsCheck.tags(dkimRecord.strings().getFirst() + dkimRecord.strings().getLast()).get("p");
        Map<String, List<Record>> zone = zone();
        zone.put("mailstack._domainkey.example.org", new ArrayList<>(List.of(new Txt("k=rsa ;p= " + p.substring(0, 200),
                " " + p.substring(200) + " ; t=s"))));
        Output out = check(zone);
        assertEquals(0, out.status(), out.text());
        assertTrue(out.text().contains("DKIM   mailstack._domainkey.example.org matches "), out.text());
    }

    /** With an Ed25519 key beside the RSA one, each has its own line, and both published as keygen printed them are ok. */
    @Test
    void anEd25519KeyIsCheckedBesideTheRsaOne() throws Exception {
        DkimKey ed = ed25519Key();
        Map<String, List<Record>> zone = zone();
        zone.put("mailstack-ed25519._domainkey.example.org", new ArrayList<>(List.of(published(ed))));
        Output out = check(zone);
        assertEquals(0, out.status(), out.text());
        List<String> lines = out.text().lines().toList();
        assertEquals(List.of("MX", "A", "PTR", "SPF", "DKIM", "DKIM", "DMARC"), lines.stream().map(l -> l.split(" +")[0]).toList());
        assertTrue(lines.get(5).startsWith("DKIM   mailstack-ed25519._domainkey.example.org matches "
                + Path.of(data, "dkim", "example.org", "mailstack-ed25519.pem") + " "), lines.get(5));

        zone.remove("mailstack-ed25519._domainkey.example.org");
        out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "DKIM   mailstack-ed25519._domainkey.example.org -> no DKIM record", "FAIL", "publish " + ed.zoneLine());
        assertTrue(ed.zoneLine().contains("\"v=DKIM1; k=ed25519; p="), ed.zoneLine());
    }

    /**
     * The two ways an Ed25519 record goes wrong by hand: the key without k=ed25519 (read as RSA,
     * RFC 6376 §3.6.1), and the key as SubjectPublicKeyInfo where RFC 8463 §4 wants the bare 32 bytes.
     */
    @Test
    void anEd25519RecordWithoutItsTypeOrInTheWrongFormFails() throws Exception {
        DkimKey ed = ed25519Key();
        String p = DnsRecordsCheck.tags(ed.dnsText()).get("p");
        Map<String, List<Record>> zone = zone();
        zone.put("mailstack-ed25519._domainkey.example.org", new ArrayList<>(List.of(new Txt("v=DKIM1; p=" + p))));
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "DKIM   mailstack-ed25519._domainkey.example.org holds the key of "
                + Path.of(data, "dkim", "example.org", "mailstack-ed25519.pem") + " as k=rsa", "FAIL",
                "it is an ed25519 key: receivers read it as rsa and fail every signature; publish " + ed.zoneLine());

        byte[] spkiPrefix = java.util.HexFormat.of().parseHex("302a300506032b6570032100"); // RFC 8410 §4
        zone.put("mailstack-ed25519._domainkey.example.org", new ArrayList<>(List.of(new Txt("v=DKIM1; k=ed25519; p="
                + java.util.Base64.getEncoder().encodeToString(concat(spkiPrefix, java.util.Base64.getDecoder().decode(p)))))));
        out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "DKIM   mailstack-ed25519._domainkey.example.org holds another key than", "FAIL",
                "receivers cannot verify what this server signs; publish " + ed.zoneLine());
    }

    /** Two Ed25519 keys and neither under dkim.selector: a warning for that kind, while RSA signs on. */
    @Test
    void twoEd25519KeysAndNoneUnderTheSelectorWarn() throws Exception {
        assertEquals(0, quietly("dkim", "keygen", "example.org", "--type", "ed25519", "--selector", "e2026", "--data", data));
        assertEquals(0, quietly("dkim", "keygen", "example.org", "--type", "ed25519", "--selector", "e2027", "--data", data));
        Output out = check(zone());
        assertEquals(0, out.status(), out.text());
        assertTrue(out.text().contains("DKIM   mailstack._domainkey.example.org matches "), out.text());
        assertLine(out, "DKIM   2 ed25519 keys for example.org in " + Path.of(data, "dkim", "example.org"), "warn",
                "none under dkim.selector as mailstack-ed25519.pem, so mail is not signed with ed25519: remove the retired ones");
    }

    @Test
    void noLocalKeyOnlyWarns() throws Exception {
        Output out = check(zone(), "--data", dir.resolve("other").toString());
        assertEquals(0, out.status(), out.text());
        assertLine(out, "DKIM   no key for example.org in " + Path.of(dir.resolve("other").toString(), "dkim", "example.org"),
                "warn", "mail from example.org is sent unsigned; mailstack dkim keygen example.org");
    }

    @Test
    void noDmarcRecordOnlyWarns() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.put("_dmarc.example.org", new ArrayList<>(List.of(new Txt("not a policy"))));
        Output out = check(zone);
        assertEquals(0, out.status(), out.text());
        assertLine(out, "DMARC  _dmarc.example.org -> no DMARC record", "warn",
                "publish _dmarc.example.org. TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org\"");
    }

    @Test
    void reverseDnsThatNamesAnotherHostWarns() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.put(PTR_NAME, new ArrayList<>(List.of(new Ptr("vps-203-0-113-5.provider.net"))));
        Output out = check(zone);
        assertEquals(0, out.status(), out.text());
        assertLine(out, "PTR    203.0.113.5 -> vps-203-0-113-5.provider.net", "warn",
                "ask your hosting provider to set the reverse DNS of 203.0.113.5 to mail.example.org");
        zone.remove(PTR_NAME);
        assertLine(check(zone), "PTR    203.0.113.5 -> no PTR record", "warn", "ask your hosting provider");
    }

    /** --ip checks the given address: an address the hostname does not have is not forward-confirmed, nor in "mx". */
    @Test
    void addressesGivenWithIpAreTheOnesChecked() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.get("mail.example.org").add(new Aaaa("2001:db8::5"));
        zone.put("6.113.0.203.in-addr.arpa", new ArrayList<>(List.of(new Ptr("mail.example.org"))));
        Output out = check(zone, "--ip", "203.0.113.6");
        assertEquals(1, out.status(), out.text());
        assertTrue(out.text().contains("AAAA   mail.example.org -> 2001:db8::5 "), out.text());
        assertLine(out, "PTR    203.0.113.6 -> mail.example.org", "warn",
                "mail.example.org does not resolve to 203.0.113.6: publish mail.example.org. A 203.0.113.6");
        assertLine(out, "SPF    \"v=spf1 mx -all\": 203.0.113.6 fail", "FAIL",
                "example.org does not designate 203.0.113.6 as permitted sender; add ip4:203.0.113.6 to the record");
        assertTrue(!out.text().contains("203.0.113.5 -> "), "the hostname's own address is not checked:\n" + out.text());
    }

    @Test
    void aHostnameWithoutAddressFails() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.remove("mail.example.org");
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "A      mail.example.org -> no address", "FAIL", "publish mail.example.org. A <server address>");
    }

    /** A failing lookup is a FAIL of its own check; the others still run. */
    @Test
    void aLookupThatFailsIsReportedAndTheOtherChecksGoOn() throws Exception {
        Map<String, List<Record>> zone = zone();
        zone.put("example.org", new ArrayList<>(List.of(new ServFail())));
        Output out = check(zone);
        assertEquals(1, out.status(), out.text());
        assertLine(out, "MX     example.org", "FAIL", "lookup failed: MX lookup of example.org failed");
        assertLine(out, "SPF    example.org", "FAIL", "lookup failed: TXT lookup of example.org failed");
        assertTrue(out.text().contains("PTR    203.0.113.5 -> mail.example.org "), out.text());
        assertTrue(out.text().contains("DMARC  \"v=DMARC1"), out.text());
    }

    @Test
    void aBadDomainOrAddressIsAUsageError() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(zone())) {
            assertEquals(2, quietly("dns", "check", "../etc", "--dns-server", dns.url(), "--data", data));
            assertEquals(2, quietly("dns", "check", "example.org", "--ip", "203.0.113.256", "--dns-server", dns.url()));
            assertEquals(2, quietly("dns", "check", "example.org", "--ip", "mail.example.org", "--dns-server", dns.url()));
            assertEquals(2, quietly("dns", "check", "example.org", "--ip", "2001:db8::g", "--dns-server", dns.url()));
            assertEquals(2, quietly("dns", "check"));
            assertTrue(dns.queries.isEmpty(), "no question for a command line that is wrong: " + dns.queries);
        }
    }

    @Test
    void addressesAndReverseNames() throws Exception {
        InetAddress v6 = InetAddress.getByName("2001:db8:0:0:1:0:0:5");
        assertEquals("2001:db8::1:0:0:5", DnsRecordsCheck.readable(v6));
        assertEquals("::1", DnsRecordsCheck.readable(InetAddress.getByName("::1")));
        assertEquals("2001:db8:1:0:2::", DnsRecordsCheck.readable(InetAddress.getByName("2001:db8:1:0:2:0:0:0")));
        assertEquals("5.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", DnsRecordsCheck.reverseName(v6));
        assertEquals(PTR_NAME, DnsRecordsCheck.reverseName(InetAddress.getByName("203.0.113.5")));
    }

    /** The checks as values, without the command line: what the command prints and its exit status come from these. */
    @Test
    void findingsAreValues() throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(zone())) {
            List<Finding> findings = new DnsRecordsCheck(new DnsLookup(dns.url()), "Mail.Example.org.",
                    Path.of(data, "dkim"), "mailstack").check("example.org", List.of());
            assertEquals(List.of(Status.OK), findings.stream().map(Finding::status).distinct().toList(), findings.toString());
            assertEquals(6, findings.size());
        }
    }

    /** README's records for example.org, this server at mail.example.org, 203.0.113.5. */
    private Map<String, List<Record>> zone() {
        Map<String, List<Record>> zone = new HashMap<>();
        zone.put("example.org", new ArrayList<>(List.of(new Txt("v=spf1 mx -all"), new Mx(10, "mail.example.org"),
                new Txt("google-site-verification=abc"))));
        zone.put("mail.example.org", new ArrayList<>(List.of(new A("203.0.113.5"))));
        zone.put(PTR_NAME, new ArrayList<>(List.of(new Ptr("mail.example.org"))));
        zone.put("mailstack._domainkey.example.org", new ArrayList<>(List.of(dkimRecord)));
        zone.put("_dmarc.example.org", new ArrayList<>(List.of(new Txt("v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org"))));
        return zone;
    }

    /** The Ed25519 key dkim keygen --type ed25519 makes beside the RSA one. */
    private DkimKey ed25519Key() throws Exception {
        assertEquals(0, quietly("dkim", "keygen", "example.org", "--type", "ed25519", "--data", data));
        return DkimKey.read(dir.resolve("data/dkim/example.org/mailstack-ed25519.pem"), "example.org", "mailstack-ed25519");
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A key's record as zone files carry it: strings of at most 255 characters. */
    private static Txt published(DkimKey key) {
        String text = key.dnsText();
        List<String> strings = new ArrayList<>();
        for (int i = 0; i < text.length(); i += 255) {
            strings.add(text.substring(i, Math.min(text.length(), i + 255)));
        }
        return new Txt(strings);
    }

    private record Output(int status, String text) {
    }

    private Output check(Map<String, List<Record>> zone, String... more) throws Exception {
        try (LocalDnsServer dns = new LocalDnsServer(zone)) {
            List<String> args = new ArrayList<>(List.of("dns", "check", "example.org", "--dns-server", dns.url(),
                    "--config", config));
            args.addAll(List.of(more));
            if (!args.contains("--data")) {
                args.addAll(List.of("--data", data));
            }
            PrintStream stdout = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                int status = Main.run(args.toArray(String[]::new));
                return new Output(status, out.toString(StandardCharsets.UTF_8));
            } finally {
                System.setOut(stdout);
            }
        }
    }

    /** The finding's line begins with {@code start} and ends with {@code status}; its hint line begins with {@code hint}. */
    private static void assertLine(Output out, String start, String status, String hint) {
        List<String> lines = out.text().lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(start)) {
                assertTrue(lines.get(i).endsWith("  " + status), lines.get(i));
                assertTrue(i + 1 < lines.size() && lines.get(i + 1).startsWith("       " + hint),
                        "hint " + hint + " after " + lines.get(i) + " in:\n" + out.text());
                return;
            }
        }
        throw new AssertionError("no line " + start + " in:\n" + out.text());
    }

    private int quietly(String... args) {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            return Main.run(args);
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }
}

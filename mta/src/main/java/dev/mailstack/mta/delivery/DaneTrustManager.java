package dev.mailstack.mta.delivery;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Accepts a server's certificate chain only when one of the host's usable TLSA records vouches for
 * it (RFC 7672 §3.1, RFC 7671 §5): a DANE-EE(3) record matching the leaf, whatever its names and
 * dates (RFC 7672 §3.1.1); or a DANE-TA(2) record matching a certificate higher up the chain, the
 * chain below it verifying up to it as a trust anchor and the leaf naming the MX host or the
 * next-hop domain (RFC 7672 §3.1.2, §3.2.2). Being an extended trust manager, JSSE adds no checks
 * of its own.
 */
final class DaneTrustManager extends X509ExtendedTrustManager {
    /** RFC 5280 §4.2.1.6: a dNSName entry of subjectAltName. */
    private static final int DNS_NAME = 2;

    private final TlsaRecords tlsa;
    private final String host;

    DaneTrustManager(TlsaRecords tlsa, String host) {
        this.tlsa = tlsa;
        this.host = host;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain);
    }

    void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("DANE: " + host + " presented no certificate");
        }
        for (TlsaRecord r : tlsa.records()) {
            if (r.usage() == TlsaRecord.DANE_EE && r.matches(chain[0])) {
                return; // RFC 7672 §3.1.1: names and validity dates do not count
            }
        }
        String why = "matches none of its TLSA records " + tlsa.records();
        // RFC 7671 §5.2.2: the server sends the trust anchor in its chain; one only a bare public
        // key could match (2 1 x without the certificate) is not supported here
        for (int i = 1; i < chain.length; i++) {
            for (TlsaRecord r : tlsa.records()) {
                if (r.usage() == TlsaRecord.DANE_TA && r.matches(chain[i])) {
                    try {
                        verifyUpTo(chain, i);
                    } catch (GeneralSecurityException e) {
                        why = "does not chain to the trust anchor of TLSA record " + r + ": " + e.getMessage();
                        continue;
                    }
                    if (namesOneOf(chain[0], tlsa.names())) {
                        return;
                    }
                    why = "chains to the trust anchor of TLSA record " + r + " but names none of " + tlsa.names();
                }
            }
        }
        throw new CertificateException("DANE: the certificate of " + host + " " + why);
    }

    /** PKIX path validation (RFC 5280 §6) of chain[0..anchor-1] with chain[anchor] as the trust anchor, no revocation. */
    private static void verifyUpTo(X509Certificate[] chain, int anchor) throws GeneralSecurityException {
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(chain[anchor], null)));
        parameters.setRevocationEnabled(false); // as Postfix: DANE has its own freshness, the TLSA TTL
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(Arrays.asList(chain).subList(0, anchor)), parameters);
    }

    /**
     * RFC 6125 §6.4 as RFC 7672 §3.2.3 asks: the certificate's DNS names (its common name only
     * when it has none), a wildcard standing for the whole leftmost label only.
     */
    static boolean namesOneOf(X509Certificate certificate, List<String> names) {
        List<String> dnsIds = new ArrayList<>();
        try {
            Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
            for (List<?> a : alternatives == null ? List.<List<?>>of() : alternatives) {
                if (a.get(0) instanceof Integer type && type == DNS_NAME) {
                    dnsIds.add(a.get(1).toString());
                }
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        if (dnsIds.isEmpty()) {
            try {
                for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        dnsIds.add(rdn.getValue().toString());
                    }
                }
            } catch (InvalidNameException e) {
                return false;
            }
        }
        for (String id : dnsIds) {
            for (String name : names) {
                if (matches(id.toLowerCase(Locale.ROOT), name.toLowerCase(Locale.ROOT))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean matches(String id, String name) {
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (id.startsWith("*.")) {
            int dot = n.indexOf('.');
            return dot > 0 && n.substring(dot).equals(id.substring(1));
        }
        return id.equals(n);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("a client-side trust manager only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("a client-side trust manager only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client-side trust manager only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}

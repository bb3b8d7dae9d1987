package dev.mailstack.mta.inbound;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AuthenticationResultsTest {
    @Test
    void eachResultGetsALineWithItsCommentAndProperties() {
        String field = new AuthenticationResults("mx.example.test")
                .add("spf", "fail", "example.com (does not) designate\r\n 192.0.2.1", "smtp.mailfrom", "example.com")
                .add("dkim", "pass", "", "header.d", "example.com", "header.s", "sel", "header.b", "ab/cd+ef")
                .add("dmarc", "pass", "", "header.from", "example.com")
                .field();
        assertEquals("Authentication-Results: mx.example.test;\r\n"
                + "\tspf=fail (example.com does not designate 192.0.2.1) smtp.mailfrom=example.com;\r\n"
                + "\tdkim=pass header.d=example.com header.s=sel header.b=\"ab/cd+ef\";\r\n"
                + "\tdmarc=pass header.from=example.com\r\n", field);
        assertEquals("Authentication-Results: mx.example.test; none\r\n", new AuthenticationResults("mx.example.test").field());
    }

    @Test
    void fieldsClaimingOurNameAreRecognisedAndOthersNot() {
        assertTrue(AuthenticationResults.claimsToBe("Authentication-Results: MX.example.test; spf=pass", "mx.example.test"));
        assertTrue(AuthenticationResults.claimsToBe("authentication-results : (forged) mx.example.test\r\n\t; dkim=pass",
                "mx.example.test"));
        assertFalse(AuthenticationResults.claimsToBe("Authentication-Results: mx.google.com; spf=pass", "mx.example.test"));
        assertFalse(AuthenticationResults.claimsToBe("Authentication-Results: mx.example.test.evil; spf=pass", "mx.example.test"));
        assertFalse(AuthenticationResults.claimsToBe("Received: from mx.example.test", "mx.example.test"));
        assertTrue(AuthenticationResults.claimsToBe("Authentication-Results: (a (nested) one) mx.example.test; x", "mx.example.test"));
        assertTrue(AuthenticationResults.claimsToBe("Authentication-Results: \"mx.example.test\"; dmarc=pass", "mx.example.test"));
        assertTrue(AuthenticationResults.claimsToBe("Authentication-Results:\r\n mx.example.test 1; spf=pass", "mx.example.test"),
                "a version after the id (RFC 8601 §2.2)");
    }
}

package dev.mailstack.mta.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The report itself, as {@link DeliveryReport#write} puts it together (RFC 3464, RFC 6533). */
class DeliveryReportTest {

    @Test
    void theStatusIsTheEnhancedCodeRightAfterTheReplyCodeAndOfItsClass() {
        assertEquals("5.1.1", DeliveryReport.status("550 5.1.1 <carol@remote.test>: no such user", DeliveryReport.Action.FAILED));
        assertEquals("4.7.1", DeliveryReport.status("451 4.7.1 greylisted, try again", DeliveryReport.Action.DELAYED));
        assertEquals("5.0.0", DeliveryReport.status("550 rejected, listed by 192.2.0.1", DeliveryReport.Action.FAILED),
                "an address in the text is no status");
        assertEquals("5.0.0", DeliveryReport.status("550 2.0.1 odd", DeliveryReport.Action.FAILED),
                "RFC 3463 §2: a status of another class than the reply's is none");
        assertEquals("4.0.0", DeliveryReport.status("421 service busy; 4.2.2 mailbox full", DeliveryReport.Action.DELAYED),
                "only right after the code (RFC 2034 §4)");
    }
}

package dev.mailstack.mta.smtp;

import dev.mailstack.mta.milter.MilterReply;
import dev.mailstack.store.Accounts;
import dev.mailstack.store.AddressResolution;
import dev.mailstack.store.MailEnvelope;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The envelope after the milters' changes at the end of the message (libmilter's
 * smfi_addrcpt, smfi_addrcpt_par, smfi_delrcpt, smfi_chgfrom), applied in the order they came,
 * as Postfix's cleanup applies them. It may have no recipient left: the message then goes to no
 * one, as a discarded one.
 *
 * <p>An added recipient is routed as at RCPT, but without the relay check: the milter is the
 * administrator's, so a remote address is allowed (as in Postfix). An added address of one of
 * our domains that has no such user is left out, with a warning: Postfix would queue it and
 * bounce it later, but that bounce would go to a sender who never chose that address (backscatter
 * about our own configuration). Deleting an address that is not a recipient changes nothing, as
 * in Postfix; adding one that already is one does not add it twice.
 */
record EditedEnvelope(String from, List<MailEnvelope.Recipient> recipients, Optional<String> envId,
                      Optional<String> ret, boolean senderChanged) {
    private static final Logger LOG = System.getLogger(EditedEnvelope.class.getName());

    EditedEnvelope {
        recipients = List.copyOf(recipients);
    }

    /** Applies {@code changes} to the envelope of a transaction; may throw StoreException while routing. */
    static EditedEnvelope of(String from, List<MailEnvelope.Recipient> original, Optional<String> envId,
                             Optional<String> ret, List<MilterReply.EnvelopeChange> changes, Accounts accounts,
                             String connectionId) {
        List<MailEnvelope.Recipient> recipients = new ArrayList<>(original);
        boolean senderChanged = false;
        for (MilterReply.EnvelopeChange change : changes) {
            switch (change) {
                case MilterReply.AddRecipient a -> {
                    if (indexOf(recipients, a.address()) >= 0) {
                        continue;
                    }
                    if (accounts.resolve(a.address()) instanceof AddressResolution.NoSuchUser) {
                        LOG.log(Level.WARNING, "milter recipient unknown conn={0} rcpt=<{1}> action=ignored",
                                connectionId, a.address().replaceAll("[^\\x20-\\x7e]", "?"));
                        continue;
                    }
                    recipients.add(new MailEnvelope.Recipient(a.address(), a.dsnNotify(), a.orcpt()));
                }
                case MilterReply.DeleteRecipient d -> {
                    int i = indexOf(recipients, d.address());
                    if (i >= 0) {
                        recipients.remove(i);
                    }
                }
                case MilterReply.ChangeSender c -> {
                    from = c.address();
                    senderChanged = true;
                    // RET and ENVID go with the return path they were given with (RFC 3461 §4.3, 4.4)
                    if (c.ret().isPresent()) {
                        ret = c.ret();
                    }
                    if (c.envId().isPresent()) {
                        envId = c.envId();
                    }
                }
            }
        }
        return new EditedEnvelope(from, recipients, envId, ret, senderChanged);
    }

    /**
     * RFC 5321 §2.4 lets the local part be case-sensitive, but no mailbox of ours is, and a
     * milter echoes what it saw, perhaps with another case: compared without regard to case.
     */
    private static int indexOf(List<MailEnvelope.Recipient> recipients, String address) {
        String wanted = address.toLowerCase(Locale.ROOT);
        for (int i = 0; i < recipients.size(); i++) {
            if (recipients.get(i).address().toLowerCase(Locale.ROOT).equals(wanted)) {
                return i;
            }
        }
        return -1;
    }
}

package dev.mailstack.mta.milter;

import java.util.List;
import java.util.Optional;

/** What the milters together decided about an SMTP command or a message. */
public sealed interface MilterVerdict {
    /** Go on (the milters agreed, or those that failed are skipped by milter_default_action = accept). */
    record Pass() implements MilterVerdict {
    }

    /** Answer the command with this reply; {@code milter} is who asked for it, for the log. */
    record Refuse(int code, String enhanced, String text, String milter) implements MilterVerdict {
        /** Postfix's reply for milter_default_action = tempfail. */
        static Refuse tempfail(String milter) {
            return new Refuse(451, "4.3.5", "Server configuration problem - try again later", milter);
        }

        /** Postfix's reply for milter_default_action = reject. */
        static Refuse reject(String milter) {
            return new Refuse(550, "5.5.0", "Service unavailable", milter);
        }
    }

    /** Say 250 and deliver the message to no one. */
    record Discard(String milter) implements MilterVerdict {
    }

    /**
     * The end of a message: the verdict; for a message that passes, the header and envelope
     * changes (each milter's in turn: each saw the original envelope, its changes apply after
     * those of the milters before it) and a quarantine if any milter asked for one.
     */
    record OfMessage(MilterVerdict verdict, List<MilterReply.HeaderChange> changes,
                     List<MilterReply.EnvelopeChange> envelope, Optional<String> quarantine) {
        public OfMessage {
            changes = List.copyOf(changes);
            envelope = List.copyOf(envelope);
        }

        /** A verdict with no change. */
        static OfMessage only(MilterVerdict verdict) {
            return new OfMessage(verdict, List.of(), List.of(), Optional.empty());
        }
    }
}

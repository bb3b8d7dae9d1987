package dev.mailstack.mta.milter;

import java.io.IOException;

/** A milter that broke the protocol: an unknown or misplaced reply, a bad length, an action it was not given. */
public final class MilterProtocolException extends IOException {
    public MilterProtocolException(String message) {
        super(message);
    }
}

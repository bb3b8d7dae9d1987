package dev.mailstack.store;

/** RFC 6154 special-use roles of a mailbox. */
public enum SpecialUse {
    DRAFTS("\\Drafts"), SENT("\\Sent"), TRASH("\\Trash"), JUNK("\\Junk"), ARCHIVE("\\Archive");

    private final String attribute;

    SpecialUse(String attribute) {
        this.attribute = attribute;
    }

    public String attribute() {
        return attribute;
    }
}

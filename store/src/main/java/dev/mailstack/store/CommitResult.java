package dev.mailstack.store;

import java.util.List;

/**
 * UIDs assigned by a commit, in the order of the operations that assigned them; feeds APPENDUID
 * and COPYUID (RFC 4315).
 */
public record CommitResult(List<Assigned> assigned) {
    public record Assigned(MailboxId mailbox, long uidValidity, List<Uid> sourceUids, List<Uid> uids) {
    }

    public CommitResult {
        assigned = List.copyOf(assigned);
    }
}

package dev.mailstack.server;

import dev.mailstack.store.MailboxStore;
import dev.mailstack.store.Vacation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mailstack user vacation}: an account's out-of-office reply, written into the store like aliases. */
@Command(name = "vacation", mixinStandardHelpOptions = true, description = {
    "Show, set or clear an account's out-of-office reply.",
    "With no option it shows the reply set. While it is on, mail delivered to the account is answered"
            + " with the message, once per sender per 7 days (RFC 5230), and only when the account's address"
            + " is in To or Cc: never to mailing lists, bulk or automatic mail (Auto-Submitted, List-*,"
            + " Precedence), junk, or bounces. Setting it again, or --off, answers everyone afresh."})
final class VacationCommand implements Runnable {
    private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z", Locale.ROOT);

    @Mixin
    StoreOptions options;
    @Parameters(paramLabel = "ADDRESS")
    String address;
    @Option(names = "--subject", paramLabel = "TEXT",
            description = "Subject of the replies (default: 'Auto: ' and the subject of the message answered).")
    String subject;
    @Option(names = "--message", paramLabel = "TEXT", description = "Text of the replies.")
    String message;
    @Option(names = "--message-file", paramLabel = "FILE", description = "Read the text of the replies from FILE (UTF-8).")
    Path messageFile;
    @Option(names = "--until", paramLabel = "YYYY-MM-DD",
            description = "Last day of replies, to its end in this system's time zone (default: until --off).")
    String until;
    @Option(names = "--off", description = "Stop replying.")
    boolean off;
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        boolean setting = message != null || messageFile != null;
        if (off && (setting || subject != null || until != null)) {
            throw usage("--off takes no other option");
        }
        if (!setting && (subject != null || until != null)) {
            throw usage("--subject and --until go with --message or --message-file");
        }
        if (message != null && messageFile != null) {
            throw usage("--message or --message-file, not both");
        }
        // Checked before the store is opened: a usage error changes nothing.
        Optional<Vacation> vacation = setting ? Optional.of(vacation()) : Optional.empty();
        try (MailboxStore store = options.openStore()) {
            if (off) {
                store.accounts().setVacation(address, Optional.empty());
                System.out.println("vacation reply of " + address + " off");
            } else if (setting) {
                store.accounts().setVacation(address, vacation);
                System.out.println("vacation reply of " + address + " on" + vacation.get().endsAt()
                        .map(end -> " until " + shown(end)).orElse(" until --off"));
            } else {
                show(store.accounts().vacationSetting(address));
            }
        }
    }

    private Vacation vacation() {
        String text = message;
        if (messageFile != null) {
            try (java.io.InputStream in = Files.newInputStream(messageFile)) {
                // a reply is at most Vacation.MAX_BODY_CHARS: read no further than 4 octets a character
                byte[] bytes = in.readNBytes(4 * Vacation.MAX_BODY_CHARS + 1);
                if (bytes.length > 4 * Vacation.MAX_BODY_CHARS) {
                    throw new CommandFailure(messageFile + ": longer than a vacation message may be ("
                            + Vacation.MAX_BODY_CHARS + " characters)");
                }
                // strictly: a Latin-1 file decoded leniently put U+FFFD into every reply sent
                text = dev.mailstack.mime.MailCharset.decodeUtf8(bytes, 0, bytes.length).orElseThrow(() ->
                        new CommandFailure(messageFile + ": not UTF-8 text; convert it first (iconv -f LATIN1 -t UTF-8)"));
            } catch (IOException e) {
                throw new CommandFailure("cannot read " + messageFile + ": " + e.getMessage());
            }
        }
        Optional<Instant> ends = Optional.empty();
        if (until != null) {
            LocalDate day;
            try {
                day = LocalDate.parse(until);
            } catch (DateTimeParseException e) {
                throw usage("--until: not a date YYYY-MM-DD: " + until);
            }
            // the end of that day: replies go out all through the last day the user is away
            Instant end = day.plusDays(1).atStartOfDay(ZoneId.systemDefault()).toInstant();
            if (!end.isAfter(Instant.now())) {
                throw usage("--until: " + until + " is in the past");
            }
            ends = Optional.of(end);
        }
        try {
            return new Vacation(subject == null ? "" : subject.strip(), text.stripTrailing(), ends);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private void show(Optional<Vacation> vacation) {
        if (vacation.isEmpty()) {
            System.out.println("no vacation reply for " + address);
            return;
        }
        Vacation v = vacation.get();
        String state = v.endsAt().map(end -> (v.activeAt(Instant.now()) ? "on until " : "ended ") + shown(end))
                .orElse("on until --off");
        System.out.println("vacation reply of " + address + ": " + state);
        System.out.println("Subject: " + (v.subject().isEmpty() ? "Auto: <the subject of the message answered>" : v.subject()));
        System.out.println();
        System.out.println(v.body());
    }

    /** A --until day's end as that day; any other end as it is. */
    private static String shown(Instant at) {
        ZonedDateTime z = at.atZone(ZoneId.systemDefault());
        return z.toLocalTime().equals(LocalTime.MIDNIGHT) ? "the end of " + z.toLocalDate().minusDays(1) : z.format(SHOWN);
    }

    private ParameterException usage(String text) {
        return new ParameterException(spec.commandLine(), text);
    }
}

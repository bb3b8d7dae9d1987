package dev.mailstack.sieve;

import dev.mailstack.mime.AddressList;
import dev.mailstack.mime.Rfc2047;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Runs a checked script against one message (RFC 5228 §2.10): walks the commands, evaluates tests
 * with short-circuit (§5.2, §5.3), gathers actions in an {@link ActionList}, and keeps the run's
 * state: variables (RFC 5229). One instance per script per {@link Execution}, which holds what the
 * scripts of one delivery share (actions, implicit keep, internal flags, stop).
 */
final class Interpreter {
    /** RFC 5230 §4.1: default and minimum reply period for :days. */
    static final Duration DEFAULT_PERIOD = Duration.ofDays(7);
    static final Duration MIN_DAYS = Duration.ofDays(1);
    /** RFC 5230 §4.1 lets a site cap the period; 90 days, as Pigeonhole's default maximum. */
    static final Duration MAX_PERIOD = Duration.ofDays(90);

    private final Execution run;
    private final SieveMessage message;
    private final SieveEnvironment environment;
    private final ActionList actions;
    private final boolean variablesOn;
    private final boolean flagsOn;
    private final Variables variables;
    /** RFC 6609 §3.3: a return ended this (included) script. */
    private boolean returned;

    /** RFC 6609 §3.2: included scripts nested at most this deep (Pigeonhole's sieve_include_max_nesting_depth). */
    static final int MAX_INCLUDE_DEPTH = 10;
    /** Includes one execution may run (Pigeonhole's sieve_include_max_includes). */
    static final int MAX_INCLUDES = 255;

    /** A runtime error (§2.10.6): carries "line N: reason". */
    static final class Failure extends Exception {
        Failure(int line, String reason) {
            this("line " + line + ": " + reason);
        }

        Failure(String message) {
            super(message);
        }
    }

    /**
     * What one run may ask of the matchers, as the sum of value length × key length over the pairs
     * compared (an upper bound of their character comparisons): about a second at worst, and a
     * thousand times what real scripts ask.
     */
    static final long MAX_WORK = 2_000_000_000L;

    /** One script's interpreter, in an execution it shares with the other scripts of the delivery. */
    Interpreter(Execution run, Set<String> required) {
        this.run = run;
        this.message = run.message;
        this.environment = run.environment;
        this.actions = run.actions;
        this.variablesOn = required.contains("variables");
        this.flagsOn = required.contains("imap4flags");
        this.variables = new Variables(run.globals, required.contains("include"));
    }

    /** Runs a script's commands; returns at its end or at a {@code stop}; throws on a runtime error. */
    void run(List<Command> script) throws Failure {
        execute(script);
    }

    private void execute(List<Command> commands) throws Failure {
        boolean branchTaken = false;
        for (Command c : commands) {
            if (run.stopped || returned) {
                return;
            }
            switch (c.name()) {
                case "if" -> {
                    branchTaken = test(c.tests().get(0));
                    if (branchTaken) {
                        execute(c.block());
                    }
                }
                case "elsif" -> {
                    if (!branchTaken) {
                        branchTaken = test(c.tests().get(0));
                        if (branchTaken) {
                            execute(c.block());
                        }
                    }
                }
                case "else" -> {
                    if (!branchTaken) {
                        execute(c.block());
                    }
                }
                default -> action(c);
            }
        }
    }

    private void action(Command c) throws Failure {
        Arguments a = c.arguments();
        try {
            switch (c.name()) {
                case "require" -> {
                }
                case "stop" -> run.stopped = true;
                // RFC 6609 §3.3: return ends the included script; in the top-level one it is a stop
                case "return" -> {
                    if (run.includeStack.isEmpty()) {
                        run.stopped = true;
                    } else {
                        returned = true;
                    }
                }
                case "include" -> include(c);
                case "global" -> a.positionalStrings(0).forEach(variables::declareGlobal);
                case "keep" -> actions.keep(flagsOf(a));
                case "discard" -> actions.discard();
                case "fileinto" -> {
                    String mailbox = expand(a.positionalString(0));
                    if (!isMailboxName(mailbox)) {
                        throw new Failure(c.line(), "\"" + mailbox + "\" is not a mailbox name: use names like"
                                + " \"Lists/sieve\", '/' between levels, no empty level, no control characters");
                    }
                    Optional<String> specialUse = Optional.empty();
                    if (a.has("specialuse")) {
                        // RFC 8579 §4: the mailbox with the attribute if there is one, else the named one,
                        // which :create makes with the attribute
                        String attribute = expand(a.string("specialuse"));
                        if (!isSpecialUse(attribute)) {
                            throw new Failure(c.line(), "\"" + attribute + "\" is not a special-use attribute like \"\\\\Junk\"");
                        }
                        Optional<String> found = run.account.mailboxWithSpecialUse(attribute);
                        if (found.isPresent()) {
                            mailbox = found.get();
                        } else if (a.has("create")) {
                            specialUse = Optional.of(attribute);
                        }
                    }
                    actions.fileInto(mailbox, flagsOf(a), a.has("create"), specialUse, a.has("copy"));
                }
                case "redirect" -> {
                    String written = expand(a.positionalString(0));
                    String address = RedirectAddress.parse(written);
                    if (address == null) {
                        throw new Failure(c.line(), "redirect needs one address like user@example.org, not \"" + written + "\"");
                    }
                    actions.redirect(address, a.has("copy"));
                }
                case "setflag", "addflag", "removeflag" -> changeFlags(c);
                case "set" -> variables.set(a.positionalString(0), Variables.modify(expand(a.positionalString(1)), a));
                case "vacation" -> actions.vacation(vacation(c));
                case "notify" -> actions.notify(notify(c));
                case "reject", "ereject" -> actions.reject(expand(a.positionalString(0)), c.name().equals("ereject"));
                case "addheader" -> addHeader(c);
                case "deleteheader" -> deleteHeader(c);
                // RFC 5463 §5: the script ends as on any runtime error, with the script's own words
                case "error" -> throw new Failure(c.line(), expand(a.positionalString(0)));
                default -> throw new IllegalStateException("checked script holds unknown command " + c.name());
            }
        } catch (ActionList.LimitReached e) {
            throw new Failure(c.line(), e.getMessage());
        }
    }

    /**
     * RFC 5293 §4: addheader [":last"] <field-name> <value>. A name or value that is not valid once
     * expanded is a runtime error; a protected field is left alone, silently (§6).
     */
    private void addHeader(Command c) throws Failure {
        Arguments a = c.arguments();
        String name = expand(a.positionalString(0));
        String value = expand(a.positionalString(1));
        if (!HeaderSection.isFieldName(name)) {
            throw new Failure(c.line(), "addheader: \"" + name + "\" is not a header field name");
        }
        String invalid = EditableHeader.invalidValue(value);
        if (invalid != null) {
            throw new Failure(c.line(), "addheader " + name + ": " + invalid);
        }
        try {
            run.editable().add(name, value, a.has("last"));
        } catch (EditableHeader.LimitReached e) {
            throw new Failure(c.line(), e.getMessage());
        }
    }

    /**
     * RFC 5293 §5: deleteheader [":index" N [":last"]] [COMPARATOR] [MATCH-TYPE] <field-name>
     * [<value-patterns>]: the fields of that name (only the Nth with :index, counted from the end
     * with :last) whose decoded value matches a pattern, all of them without patterns. A protected
     * field is left alone, silently (§6). Matching sets no match variables: this is no test.
     */
    private void deleteHeader(Command c) throws Failure {
        Arguments a = c.arguments();
        String name = expand(a.positionalString(0));
        if (!HeaderSection.isFieldName(name)) {
            throw new Failure(c.line(), "deleteheader: \"" + name + "\" is not a header field name");
        }
        List<String> patterns = a.positional().size() > 1 ? expandAll(a.positionalStrings(1)) : null;
        run.editable().delete(name, (position, count, raw) -> {
            if (a.has("index")) {
                long n = a.number("index");
                if (n != (a.has("last") ? count - position + 1 : position)) {
                    return false;
                }
            }
            return patterns == null || matches(c.line(), a, List.of(Rfc2047.decode(unfold(raw)).strip()), patterns, false);
        });
    }

    /**
     * RFC 6609 §3.2: runs the named script here, with its own requires and variables (but the
     * globals), sharing the actions and the implicit keep. The name is taken as written, never
     * expanded. A missing script is an error unless :optional; a script that includes itself,
     * directly or not, is an error unless :once, which also skips a script included before.
     */
    private void include(Command c) throws Failure {
        Arguments a = c.arguments();
        boolean global = a.has("global");
        String name = a.positionalString(0);
        String key = (global ? "global:" : "personal:") + name;
        String shown = (global ? ":global " : ":personal ") + "\"" + name + "\"";
        if (a.has("once") && run.included.contains(key)) {
            return; // §3.2: an include :once of a script on the stack counts as included already
        }
        if (run.includeStack.contains(key) || key.equals(run.runningPersonal)) {
            throw new Failure(c.line(), "include " + shown + " includes itself (a loop of includes)");
        }
        if (run.includeStack.size() >= MAX_INCLUDE_DEPTH) {
            throw new Failure(c.line(), "includes nest deeper than " + MAX_INCLUDE_DEPTH + " levels");
        }
        if (++run.includes > MAX_INCLUDES) {
            throw new Failure(c.line(), "more than " + MAX_INCLUDES + " includes in one run");
        }
        Optional<SieveScript> script;
        try {
            script = global ? run.account.globalScript(name) : run.account.personalScript(name);
        } catch (SieveException e) {
            throw new Failure(c.line(), "included script " + shown + " does not compile: " + e.getMessage());
        }
        if (script.isEmpty()) {
            if (a.has("optional")) {
                return; // §3.2: an optional script that is not there is skipped
            }
            throw new Failure(c.line(), "included script " + shown + " not found");
        }
        run.included.add(key);
        run.includeStack.add(key);
        try {
            script.get().runIn(run);
        } catch (Failure f) {
            throw new Failure(c.line(), "in included script " + shown + ", " + f.getMessage());
        } finally {
            run.includeStack.removeLast();
        }
    }

    /**
     * A name fileinto can hand to the store: UTF-8 text with '/' between levels, no empty level
     * (leading, trailing or doubled '/'), no control characters. The store may still refuse it.
     */
    static boolean isMailboxName(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.endsWith("/") || name.contains("//")) {
            return false;
        }
        return name.chars().noneMatch(ch -> ch < 0x20 || ch == 0x7f);
    }

    /** RFC 5232 §5: :flags replaces the internal variable for this action; else its current value. */
    private List<String> flagsOf(Arguments a) {
        if (!flagsOn) {
            return List.of();
        }
        return a.has("flags") ? flagList(expandAll(a.strings("flags"))) : run.internalFlags;
    }

    /** RFC 5232 §3: a flag list is any number of strings, each holding flags separated by spaces. */
    static List<String> flagList(List<String> strings) {
        List<String> words = new ArrayList<>();
        for (String s : strings) {
            for (String w : s.split(" ")) {
                if (!w.isEmpty()) {
                    words.add(w);
                }
            }
        }
        return ActionList.union(List.of(), words);
    }

    private void changeFlags(Command c) {
        Arguments a = c.arguments();
        boolean named = a.positional().size() == 2;
        List<String> given = flagList(expandAll(a.positionalStrings(named ? 1 : 0)));
        List<String> current = named ? flagList(List.of(variables.get(a.positionalString(0)))) : run.internalFlags;
        List<String> result = switch (c.name()) {
            case "setflag" -> given;
            case "addflag" -> ActionList.union(current, given);
            default -> {
                Set<String> remove = new LinkedHashSet<>();
                given.forEach(f -> remove.add(f.toLowerCase(Locale.ROOT)));
                yield current.stream().filter(f -> !remove.contains(f.toLowerCase(Locale.ROOT))).toList();
            }
        };
        if (named) {
            variables.set(a.positionalString(0), String.join(" ", result));
        } else {
            run.internalFlags = List.copyOf(result);
        }
    }

    private SieveAction.Vacation vacation(Command c) throws Failure {
        Arguments a = c.arguments();
        Duration period = DEFAULT_PERIOD;
        if (a.has("days")) {
            // RFC 5230 §4.1: fewer than one day is raised to one; a site may cap the upper end
            period = clamp(Duration.ofDays(Math.min(a.number("days"), MAX_PERIOD.toDays() + 1)), MIN_DAYS);
        } else if (a.has("seconds")) {
            // RFC 6131 §2: the minimum is normally 0 (a reply to every message; §4.5's loop rules still
            // apply); a site minimum would have to stay under one day, so we keep 0. The cap still holds
            period = clamp(Duration.ofSeconds(Math.min(a.number("seconds"), MAX_PERIOD.toSeconds() + 1)), Duration.ZERO);
        }
        Optional<String> subject = a.has("subject") ? Optional.of(expand(a.string("subject"))) : Optional.empty();
        Optional<String> from = Optional.empty();
        if (a.has("from")) {
            String f = expand(a.string("from"));
            if (AddressList.parse(f).stream().noneMatch(x -> x.host() != null && !x.host().isEmpty())) {
                throw new Failure(c.line(), "vacation :from needs an address like user@example.org, not \"" + f + "\"");
            }
            from = Optional.of(f);
        }
        List<String> addresses = a.has("addresses") ? expandAll(a.strings("addresses")) : List.of();
        String reason = expand(a.positionalString(0));
        // RFC 5230 §4.2: without :handle, replies with the same texts count as the same vacation
        String handle = a.has("handle") ? expand(a.string("handle"))
                : "auto:" + Integer.toHexString((reason + "\0" + subject.orElse("") + "\0" + from.orElse("")
                        + "\0" + a.has("mime")).hashCode());
        return new SieveAction.Vacation(reason, subject, from, addresses, period, a.has("mime"), handle);
    }

    /**
     * RFC 5435 §3: the notify action with its arguments expanded. A method that is no longer one
     * we support once its variables are expanded is a runtime error (§3.8), as are a bad
     * :importance or :from reached through variables.
     */
    private SieveAction.Notify notify(Command c) throws Failure {
        Arguments a = c.arguments();
        String method = expand(a.positionalString(0));
        if (!MailtoUri.supported(method)) {
            throw new Failure(c.line(), MailtoUri.unsupported(method));
        }
        int importance = 2; // §3.4: "2" (normal) unless given
        if (a.has("importance")) {
            String given = expand(a.string("importance"));
            OptionalInt i = SieveAction.Notify.importance(given);
            if (i.isEmpty()) {
                throw new Failure(c.line(), ":importance needs \"1\", \"2\" or \"3\", not \"" + given + "\"");
            }
            importance = i.getAsInt();
        }
        Optional<String> from = Optional.empty();
        if (a.has("from")) {
            String f = expand(a.string("from"));
            if (RedirectAddress.parse(f) == null) {
                throw new Failure(c.line(), "notify :from needs an address like user@example.org, not \"" + f + "\"");
            }
            from = Optional.of(f);
        }
        List<String> options = a.has("options") ? expandAll(a.strings("options")) : List.of();
        Optional<String> text = a.has("message") ? Optional.of(expand(a.string("message"))) : Optional.empty();
        return new SieveAction.Notify(method, from, importance, options, text);
    }

    private static Duration clamp(Duration d, Duration min) {
        if (d.compareTo(min) < 0) {
            return min;
        }
        return d.compareTo(MAX_PERIOD) > 0 ? MAX_PERIOD : d;
    }

    private String expand(String s) {
        return variablesOn ? Variables.truncate(variables.expand(s)) : s;
    }

    private List<String> expandAll(List<String> list) {
        if (!variablesOn) {
            return list;
        }
        List<String> out = new ArrayList<>(list.size());
        for (String s : list) {
            out.add(expand(s));
        }
        return out;
    }

    private boolean test(Test t) throws Failure {
        Arguments a = t.arguments();
        return switch (t.name()) {
            case "true" -> true;
            case "false" -> false;
            case "not" -> !test(t.tests().get(0));
            case "allof" -> {
                for (Test sub : t.tests()) {
                    if (!test(sub)) {
                        yield false;
                    }
                }
                yield true;
            }
            case "anyof" -> {
                for (Test sub : t.tests()) {
                    if (test(sub)) {
                        yield true;
                    }
                }
                yield false;
            }
            case "exists" -> {
                for (String name : expandAll(a.positionalStrings(0))) {
                    if (run.header(name).isEmpty()) {
                        yield false;
                    }
                }
                yield true;
            }
            // RFC 5228 §5.9: strictly over or under
            case "size" -> a.has("over") ? message.size() > a.number("over") : message.size() < a.number("under");
            case "header" -> compare(t, a, headerValues(a, expandAll(a.positionalStrings(0))), 1);
            case "address" -> compare(t, a, addressValues(a, expandAll(a.positionalStrings(0))), 1);
            case "date" -> compare(t, a, dateValues(a), 2);
            case "currentdate" -> compare(t, a, datePart(a, expand(a.positionalString(0)),
                    new ZonedTime(run.startSecond, 0)).stream().toList(), 1);
            case "environment" -> {
                // RFC 5183 §4: an item that is not there fails the test, even :count "eq" "0"
                Optional<String> item = environmentItem(expand(a.positionalString(0)));
                yield item.isPresent() && compare(t, a, stringValues(a, List.of(item.get())), 1);
            }
            // RFC 5463 §4: the names are taken as written, never expanded, like require's
            case "duplicate" -> duplicate(a, t.line());
            case "specialuse_exists" -> specialUseExists(a);
            // RFC 5435 §5: true only if every URI is one notify could use
            case "valid_notify_method" -> expandAll(a.positionalStrings(0)).stream().allMatch(MailtoUri::supported);
            case "notify_method_capability" -> compare(t, a, capability(expand(a.positionalString(0)),
                    expand(a.positionalString(1))), 2);
            // RFC 5235 §3: the scanners' verdicts, "0" when the message was not tested
            case "spamtest" -> compare(t, a, List.of(environment.spamTest().value(this::firstField, 10, a.has("percent"))), 0);
            case "virustest" -> compare(t, a, List.of(environment.virusTest().value(this::firstField, 5, false)), 0);
            case "ihave" -> a.positionalStrings(0).stream().map(n -> n.toLowerCase(Locale.ROOT)).allMatch(SieveScript::supports);
            case "envelope" -> compare(t, a, envelopeValues(a, expandAll(a.positionalStrings(0))), 1);
            case "string" -> compare(t, a, stringValues(a, expandAll(a.positionalStrings(0))), 1);
            case "body" -> compare(t, a, bodyValues(a), 0);
            case "hasflag" -> compare(t, a, flagValues(a), a.positional().size() - 1);
            case "mailboxexists" -> {
                // RFC 5490 §3.1: true only if every named mailbox exists
                for (String name : expandAll(a.positionalStrings(0))) {
                    if (!(ActionList.isInbox(name) || run.account.mailboxExists(name))) {
                        yield false;
                    }
                }
                yield true;
            }
            default -> throw new IllegalStateException("checked script holds unknown test " + t.name());
        };
    }

    /**
     * RFC 7352 §3: the message's unique ID (its Message-ID, the first of the :header field, or
     * :uniqueid) seen by an earlier delivery under the same handle. A message without the field
     * has no ID: the test is false and nothing is tracked.
     */
    private boolean duplicate(Arguments a, int line) throws Failure {
        String id;
        if (a.has("uniqueid")) {
            id = expand(a.string("uniqueid"));
        } else {
            List<String> fields = run.header(a.has("header") ? expand(a.string("header")) : "message-id");
            id = fields.isEmpty() ? "" : unfold(fields.getFirst()).strip();
            if (id.isEmpty()) {
                return false;
            }
        }
        String handle = a.has("handle") ? expand(a.string("handle")) : "";
        Duration period = a.has("seconds") ? Duration.ofSeconds(a.number("seconds")) : DuplicateCheck.DEFAULT_PERIOD;
        if (!run.mayCheckDuplicate(handle, id)) {
            // each ID is a store lookup now and a row later: a script cannot make thousands per message
            throw new Failure(line, "more than " + Execution.MAX_DUPLICATE_IDS + " IDs tested for duplicates in one run");
        }
        return run.duplicate(new DuplicateCheck(handle, id, period, a.has("last")));
    }

    /**
     * RFC 5435 §6: the value of a capability of a notification method. The one capability defined,
     * "online", is "maybe" for mailto (RFC 5436 §2.2): mail says nothing of whether its reader is
     * there. An unsupported method or an unknown capability has no value, so the test is false.
     */
    private static List<String> capability(String method, String name) {
        if (!MailtoUri.supported(method) || !name.equalsIgnoreCase("online")) {
            return List.of();
        }
        return List.of("maybe");
    }

    /**
     * RFC 8579 §3: without a mailbox, whether every attribute is some mailbox's; with one, whether
     * it exists and has them all. An attribute that is no special-use attribute is no mailbox's.
     */
    private boolean specialUseExists(Arguments a) {
        boolean named = a.positional().size() == 2;
        String mailbox = named ? expand(a.positionalString(0)) : null;
        for (String attribute : expandAll(a.positionalStrings(named ? 1 : 0))) {
            if (!isSpecialUse(attribute)) {
                return false;
            }
            boolean found = named ? run.account.hasSpecialUse(mailbox, attribute)
                    : run.account.mailboxWithSpecialUse(attribute).isPresent();
            if (!found) {
                return false;
            }
        }
        return true;
    }

    /** RFC 6154 §2 (use-attr: "\\" atom): a backslash and atom characters. */
    static boolean isSpecialUse(String s) {
        return s.length() > 1 && s.charAt(0) == '\\' && s.substring(1).chars().allMatch(ch -> ch > 0x20 && ch < 0x7f
                && "(){%*\"\\]".indexOf(ch) < 0);
    }

    /**
     * RFC 5228 §2.7.2: header values unfolded (RFC 5322 §2.2.3), RFC 2047 encoded-words decoded,
     * leading and trailing white space removed.
     */
    private List<String> headerValues(Arguments a, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String name : distinct(names)) {
            for (String raw : indexed(a, run.header(name))) {
                out.add(Rfc2047.decode(unfold(raw)).strip());
            }
        }
        return out;
    }

    /** The first field of this name, unfolded, RFC 2047 decoded and stripped, as a scanner's verdict is read. */
    private Optional<String> firstField(String name) {
        List<String> fields = run.header(name);
        return fields.isEmpty() ? Optional.empty() : Optional.of(Rfc2047.decode(unfold(fields.getFirst())).strip());
    }

    /**
     * RFC 5260 §6: with :index N, only the Nth occurrence of the field, counted from the first
     * (from the last with :last); none when there are fewer. Each field name is counted apart.
     */
    private static List<String> indexed(Arguments a, List<String> fields) {
        if (!a.has("index")) {
            return fields;
        }
        long n = a.number("index");
        if (n > fields.size()) {
            return List.of();
        }
        int i = (int) n - 1;
        return List.of(fields.get(a.has("last") ? fields.size() - 1 - i : i));
    }

    /**
     * RFC 5260 §4: the date-part of every occurrence of the field that holds a date-time; an
     * occurrence that does not is skipped, so a field with no date makes the test false.
     */
    private List<String> dateValues(Arguments a) {
        String field = expand(a.positionalString(0));
        String part = expand(a.positionalString(1));
        List<String> out = new ArrayList<>();
        for (String raw : indexed(a, run.header(field))) {
            DateTimeField.parse(unfold(raw)).flatMap(time -> datePart(a, part, time)).ifPresent(out::add);
        }
        return out;
    }

    /**
     * The date-part of a time, shown in the zone the test asks for (RFC 5260 §4.1): the zone of
     * :zone, the time's own with :originalzone, else the local zone of the environment's clock at
     * that instant. Empty for a date-part named through a variable that is no date-part.
     */
    private Optional<String> datePart(Arguments a, String part, ZonedTime time) {
        Optional<DatePart> p = DatePart.named(part);
        if (p.isEmpty()) {
            return Optional.empty();
        }
        ZonedTime shown;
        if (a.has("originalzone")) {
            shown = time;
        } else {
            // a :zone through a variable that is no zone: the local zone, as Pigeonhole does,
            // rather than failing the whole script for it
            OptionalInt zone = a.has("zone") ? ZonedTime.parseZone(expand(a.string("zone"))) : OptionalInt.empty();
            shown = time.inZone(zone.isPresent() ? zone.getAsInt() : localOffsetMinutes(time));
        }
        return Optional.of(p.get().of(shown));
    }

    private int localOffsetMinutes(ZonedTime time) {
        return environment.clock().getZone().getRules().getOffset(Instant.ofEpochSecond(time.epochSecond()))
                .getTotalSeconds() / 60;
    }

    /** RFC 5183 §4.1's items; those the caller left empty, and names we do not know, are not there. */
    private Optional<String> environmentItem(String name) {
        String value = switch (name.toLowerCase(Locale.ROOT)) {
            case "domain" -> environment.domain();
            case "host" -> environment.host();
            case "location" -> SieveEnvironment.LOCATION;
            case "name" -> SieveEnvironment.NAME;
            case "phase" -> SieveEnvironment.PHASE;
            case "remote-host" -> environment.remoteHost();
            case "remote-ip" -> environment.remoteIp();
            case "version" -> environment.version();
            default -> "";
        };
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    /** Field names once each, whatever their case: naming a field twice matches nothing more (RFC 5228 §2.7.1). */
    private static Collection<String> distinct(List<String> names) {
        Set<String> seen = new LinkedHashSet<>();
        for (String name : names) {
            seen.add(name.toLowerCase(Locale.ROOT));
        }
        return seen;
    }

    static String unfold(String raw) {
        return raw.replaceAll("\r?\n(?=[ \t])", "").replace("\r", "").replace("\n", "");
    }

    /** RFC 5228 §5.1: each address in the named fields, cut to the address part; display names never count. */
    private List<String> addressValues(Arguments a, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String name : distinct(names)) {
            for (String raw : indexed(a, run.header(name))) {
                for (AddressList.Address addr : AddressList.parse(unfold(raw))) {
                    if (addr.isGroupStart() || addr.isGroupEnd() || addr.mailbox() == null) {
                        continue;
                    }
                    String local = addr.mailbox();
                    String domain = addr.host() == null || addr.host().isEmpty() ? null : addr.host();
                    addressPart(a, local, domain).ifPresent(out::add);
                }
            }
        }
        return out;
    }

    private List<String> envelopeValues(Arguments a, List<String> parts) {
        List<String> out = new ArrayList<>();
        for (String part : parts) {
            String address = switch (part.toLowerCase(Locale.ROOT)) {
                case "from" -> message.envelopeFrom();
                case "to" -> message.envelopeTo();
                default -> null; // a part named through a variable that we do not know: no value
            };
            if (address == null) {
                continue;
            }
            if (address.isEmpty()) {
                out.add(""); // RFC 5228 §5.4: the null sender is "" whatever the address part
                continue;
            }
            int at = address.lastIndexOf('@');
            String local = at < 0 ? address : address.substring(0, at);
            String domain = at < 0 ? null : address.substring(at + 1);
            addressPart(a, local, domain).ifPresent(out::add);
        }
        return out;
    }

    /**
     * RFC 5228 §2.7.4 and RFC 5233 §4 ('+' separates user and detail). An address without a domain
     * has no :domain; one without '+' has no :detail, so neither matches anything.
     */
    private static Optional<String> addressPart(Arguments a, String local, String domain) {
        String part = a.firstOf("localpart", "domain", "user", "detail");
        if (part == null) {
            return Optional.of(domain == null ? local : local + "@" + domain);
        }
        int plus = local.indexOf('+');
        return Optional.ofNullable(switch (part) {
            case "localpart" -> local;
            case "domain" -> domain;
            case "user" -> plus < 0 ? local : local.substring(0, plus);
            default -> plus < 0 ? null : local.substring(plus + 1);
        });
    }

    /** RFC 5173 §5: what the transform (:text unless another is given) makes of the body, read once per run. */
    private List<String> bodyValues(Arguments a) {
        if (message.body().isEmpty()) {
            return List.of();
        }
        if (run.body == null) {
            run.body = new BodyValues(message.body().get());
        }
        if (a.has("raw")) {
            return run.body.raw();
        }
        return a.has("content") ? run.body.content(expandAll(a.strings("content"))) : run.body.text();
    }

    /** RFC 5229 §5: for :count, an empty source string is no value at all. */
    private static List<String> stringValues(Arguments a, List<String> sources) {
        return a.has("count") ? sources.stream().filter(s -> !s.isEmpty()).toList() : sources;
    }

    private List<String> flagValues(Arguments a) {
        if (a.positional().size() == 2) {
            List<String> contents = new ArrayList<>();
            for (String v : a.positionalStrings(0)) {
                contents.add(variables.get(v));
            }
            return flagList(contents);
        }
        return run.internalFlags;
    }

    /**
     * Compares values against the keys in positional argument {@code keyIndex}: true when any value
     * matches any key (RFC 5228 §2.7.1); :count compares the number of values (RFC 5231 §4.2).
     */
    private boolean compare(Test t, Arguments a, List<String> values, int keyIndex) throws Failure {
        // RFC 5173 §6: body sets no match variables
        return matches(t.line(), a, values, expandAll(a.positionalStrings(keyIndex)), !t.name().equals("body"));
    }

    /** Whether any value matches any key, as the comparator and match type in {@code a} say. */
    private boolean matches(int line, Arguments a, List<String> values, List<String> keys, boolean setsVariables)
            throws Failure {
        Comparator comparator = a.has("comparator")
                ? Comparator.named(a.string("comparator")).orElseThrow() : Comparator.ASCII_CASEMAP;
        String type = a.firstOf("is", "contains", "matches", "value", "count");
        if ("count".equals(type)) {
            Relation r = Relation.named(a.string("count")).orElseThrow();
            long count = values.size();
            String counted = String.valueOf(count);
            return keys.stream().anyMatch(k -> r.holds(comparator.compare(counted, k)));
        }
        List<GlobMatcher> globs = "matches".equals(type) ? keys.stream().map(GlobMatcher::compile).toList() : List.of();
        List<int[]> keyPoints = "contains".equals(type) ? keys.stream().map(k -> k.codePoints().toArray()).toList() : List.of();
        for (String value : values) {
            // taken out once per value, not once per key: a long header against a long key list
            int[] valuePoints = globs.isEmpty() && keyPoints.isEmpty() ? null : value.codePoints().toArray();
            for (int k = 0; k < keys.size(); k++) {
                String key = keys.get(k);
                // each comparison costs at most about value × key characters; a run is bounded as a
                // whole, so a script cannot hold a delivery worker (Pigeonhole's sieve_max_cpu_time)
                run.work += (long) (value.length() + 1) * (key.length() + 1);
                if (run.work > MAX_WORK) {
                    throw new Failure(line, "too much matching for one message (over " + MAX_WORK
                            + " value × key characters); match fewer or shorter values");
                }
                if (type == null || type.equals("is")) {
                    if (comparator.equal(value, key)) {
                        return true;
                    }
                } else if (type.equals("contains")) {
                    if (comparator.contains(valuePoints, keyPoints.get(k))) {
                        return true;
                    }
                } else if (type.equals("value")) {
                    if (Relation.named(a.string("value")).orElseThrow().holds(comparator.compare(value, key))) {
                        return true;
                    }
                } else {
                    Optional<List<String>> m = globs.get(k).match(valuePoints, value, comparator);
                    if (m.isPresent()) {
                        if (variablesOn && setsVariables) {
                            variables.setMatches(m.get());
                        }
                        return true;
                    }
                }
            }
        }
        return false;
    }
}

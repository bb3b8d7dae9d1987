package dev.mailstack.sieve;

import dev.mailstack.sieve.Signature.Kind;
import dev.mailstack.sieve.Signature.Nested;
import dev.mailstack.sieve.Signature.TagSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Every command and test this implementation knows, with its {@link Signature}: the base language
 * of RFC 5228 and the extensions in {@link SieveScript#EXTENSIONS}.
 */
final class Vocabulary {
    private static final String MATCH = "match type";
    private static final String COMPARATOR = "comparator";
    private static final String ADDRESS_PART = "address part";

    /** RFC 5228 §2.7.1 match types, with RFC 5231's :value and :count. */
    private static final List<TagSpec> MATCH_TYPES = List.of(
            new TagSpec("is", Kind.NONE, MATCH, null),
            new TagSpec("contains", Kind.NONE, MATCH, null),
            new TagSpec("matches", Kind.NONE, MATCH, null),
            new TagSpec("value", Kind.STRING, MATCH, "relational"),
            new TagSpec("count", Kind.STRING, MATCH, "relational"));
    /** RFC 5228 §2.7.3. */
    private static final List<TagSpec> COMPARATORS = List.of(new TagSpec("comparator", Kind.STRING, COMPARATOR, null));
    /** RFC 5228 §2.7.4, with RFC 5233's :user and :detail. */
    private static final List<TagSpec> ADDRESS_PARTS = List.of(
            new TagSpec("all", Kind.NONE, ADDRESS_PART, null),
            new TagSpec("localpart", Kind.NONE, ADDRESS_PART, null),
            new TagSpec("domain", Kind.NONE, ADDRESS_PART, null),
            new TagSpec("user", Kind.NONE, ADDRESS_PART, "subaddress"),
            new TagSpec("detail", Kind.NONE, ADDRESS_PART, "subaddress"));

    /** RFC 5260 §6: which occurrence of a header field header, address and date look at. */
    private static final List<TagSpec> INDEX = List.of(
            new TagSpec("index", Kind.NUMBER, null, "index"),
            new TagSpec("last", Kind.NONE, null, "index"));
    /** RFC 5260 §4.1: the zone a date is shown in; the two exclude each other. */
    private static final TagSpec ZONE = new TagSpec("zone", Kind.STRING, "zone", null);
    private static final TagSpec ORIGINAL_ZONE = new TagSpec("originalzone", Kind.NONE, "zone", null);

    static final Map<String, Signature> COMMANDS = index(List.of(
            new Signature("require", null, List.of(), List.of(Kind.STRING_LIST), 0, Nested.NOTHING),
            new Signature("if", null, List.of(), List.of(), 0, Nested.TEST_AND_BLOCK),
            new Signature("elsif", null, List.of(), List.of(), 0, Nested.TEST_AND_BLOCK),
            new Signature("else", null, List.of(), List.of(), 0, Nested.BLOCK),
            new Signature("stop", null, List.of(), List.of(), 0, Nested.NOTHING),
            new Signature("keep", null, List.of(new TagSpec("flags", Kind.STRING_LIST, null, "imap4flags")),
                    List.of(), 0, Nested.NOTHING),
            new Signature("discard", null, List.of(), List.of(), 0, Nested.NOTHING),
            // RFC 5429 §2.1, §2.2: refuse the message with a reason for its sender
            new Signature("reject", "reject", List.of(), List.of(Kind.STRING), 0, Nested.NOTHING),
            new Signature("ereject", "ereject", List.of(), List.of(Kind.STRING), 0, Nested.NOTHING),
            new Signature("redirect", null, List.of(new TagSpec("copy", Kind.NONE, null, "copy")),
                    List.of(Kind.STRING), 0, Nested.NOTHING),
            new Signature("fileinto", "fileinto", List.of(
                    new TagSpec("copy", Kind.NONE, null, "copy"),
                    new TagSpec("flags", Kind.STRING_LIST, null, "imap4flags"),
                    new TagSpec("create", Kind.NONE, null, "mailbox"),
                    // RFC 8579 §4
                    new TagSpec("specialuse", Kind.STRING, null, "special-use")),
                    List.of(Kind.STRING), 0, Nested.NOTHING),
            flagCommand("setflag"), flagCommand("addflag"), flagCommand("removeflag"),
            new Signature("vacation", "vacation", List.of(
                    new TagSpec("days", Kind.NUMBER, "period", null),
                    new TagSpec("seconds", Kind.NUMBER, "period", "vacation-seconds"),
                    new TagSpec("subject", Kind.STRING, null, null),
                    new TagSpec("from", Kind.STRING, null, null),
                    new TagSpec("addresses", Kind.STRING_LIST, null, null),
                    new TagSpec("mime", Kind.NONE, null, null),
                    new TagSpec("handle", Kind.STRING, null, null)),
                    List.of(Kind.STRING), 0, Nested.NOTHING),
            // RFC 5229 §4.1: one modifier per precedence level
            new Signature("set", "variables", List.of(
                    new TagSpec("lower", Kind.NONE, "case modifier", null),
                    new TagSpec("upper", Kind.NONE, "case modifier", null),
                    new TagSpec("lowerfirst", Kind.NONE, "first-letter modifier", null),
                    new TagSpec("upperfirst", Kind.NONE, "first-letter modifier", null),
                    new TagSpec("quotewildcard", Kind.NONE, null, null),
                    // RFC 5435 §4.1, precedence 15
                    new TagSpec("encodeurl", Kind.NONE, null, "enotify"),
                    new TagSpec("length", Kind.NONE, null, null)),
                    List.of(Kind.STRING, Kind.STRING), 0, Nested.NOTHING),
            // RFC 5435 §3: notify [":from" string] [":importance" <"1" / "2" / "3">]
            // [":options" string-list] [":message" string] <method: string>
            new Signature("notify", "enotify", List.of(
                    new TagSpec("from", Kind.STRING, null, null),
                    new TagSpec("importance", Kind.STRING, null, null),
                    new TagSpec("options", Kind.STRING_LIST, null, null),
                    new TagSpec("message", Kind.STRING, null, null)),
                    List.of(Kind.STRING), 0, Nested.NOTHING),
            // RFC 5293 §4: addheader [":last"] <field-name: string> <value: string>
            new Signature("addheader", "editheader", List.of(new TagSpec("last", Kind.NONE, null, null)),
                    List.of(Kind.STRING, Kind.STRING), 0, Nested.NOTHING),
            // RFC 5293 §5: deleteheader [":index" <fieldno: number> [":last"]] [COMPARATOR] [MATCH-TYPE]
            // <field-name: string> [<value-patterns: string-list>]; its :index is its own, no "index" needed
            new Signature("deleteheader", "editheader", concat(List.of(
                    new TagSpec("index", Kind.NUMBER, null, null),
                    new TagSpec("last", Kind.NONE, null, null)), COMPARATORS, MATCH_TYPES),
                    List.of(Kind.STRING, Kind.STRING_LIST), 1, Nested.NOTHING),
            // RFC 5463 §5
            new Signature("error", "ihave", List.of(), List.of(Kind.STRING), 0, Nested.NOTHING),
            // RFC 6609 §3.2: include [LOCATION] [":once"] [":optional"] <value: string>
            new Signature("include", "include", List.of(
                    new TagSpec("personal", Kind.NONE, "location", null),
                    new TagSpec("global", Kind.NONE, "location", null),
                    new TagSpec("once", Kind.NONE, null, null),
                    new TagSpec("optional", Kind.NONE, null, null)),
                    List.of(Kind.STRING), 0, Nested.NOTHING),
            // RFC 6609 §3.3, §3.4
            new Signature("return", "include", List.of(), List.of(), 0, Nested.NOTHING),
            new Signature("global", "include", List.of(), List.of(Kind.STRING_LIST), 0, Nested.NOTHING)));

    static final Map<String, Signature> TESTS = index(List.of(
            new Signature("address", null, concat(COMPARATORS, ADDRESS_PARTS, MATCH_TYPES, INDEX),
                    List.of(Kind.STRING_LIST, Kind.STRING_LIST), 0, Nested.NOTHING),
            new Signature("envelope", "envelope", concat(COMPARATORS, ADDRESS_PARTS, MATCH_TYPES),
                    List.of(Kind.STRING_LIST, Kind.STRING_LIST), 0, Nested.NOTHING),
            new Signature("header", null, concat(COMPARATORS, MATCH_TYPES, INDEX),
                    List.of(Kind.STRING_LIST, Kind.STRING_LIST), 0, Nested.NOTHING),
            new Signature("exists", null, List.of(), List.of(Kind.STRING_LIST), 0, Nested.NOTHING),
            new Signature("size", null, List.of(
                    new TagSpec("over", Kind.NUMBER, "size", null),
                    new TagSpec("under", Kind.NUMBER, "size", null)), List.of(), 0, Nested.NOTHING),
            // RFC 5173 §4: body [COMPARATOR] [MATCH-TYPE] [BODY-TRANSFORM] <key-list: string-list>
            new Signature("body", "body", concat(COMPARATORS, MATCH_TYPES, List.of(
                    new TagSpec("raw", Kind.NONE, "body transform", null),
                    new TagSpec("content", Kind.STRING_LIST, "body transform", null),
                    new TagSpec("text", Kind.NONE, "body transform", null))),
                    List.of(Kind.STRING_LIST), 0, Nested.NOTHING),
            new Signature("allof", null, List.of(), List.of(), 0, Nested.TEST_LIST),
            new Signature("anyof", null, List.of(), List.of(), 0, Nested.TEST_LIST),
            new Signature("not", null, List.of(), List.of(), 0, Nested.TEST),
            new Signature("true", null, List.of(), List.of(), 0, Nested.NOTHING),
            new Signature("false", null, List.of(), List.of(), 0, Nested.NOTHING),
            new Signature("hasflag", "imap4flags", concat(COMPARATORS, MATCH_TYPES),
                    List.of(Kind.STRING_LIST, Kind.STRING_LIST), 1, Nested.NOTHING),
            new Signature("mailboxexists", "mailbox", List.of(), List.of(Kind.STRING_LIST), 0, Nested.NOTHING),
            new Signature("string", "variables", concat(COMPARATORS, MATCH_TYPES),
                    List.of(Kind.STRING_LIST, Kind.STRING_LIST), 0, Nested.NOTHING),
            // RFC 5260 §4: date [:zone / :originalzone] [COMPARATOR] [MATCH-TYPE] <header-name> <date-part> <key-list>
            new Signature("date", "date", concat(List.of(ZONE, ORIGINAL_ZONE), COMPARATORS, MATCH_TYPES, INDEX),
                    List.of(Kind.STRING, Kind.STRING, Kind.STRING_LIST), 0, Nested.NOTHING),
            // RFC 5260 §5: currentdate [:zone] [COMPARATOR] [MATCH-TYPE] <date-part> <key-list>
            new Signature("currentdate", "date", concat(List.of(ZONE), COMPARATORS, MATCH_TYPES),
                    List.of(Kind.STRING, Kind.STRING_LIST), 0, Nested.NOTHING),
            // RFC 5183 §4: environment [COMPARATOR] [MATCH-TYPE] <name> <key-list>
            new Signature("environment", "environment", concat(COMPARATORS, MATCH_TYPES),
                    List.of(Kind.STRING, Kind.STRING_LIST), 0, Nested.NOTHING),
            // RFC 5435 §5: valid_notify_method <notification-uris: string-list>
            new Signature("valid_notify_method", "enotify", List.of(), List.of(Kind.STRING_LIST), 0, Nested.NOTHING),
            // RFC 5435 §6: notify_method_capability [COMPARATOR] [MATCH-TYPE] <notification-uri: string>
            // <notification-capability: string> <key-list: string-list>
            new Signature("notify_method_capability", "enotify", concat(COMPARATORS, MATCH_TYPES),
                    List.of(Kind.STRING, Kind.STRING, Kind.STRING_LIST), 0, Nested.NOTHING),
            // RFC 5235 §3.1, §3.2: spamtest [":percent"] [COMPARATOR] [MATCH-TYPE] <value: string>
            new Signature("spamtest", "spamtest", concat(List.of(new TagSpec("percent", Kind.NONE, null, "spamtestplus")),
                    COMPARATORS, MATCH_TYPES), List.of(Kind.STRING), 0, Nested.NOTHING),
            // RFC 5235 §3.3: virustest [COMPARATOR] [MATCH-TYPE] <value: string>
            new Signature("virustest", "virustest", concat(COMPARATORS, MATCH_TYPES), List.of(Kind.STRING), 0,
                    Nested.NOTHING),
            // RFC 5463 §4
            new Signature("ihave", "ihave", List.of(), List.of(Kind.STRING_LIST), 0, Nested.NOTHING),
            // RFC 8579 §3: specialuse_exists [<mailbox: string>] <special-use-attrs: string-list>
            new Signature("specialuse_exists", "special-use", List.of(), List.of(Kind.STRING, Kind.STRING_LIST), 1,
                    Nested.NOTHING),
            // RFC 7352 §3: duplicate [":handle" <handle: string>] [":header" <header-name: string> /
            // ":uniqueid" <value: string>] [":seconds" <timeout: number>] [":last"]
            new Signature("duplicate", "duplicate", List.of(
                    new TagSpec("handle", Kind.STRING, null, null),
                    new TagSpec("header", Kind.STRING, "unique ID source", null),
                    new TagSpec("uniqueid", Kind.STRING, "unique ID source", null),
                    new TagSpec("seconds", Kind.NUMBER, null, null),
                    new TagSpec("last", Kind.NONE, null, null)),
                    List.of(), 0, Nested.NOTHING)));

    private Vocabulary() {
    }

    /** RFC 5232 §4: setflag/addflag/removeflag [<variablename: string>] <list-of-flags: string-list>. */
    private static Signature flagCommand(String name) {
        return new Signature(name, "imap4flags", List.of(), List.of(Kind.STRING, Kind.STRING_LIST), 1, Nested.NOTHING);
    }

    @SafeVarargs
    private static List<TagSpec> concat(List<TagSpec>... lists) {
        List<TagSpec> all = new ArrayList<>();
        for (List<TagSpec> l : lists) {
            all.addAll(l);
        }
        return all;
    }

    private static Map<String, Signature> index(List<Signature> signatures) {
        return signatures.stream().collect(Collectors.toUnmodifiableMap(Signature::name, Function.identity()));
    }
}

package dev.mailstack.sieve;

import dev.mailstack.sieve.Signature.Kind;
import dev.mailstack.sieve.Signature.Nested;
import dev.mailstack.sieve.Signature.TagSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Recursive-descent parser for RFC 5228 §8.2's grammar that checks as it goes: each command and
 * test against its {@link Signature}, extensions against {@code require}, {@code elsif}/{@code else}
 * placement, and the argument values that can be known before a message arrives (comparator
 * names, relational operators, envelope parts, variable names, constant redirect addresses).
 * Errors carry the line and say what to change.
 */
final class SieveParser {
    /** Blocks and nested tests together; deeper scripts are refused before the stack is at risk. */
    static final int MAX_NESTING = 32;
    /** Strings in one bracketed list; long enough for any real address or folder list. */
    static final int MAX_STRING_LIST = 1024;
    /** Distinct variable names a script may set (RFC 5229 §6 lets us limit; Pigeonhole allows 255). */
    static final int MAX_VARIABLES = 255;

    private final SieveLexer lexer;
    private Token current;
    private final Set<String> required = new LinkedHashSet<>();
    private final Set<String> variableNames = new HashSet<>();
    private boolean pastRequires;
    /** The line of the token consumed last: where a missing ";" belongs. */
    private int lastLine = 1;

    private SieveParser(String text) throws SieveException {
        this.lexer = new SieveLexer(text);
        this.current = lexer.next();
    }

    /** The parsed script: its top-level commands and the extensions it required. */
    record Parsed(List<Command> commands, Set<String> required) {
    }

    static Parsed parse(String text) throws SieveException {
        SieveParser p = new SieveParser(text);
        List<Command> commands = p.commands(0);
        if (p.current.kind() != Token.Kind.END) {
            throw new SieveException(p.current.line(), "unexpected \"}\" with no block open");
        }
        return new Parsed(commands, Set.copyOf(p.required));
    }

    private Token advance() throws SieveException {
        Token t = current;
        lastLine = t.line();
        current = lexer.next();
        return t;
    }

    private List<Command> commands(int depth) throws SieveException {
        List<Command> out = new ArrayList<>();
        String previous = null;
        while (current.kind() == Token.Kind.IDENTIFIER) {
            Command c = command(depth, previous);
            out.add(c);
            previous = c.name();
        }
        if (current.kind() != Token.Kind.END && current.kind() != Token.Kind.RIGHT_BRACE) {
            throw new SieveException(current.line(), "expected a command, found " + current.describe());
        }
        return out;
    }

    private Command command(int depth, String previous) throws SieveException {
        Token name = advance();
        int line = name.line();
        Signature sig = Vocabulary.COMMANDS.get(name.text());
        if (sig == null) {
            if (Vocabulary.TESTS.containsKey(name.text())) {
                throw new SieveException(line, name.text() + " is a test, not a command: use it in an if");
            }
            throw new SieveException(line, "unknown command \"" + name.text() + "\"");
        }
        if (sig.name().equals("require")) {
            if (pastRequires || depth > 0) {
                throw new SieveException(line, "require must come before any other command, at the top of the script");
            }
        } else {
            pastRequires = true;
        }
        needs(sig.name(), sig.extension(), line);
        if ((sig.name().equals("elsif") || sig.name().equals("else"))
                && !("if".equals(previous) || "elsif".equals(previous))) {
            throw new SieveException(line, sig.name() + " must follow an if or elsif block");
        }
        List<Argument> raw = arguments();
        List<Test> tests = nestedTests(sig, line, depth);
        Arguments args = resolve(sig, raw, line);
        List<Command> block = List.of();
        if (sig.nested() == Nested.TEST_AND_BLOCK || sig.nested() == Nested.BLOCK) {
            if (current.kind() != Token.Kind.LEFT_BRACE) {
                throw new SieveException(current.line(), sig.name() + " needs a block in { }, found " + current.describe());
            }
            advance();
            if (depth + 1 >= MAX_NESTING) {
                throw new SieveException(line, "blocks and tests nest deeper than " + MAX_NESTING + " levels");
            }
            if (sig.nested() == Nested.TEST_AND_BLOCK && lacksCapability(tests.get(0))) {
                // RFC 5463 §4: a block guarded by ihave of an extension we lack may use that
                // extension's commands, unknown to us; it can never run, so it is not checked
                skipBlock(line);
            } else {
                block = commands(depth + 1);
            }
            if (current.kind() != Token.Kind.RIGHT_BRACE) {
                throw new SieveException(line, sig.name() + " block opened here is never closed with \"}\"");
            }
            advance();
        } else {
            if (current.kind() != Token.Kind.SEMICOLON) {
                throw new SieveException(lastLine, "expected \";\" after " + sig.name() + ", found " + current.describe());
            }
            advance();
        }
        Command c = new Command(sig.name(), args, tests, block, line);
        checkCommand(c);
        return c;
    }

    /**
     * Whether a test is false whatever the message, because it is an ihave of an extension this
     * server lacks, or an allof holding one.
     */
    private static boolean lacksCapability(Test t) {
        return switch (t.name()) {
            case "ihave" -> !lowerCase(t.arguments().positionalStrings(0)).stream().allMatch(SieveScript::supports);
            case "allof" -> t.tests().stream().anyMatch(SieveParser::lacksCapability);
            default -> false;
        };
    }

    private static List<String> lowerCase(List<String> names) {
        return names.stream().map(n -> n.toLowerCase(Locale.ROOT)).toList();
    }

    /** Passes over the tokens of a block up to its closing "}", which is left as the current token. */
    private void skipBlock(int line) throws SieveException {
        int depth = 0;
        while (depth > 0 || current.kind() != Token.Kind.RIGHT_BRACE) {
            switch (current.kind()) {
                case END -> throw new SieveException(line, "block opened here is never closed with \"}\"");
                case LEFT_BRACE -> depth++;
                case RIGHT_BRACE -> depth--;
                default -> {
                }
            }
            advance();
        }
    }

    private List<Test> nestedTests(Signature sig, int line, int depth) throws SieveException {
        boolean wantsOne = sig.nested() == Nested.TEST || sig.nested() == Nested.TEST_AND_BLOCK;
        boolean wantsList = sig.nested() == Nested.TEST_LIST;
        // a test or list the signature does not take is left for the caller to report in context
        // ("expected ;", "needs a block"), which says more than "unexpected test" would
        if (current.kind() == Token.Kind.IDENTIFIER && wantsOne) {
            return List.of(test(depth + 1));
        }
        if (current.kind() == Token.Kind.LEFT_PAREN && wantsList) {
            advance();
            List<Test> tests = new ArrayList<>();
            while (true) {
                if (current.kind() != Token.Kind.IDENTIFIER) {
                    throw new SieveException(current.line(), "expected a test in the list of " + sig.name() + ", found " + current.describe());
                }
                tests.add(test(depth + 1));
                if (current.kind() == Token.Kind.COMMA) {
                    advance();
                } else if (current.kind() == Token.Kind.RIGHT_PAREN) {
                    advance();
                    return tests;
                } else {
                    throw new SieveException(current.line(), "expected \",\" or \")\" in the test list, found " + current.describe());
                }
            }
        }
        if (wantsOne) {
            throw new SieveException(line, sig.name() + " needs a test, such as header :contains \"subject\" \"x\"");
        }
        if (wantsList) {
            throw new SieveException(line, sig.name() + " needs a list of tests in ( )");
        }
        return List.of();
    }

    private Test test(int depth) throws SieveException {
        if (depth >= MAX_NESTING) {
            throw new SieveException(current.line(), "blocks and tests nest deeper than " + MAX_NESTING + " levels");
        }
        Token name = advance();
        int line = name.line();
        Signature sig = Vocabulary.TESTS.get(name.text());
        if (sig == null) {
            if (Vocabulary.COMMANDS.containsKey(name.text())) {
                throw new SieveException(line, name.text() + " is a command, not a test");
            }
            throw new SieveException(line, "unknown test \"" + name.text() + "\"");
        }
        needs(sig.name(), sig.extension(), line);
        List<Argument> raw = arguments();
        List<Test> tests = nestedTests(sig, line, depth);
        Test t = new Test(sig.name(), resolve(sig, raw, line), tests, line);
        checkTest(t);
        return t;
    }

    private List<Argument> arguments() throws SieveException {
        List<Argument> out = new ArrayList<>();
        while (true) {
            switch (current.kind()) {
                case TAG -> {
                    Token t = advance();
                    out.add(new Argument.Tag(t.text(), t.line()));
                }
                case NUMBER -> {
                    Token t = advance();
                    out.add(new Argument.Number(t.number(), t.line()));
                }
                case STRING -> {
                    Token t = advance();
                    out.add(new Argument.Strings(List.of(string(t)), false, t.line()));
                }
                case LEFT_BRACKET -> out.add(stringList());
                default -> {
                    return out;
                }
            }
        }
    }

    private Argument.Strings stringList() throws SieveException {
        int line = advance().line();
        List<String> values = new ArrayList<>();
        while (true) {
            if (current.kind() != Token.Kind.STRING) {
                throw new SieveException(current.line(), "expected a string in the list, found " + current.describe());
            }
            values.add(string(advance()));
            if (values.size() > MAX_STRING_LIST) {
                throw new SieveException(line, "string list has more than " + MAX_STRING_LIST + " strings");
            }
            if (current.kind() == Token.Kind.COMMA) {
                advance();
            } else if (current.kind() == Token.Kind.RIGHT_BRACKET) {
                advance();
                return new Argument.Strings(values, true, line);
            } else {
                throw new SieveException(current.line(), "expected \",\" or \"]\" in the string list, found " + current.describe());
            }
        }
    }

    private String string(Token t) throws SieveException {
        return required.contains("encoded-character") ? EncodedCharacter.decode(t.text(), t.line()) : t.text();
    }

    private void needs(String what, String extension, int line) throws SieveException {
        if (extension != null && !required.contains(extension)) {
            throw new SieveException(line, what + " needs require \"" + extension + "\"; at the top of the script");
        }
    }

    /** Sorts the arguments into tags and positionals and checks both against the signature (§2.6). */
    private Arguments resolve(Signature sig, List<Argument> raw, int line) throws SieveException {
        Map<String, Argument> tags = new LinkedHashMap<>();
        Map<String, String> groups = new HashMap<>();
        List<Argument> positional = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            Argument a = raw.get(i);
            if (a instanceof Argument.Tag tag) {
                TagSpec spec = sig.tags().get(tag.name());
                if (spec == null) {
                    throw new SieveException(a.line(), sig.name() + " has no tag \":" + tag.name() + "\"");
                }
                needs(":" + tag.name(), spec.extension(), a.line());
                if (!positional.isEmpty()) {
                    throw new SieveException(a.line(), "tag \":" + tag.name() + "\" must come before the other arguments of " + sig.name());
                }
                if (tags.containsKey(tag.name())) {
                    throw new SieveException(a.line(), "\":" + tag.name() + "\" is given twice");
                }
                if (spec.group() != null) {
                    String other = groups.put(spec.group(), tag.name());
                    if (other != null) {
                        throw new SieveException(a.line(), "\":" + other + "\" and \":" + tag.name()
                                + "\" cannot be used together: give one " + spec.group());
                    }
                }
                if (spec.value() == Kind.NONE) {
                    tags.put(tag.name(), tag);
                } else {
                    if (i + 1 >= raw.size() || !fits(raw.get(i + 1), spec.value())) {
                        throw new SieveException(a.line(), "\":" + tag.name() + "\" must be followed by " + spec.value().description);
                    }
                    tags.put(tag.name(), raw.get(++i));
                }
            } else {
                positional.add(a);
            }
        }
        List<Kind> kinds = sig.positional();
        int min = kinds.size() - sig.optionalLeading();
        if (positional.size() < min || positional.size() > kinds.size()) {
            String count = min == kinds.size() ? String.valueOf(min) : min + " or " + kinds.size();
            throw new SieveException(line, sig.name() + " takes " + count + " argument" + (kinds.size() == 1 ? "" : "s")
                    + " after its tags, not " + positional.size());
        }
        int offset = kinds.size() - positional.size();
        for (int k = 0; k < positional.size(); k++) {
            Kind want = kinds.get(k + offset);
            if (!fits(positional.get(k), want)) {
                throw new SieveException(positional.get(k).line(), "argument " + (k + 1) + " of " + sig.name()
                        + " must be " + want.description);
            }
        }
        if (sig.name().equals("size") && tags.isEmpty()) {
            throw new SieveException(line, "size needs :over or :under and a number");
        }
        return new Arguments(tags, positional);
    }

    private static boolean fits(Argument a, Kind kind) {
        return switch (kind) {
            case NONE -> false;
            case NUMBER -> a instanceof Argument.Number;
            case STRING -> a instanceof Argument.Strings s && !s.bracketed();
            case STRING_LIST -> a instanceof Argument.Strings;
        };
    }

    private void checkCommand(Command c) throws SieveException {
        Arguments a = c.arguments();
        switch (c.name()) {
            case "require" -> {
                for (String ext : a.positionalStrings(0)) {
                    String e = ext.toLowerCase(Locale.ROOT);
                    if (!SieveScript.supports(e)) {
                        throw new SieveException(c.line(), "extension \"" + ext + "\" is not supported; this server offers "
                                + String.join(", ", SieveScript.EXTENSIONS));
                    }
                    required.add(e);
                    if (e.equals("spamtestplus")) {
                        required.add("spamtest"); // RFC 5235 §3.2: spamtestplus is spamtest with :percent
                    }
                }
            }
            case "fileinto" -> {
                if (a.has("specialuse")) {
                    specialUse(a.string("specialuse"), c.line());
                }
            }
            case "redirect" -> {
                String to = a.positionalString(0);
                if (isConstant(to) && RedirectAddress.parse(to) == null) {
                    throw new SieveException(c.line(), "redirect needs one address like user@example.org, not \"" + to + "\"");
                }
            }
            case "include" -> {
                // RFC 6609 §3.2: the name is a constant, never expanded; whether the script exists is
                // known only when the include runs, so a script may be uploaded before those it includes
                String name = a.positionalString(0);
                if (name.isEmpty() || name.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
                    throw new SieveException(c.line(), "include needs a script name, without control characters");
                }
            }
            case "global" -> {
                // RFC 6609 §3.4: global variables need the variables extension too
                needs("global", "variables", c.line());
                for (String name : a.positionalStrings(0)) {
                    if (!Variables.isName(name)) {
                        throw new SieveException(c.line(), "\"" + name + "\" is not a variable name: use letters, digits and _");
                    }
                }
            }
            case "set" -> {
                String name = a.positionalString(0);
                // RFC 6609 §3.5: set "global.NAME" sets the global variable NAME
                boolean global = required.contains("include") && Variables.globalName(name) != null;
                if (!global && !Variables.isName(name)) {
                    throw new SieveException(c.line(), "\"" + name + "\" is not a variable name: use letters, digits and _");
                }
                variableNames.add(name.toLowerCase(Locale.ROOT));
                if (variableNames.size() > MAX_VARIABLES) {
                    throw new SieveException(c.line(), "script sets more than " + MAX_VARIABLES + " variables");
                }
            }
            case "setflag", "addflag", "removeflag" -> {
                if (a.positional().size() == 2) {
                    flagVariable(a.positionalString(0), c.line());
                }
            }
            case "notify" -> {
                // RFC 5435 §3.8: a method known when the script is checked must be one we can use
                String method = a.positionalString(0);
                if (isConstant(method) && !MailtoUri.supported(method)) {
                    throw new SieveException(c.line(), MailtoUri.unsupported(method));
                }
                if (a.has("importance") && isConstant(a.string("importance"))
                        && SieveAction.Notify.importance(a.string("importance")).isEmpty()) {
                    throw new SieveException(c.line(), ":importance needs \"1\" (high), \"2\" (normal) or \"3\" (low), not \""
                            + a.string("importance") + "\"");
                }
                if (a.has("from") && isConstant(a.string("from")) && RedirectAddress.parse(a.string("from")) == null) {
                    throw new SieveException(c.line(), "notify :from needs an address like user@example.org, not \""
                            + a.string("from") + "\"");
                }
            }
            case "addheader" -> {
                fieldName("addheader", a.positionalString(0), c.line());
                String value = a.positionalString(1);
                String invalid = isConstant(value) ? EditableHeader.invalidValue(value) : null;
                if (invalid != null) {
                    throw new SieveException(c.line(), "addheader: " + invalid);
                }
            }
            case "deleteheader" -> {
                // RFC 5293 §5: the field name comes first and is one string; the patterns may follow.
                // (a lone argument was taken for the patterns' place: the signature's optional one leads)
                if (((Argument.Strings) a.positional().getFirst()).bracketed()) {
                    throw new SieveException(c.line(), "deleteheader needs one field name as its first argument, not a list");
                }
                fieldName("deleteheader", a.positionalString(0), c.line());
                checkMatching(a, c.line());
                if (a.has("count")) {
                    throw new SieveException(c.line(), "deleteheader cannot use :count; match the values with :is,"
                            + " :contains, :matches or :value");
                }
                if (a.has("last") && !a.has("index")) {
                    throw new SieveException(c.line(), ":last needs :index N, as in :index 1 :last for the last field");
                }
                if (a.has("index") && a.number("index") < 1) {
                    throw new SieveException(c.line(), ":index counts fields from 1, not " + a.number("index"));
                }
            }
            case "vacation" -> {
                if (a.has("addresses")) {
                    for (String addr : a.strings("addresses")) {
                        if (isConstant(addr) && RedirectAddress.parse(addr) == null) {
                            throw new SieveException(c.line(), ":addresses needs addresses like user@example.org, not \"" + addr + "\"");
                        }
                    }
                }
            }
            default -> {
            }
        }
    }

    /** RFC 8579 §3, §4: a constant special-use attribute must be one (RFC 6154 §2: "\\" atom). */
    private void specialUse(String attribute, int line) throws SieveException {
        if (isConstant(attribute) && !Interpreter.isSpecialUse(attribute)) {
            throw new SieveException(line, "\"" + attribute + "\" is not a special-use attribute; use one like \"\\\\Junk\"");
        }
    }

    /** RFC 5232 §3: a variable holding flags needs the variables extension. */
    private void flagVariable(String name, int line) throws SieveException {
        needs("a flag variable", "variables", line);
        if (!Variables.isName(name)) {
            throw new SieveException(line, "\"" + name + "\" is not a variable name: use letters, digits and _");
        }
    }

    /** RFC 5293 §4, §5: a constant field name must be one (RFC 5322 §3.6.8's ftext). */
    private void fieldName(String command, String name, int line) throws SieveException {
        if (isConstant(name) && !HeaderSection.isFieldName(name)) {
            throw new SieveException(line, command + ": \"" + name + "\" is not a header field name");
        }
    }

    private void checkTest(Test t) throws SieveException {
        checkMatching(t.arguments(), t.line());
        checkTestArguments(t);
    }

    /** RFC 5228 §2.7.3 and RFC 5231: a comparator we have and may use, a relation, a match type it can do. */
    private void checkMatching(Arguments a, int line) throws SieveException {
        Comparator comparator = Comparator.ASCII_CASEMAP;
        if (a.has("comparator")) {
            String name = a.string("comparator");
            comparator = Comparator.named(name).orElseThrow(() -> new SieveException(line,
                    "unknown comparator \"" + name + "\"; use i;octet, i;ascii-casemap or i;ascii-numeric"));
            needs("comparator " + comparator.wireName, comparator.extension, line);
        }
        String relationTag = a.firstOf("value", "count");
        if (relationTag != null) {
            String rel = a.string(relationTag);
            if (Relation.named(rel).isEmpty()) {
                throw new SieveException(line, "\":" + relationTag + "\" needs one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\", \"ne\", not \"" + rel + "\"");
            }
        }
        String matchTag = a.firstOf("contains", "matches");
        if (matchTag != null && !comparator.matchesSubstrings()) {
            throw new SieveException(line, "comparator " + comparator.wireName + " cannot do \":" + matchTag + "\"; use :is or :value");
        }
    }

    private void checkTestArguments(Test t) throws SieveException {
        Arguments a = t.arguments();
        // RFC 5260 §6: :last reverses the count of :index, and fields are counted from 1
        if (a.has("last") && !a.has("index") && !t.name().equals("duplicate")) { // duplicate's :last is RFC 7352's own
            throw new SieveException(t.line(), ":last needs :index N, as in :index 1 :last for the last field");
        }
        if (a.has("index") && a.number("index") < 1) {
            throw new SieveException(t.line(), ":index counts fields from 1, not " + a.number("index"));
        }
        switch (t.name()) {
            case "date" -> {
                String field = a.positionalString(0);
                if (isConstant(field) && !HeaderSection.isFieldName(field)) {
                    throw new SieveException(t.line(), "\"" + field + "\" is not a header field name");
                }
                checkDate(t, a.positionalString(1));
            }
            case "currentdate" -> checkDate(t, a.positionalString(0));
            case "ihave" -> {
                // RFC 5463 §4: what ihave finds is there from here on, as if required
                List<String> names = lowerCase(a.positionalStrings(0));
                if (names.stream().allMatch(SieveScript::supports)) {
                    required.addAll(names);
                }
            }
            case "envelope" -> {
                for (String part : a.positionalStrings(0)) {
                    String p = part.toLowerCase(Locale.ROOT);
                    if (isConstant(part) && !p.equals("from") && !p.equals("to")) {
                        throw new SieveException(t.line(), "envelope part \"" + part + "\" is not supported; use \"from\" or \"to\"");
                    }
                }
            }
            case "specialuse_exists" -> {
                for (String attribute : a.positionalStrings(a.positional().size() - 1)) {
                    specialUse(attribute, t.line());
                }
            }
            case "duplicate" -> {
                if (a.has("header") && isConstant(a.string("header")) && !HeaderSection.isFieldName(a.string("header"))) {
                    throw new SieveException(t.line(), "\"" + a.string("header") + "\" is not a header field name");
                }
            }
            case "header", "address", "exists" -> {
                for (String field : a.positionalStrings(0)) {
                    if (isConstant(field) && !HeaderSection.isFieldName(field)) {
                        throw new SieveException(t.line(), "\"" + field + "\" is not a header field name");
                    }
                }
            }
            case "hasflag" -> {
                if (a.positional().size() == 2) {
                    for (String v : a.positionalStrings(0)) {
                        flagVariable(v, t.line());
                    }
                }
            }
            default -> {
            }
        }
    }

    /** RFC 5260 §4.1, §4.2: a constant date-part must be known and a constant :zone well formed. */
    private void checkDate(Test t, String part) throws SieveException {
        if (isConstant(part) && DatePart.named(part).isEmpty()) {
            throw new SieveException(t.line(), "unknown date-part \"" + part + "\"; use one of " + DatePart.names());
        }
        if (t.arguments().has("zone")) {
            String zone = t.arguments().string("zone");
            if (isConstant(zone) && ZonedTime.parseZone(zone).isEmpty()) {
                throw new SieveException(t.line(), ":zone needs an offset like \"+0200\" or \"-0500\" (+ or -, hours, minutes), not \""
                        + zone + "\"");
            }
        }
    }

    /** Whether a string's value is fixed when the script is parsed (no ${...} to expand). */
    private boolean isConstant(String s) {
        return !required.contains("variables") || !s.contains("${");
    }
}

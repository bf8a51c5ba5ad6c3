// Decides whether a compiler command line can be compiled remotely, and if so how: the local preprocessing
// command, the command line to send, the source and the object file. Pure: argv in, plan out. distcc's
// `arg.c` rules are the floor; when in doubt a command runs locally, unchanged.

/// A compile that can be distributed.
public struct CompilePlan: Equatable, Sendable {
    /// The compiler as the user named it (`gcc`, `/usr/bin/g++`).
    public var compiler: String
    /// The source file as given on the command line.
    public var source: String
    /// The object file to write, as given by `-o` or derived from the source name.
    public var output: String
    public var language: Language
    /// True when the source is already preprocessed (`.i`, `-x cpp-output`): it is sent as is.
    public var sourceIsPreprocessed: Bool
    /// The local preprocessing command (compiler first); writes the preprocessed text to stdout.
    public var preprocessArguments: [String]
    /// The command line sent to the server (compiler first): preprocessor options removed, `-o` explicit.
    public var remoteArguments: [String]
    /// True when the text is gcc's `-fdirectives-only` output (both argument lists carry the option): the
    /// local preprocessor obeys the directives and the server's compiler expands the macros, so every token
    /// keeps its line and column and the object is the one a local compile makes, `-g` included.
    public var directivesOnly: Bool = false
    /// The object records debug information (a `-g` level above 0).
    public var recordsDebugInfo: Bool = false
    /// `-Werror` in any form, or `-pedantic-errors`: a warning changes the outcome.
    public var warningsAreErrors: Bool = false
}

extension CompilePlan {
    /// The same compile with plain `-E` text (macros expanded here), for a text `-fdirectives-only` cannot
    /// carry exactly (DirectivesOnlyText).
    public var withPlainText: CompilePlan {
        var plan = self
        plan.directivesOnly = false
        plan.preprocessArguments.removeAll { $0 == ArgScanner.directivesOnlyOption }
        plan.remoteArguments.removeAll { $0 == ArgScanner.directivesOnlyOption }
        return plan
    }
}

/// The scanner's verdict.
public enum ScanResult: Equatable, Sendable {
    case distribute(CompilePlan)
    /// Run the real compiler locally with the original arguments; `reason` is for logs.
    case local(reason: String)
}

public enum ArgScanner {
    /// Scans `argv` (compiler name first).
    public static func scan(_ argv: [String]) -> ScanResult {
        guard let compiler = argv.first else { return .local(reason: "no compiler") }
        let arguments = Array(argv.dropFirst())

        var sawCompileOnly = false
        var output: String?
        var outputCount = 0
        var sources: [(name: String, language: Language, preprocessed: Bool)] = []
        var currentX: (language: Language, preprocessed: Bool)?
        var hasDependencyFlag = false, hasDependencyFile = false, hasDependencyTarget = false

        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            // The option's value: attached (`-ofile`) or the next argument (`-o file`).
            func value(of option: String) -> String? {
                if argument == option {
                    index += 1
                    return index < arguments.count ? arguments[index] : nil
                }
                return String(argument.dropFirst(option.count))
            }
            defer { index += 1 }

            if argument.hasPrefix("@") { return .local(reason: "response file \(argument)") }
            if argument == "-" { return .local(reason: "source on standard input") }
            guard argument.hasPrefix("-") else {
                guard let kind = currentX ?? Language.fromFileName(argument, driver: compiler) else {
                    return .local(reason: "input '\(argument)' is not a C, C++ or Objective-C source")
                }
                sources.append((argument, kind.language, kind.preprocessed))
                continue
            }
            if let reason = localOnlyReason(argument) { return .local(reason: reason) }

            switch argument {
            case "-c": sawCompileOnly = true
            case "-MD", "-MMD": hasDependencyFlag = true
            default: break
            }
            if argument.hasPrefix("-o") {
                guard let path = value(of: "-o"), !path.isEmpty else { return .local(reason: "-o without a file") }
                if path == "-" { return .local(reason: "output to standard output") }
                output = path
                outputCount += 1
            } else if argument.hasPrefix("-x") {
                guard let name = value(of: "-x") else { return .local(reason: "-x without a language") }
                if name == "none" {
                    currentX = nil
                } else if let kind = Language.fromXName(name) {
                    currentX = kind
                } else {
                    return .local(reason: "language '\(name)' is compiled locally")
                }
            } else if argument.hasPrefix("-MF") {
                hasDependencyFile = true
                _ = value(of: "-MF")
            } else if argument.hasPrefix("-MT") || argument.hasPrefix("-MQ") {
                hasDependencyTarget = true
                _ = value(of: String(argument.prefix(3)))
            } else if GCCOptions.takesSeparateValue.contains(argument) {
                guard value(of: argument) != nil else { return .local(reason: "\(argument) without a value") }
            }
        }

        guard sawCompileOnly else { return .local(reason: "not a compile-only (-c) command") }
        let debug = debugLevel(arguments)
        if debug >= 3 {
            return .local(reason: "-g3 records macro definitions, which only the local preprocessor sees")
        }
        guard outputCount <= 1 else { return .local(reason: "several -o options") }
        guard sources.count == 1, let source = sources.first else {
            return .local(reason: sources.isEmpty ? "no source file" : "\(sources.count) source files")
        }
        let objectPath = output ?? PathName.dropSuffix(PathName.base(source.name)) + ".o"

        // gcc derives the dependency file and target from -o when it compiles; with -E it would not, so the
        // preprocessing command is told explicitly (gcc's cpp spec: `%{MD:%{o*:%.d%*}}`, `-MQ %{o*}`).
        var dependencyExtras: [String] = []
        if hasDependencyFlag {
            if !hasDependencyFile { dependencyExtras += ["-MF", PathName.dropSuffix(objectPath) + ".d"] }
            if !hasDependencyTarget { dependencyExtras += ["-MQ", objectPath] }
        }

        let directivesOnly = !source.preprocessed && directivesOnlyFits(compiler: compiler, arguments)
        let marker = directivesOnly ? [directivesOnlyOption] : []
        return .distribute(
            CompilePlan(
                compiler: compiler, source: source.name, output: objectPath, language: source.language,
                sourceIsPreprocessed: source.preprocessed,
                preprocessArguments: [compiler] + preprocessArguments(arguments) + dependencyExtras + ["-E"] + marker,
                remoteArguments: [compiler] + marker + remoteArguments(arguments) + ["-o", objectPath],
                directivesOnly: directivesOnly, recordsDebugInfo: debug > 0,
                warningsAreErrors: arguments.contains {
                    $0 == "-Werror" || $0.hasPrefix("-Werror=") || $0 == "-pedantic-errors"
                }))
    }

    public static let directivesOnlyOption = "-fdirectives-only"

    /// Whether gcc's `-fdirectives-only` text gives this compile's object: not for clang (no such mode), not
    /// where the option would be recorded in the object beyond the DWARF producer the server mends
    /// (`-flto`'s IR, `-frecord-gcc-switches`), not with the traditional preprocessor (which it does not
    /// support) and not with `-d` dumps (which take over `-E`'s output).
    static func directivesOnlyFits(compiler: String, _ arguments: [String]) -> Bool {
        guard !PathName.base(compiler).contains("clang") else { return false }
        var lto = false
        for argument in arguments {
            if argument == "-flto" || argument.hasPrefix("-flto=") { lto = true }
            if argument == "-fno-lto" { lto = false }
            if ["-frecord-gcc-switches", "-C", "-CC"].contains(argument) || argument.hasPrefix("-traditional") {
                return false
            }
            if argument.hasPrefix("-d") && !argument.hasPrefix("-dump") { return false }
        }
        return !lto
    }

    /// The debug level the last level-setting `-g` option gives (`-g`, `-g2`, `-ggdb3`, `-gdwarf-4`…); 0 without.
    public static func debugLevel(_ arguments: [String]) -> Int {
        var level = 0
        for argument in arguments where argument.hasPrefix("-g") {
            var rest = argument.dropFirst(2)
            for family in ["gdb", "dwarf", "stabs+", "stabs", "xcoff+", "xcoff", "vms"] where rest.hasPrefix(family) {
                rest = rest.dropFirst(family.count)
                if family == "dwarf" { rest = rest.drop { $0 == "-" || $0.isNumber } }
                if rest.isEmpty { rest = "2" }
                break
            }
            if rest.isEmpty { level = 2 } else if let number = Int(rest) { level = number }
        }
        return level
    }

    /// The arguments without `-o FILE` and without dependency-file options: for re-running a command
    /// whose outputs must not be written (they already were, or will be, by the remote compile).
    public static func withoutOutputs(_ arguments: [String]) -> [String] {
        removing(arguments) { argument in
            if argument.hasPrefix("-o") { return "-o" }
            if let option = ["-MF", "-MT", "-MQ"].first(where: { argument.hasPrefix($0) }) { return option }
            return ["-MD", "-MMD", "-MP", "-MG"].contains(argument) ? argument : nil
        }
    }

    /// The original arguments without `-c` and `-o FILE`: gcc -E then writes to stdout.
    private static func preprocessArguments(_ arguments: [String]) -> [String] {
        removing(arguments) { $0 == "-c" ? "-c" : $0.hasPrefix("-o") ? "-o" : nil }
    }

    /// The original arguments without preprocessor-only options and without `-o` (appended explicitly).
    private static func remoteArguments(_ arguments: [String]) -> [String] {
        removing(arguments) { $0.hasPrefix("-o") ? "-o" : GCCOptions.preprocessorOption($0) }
    }

    /// `arguments` without the options `match` names. `match` returns the option an argument is (`-o` for both
    /// `-o` and `-ofile`), or nil to keep it. A removed option given alone takes its separate value with it; a
    /// kept option keeps its value, which is never matched on its own.
    public static func removing(_ arguments: [String], _ match: (String) -> String?) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let takesValue = GCCOptions.takesSeparateValue.contains(argument)
            if let option = match(argument) {
                if argument == option && takesValue { index += 1 }
                continue
            }
            result.append(argument)
            if takesValue && index < arguments.count {
                result.append(arguments[index])
                index += 1
            }
        }
        return result
    }

    /// Options that make a command local, with the reason, or nil.
    static func localOnlyReason(_ argument: String) -> String? {
        switch argument {
        case "-E": return "preprocessing only (-E)"
        case "-S": return "assembly output (-S)"
        case "-M", "-MM": return "dependency generation only (\(argument))"
        case "-fsyntax-only": return "syntax check only"
        case "-v", "--version", "-###", "--help", "-dumpversion", "-dumpmachine", "-dumpspecs":
            return "informational option \(argument)"
        case "-gsplit-dwarf": return "split DWARF writes a .dwo file beside the object"
        case "-fdirectives-only": return "-fdirectives-only leaves preprocessing to the compiler"
        case "--coverage", "-ftest-coverage", "-fprofile-arcs", "-fbranch-probabilities", "-frepo", "-fstack-usage":
            return "\(argument) reads or writes files beside the object"
        case "-Xclang", "-wrapper": return "\(argument) is compiled locally"
        default: break
        }
        let nativePrefixes = ["-march=native", "-mtune=native", "-mcpu=native"]
        if nativePrefixes.contains(argument) { return "\(argument) depends on this machine's CPU" }
        let localPrefixes = [
            "-print-", "-save-temps", "-fdump-", "-fprofile-", "-fauto-profile", "-fcallgraph-info", "-B",
            "-specs", "--specs", "-fplugin", "-fpass-plugin", "-iplugindir", "-aux-info", "-dumpdir", "-dumpbase",
            "-fdiagnostics-format=sarif-file", "-fdiagnostics-format=json-file",
        ]
        if let prefix = localPrefixes.first(where: { argument.hasPrefix($0) }) {
            return "\(prefix)… is compiled locally"
        }
        if argument.hasPrefix("-Wa,"), assemblerWritesFiles(argument.dropFirst(4).split(separator: ",")) {
            return "assembler option \(argument) reads or writes files"
        }
        return nil
    }

    /// Assembler options that list, write dependency files, include files or name outputs.
    static func assemblerWritesFiles(_ options: [Substring]) -> Bool {
        options.contains { option in
            option.hasPrefix("-a") || option.hasPrefix("--MD") || option.hasPrefix("-I")
                || option.hasPrefix("-o") || option.hasPrefix("@")
        }
    }
}

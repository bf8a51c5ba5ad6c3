// The allow-list sshccd checks every argument of a request against: what compiling preprocessed C, C++ or
// Objective-C into an object needs, and nothing that can load code, run a program, or read or write a file
// outside the job. Anything not listed is refused. Options that only matter to the preprocessor or the linker
// are dropped (never passed to a compiler). Pure tables; ServerArgPolicy applies them.

import CompileCore

/// What to do with one argument of a request.
public enum ServerArgRule: Equatable, Sendable {
    /// Passed to the compiler (with the next argument when `value`).
    case keep(value: Bool)
    /// Not passed: it cannot change the compile of preprocessed source.
    case drop(value: Bool)
    case compileOnly
    /// `-o` (the path is replaced by the job's own).
    case output(value: Bool)
    /// `-x` (checked against the preprocessable languages).
    case language(value: Bool)
    case refuse(String)

    /// True when the next argument belongs to this one.
    var takesValue: Bool {
        switch self {
        case .keep(let value), .drop(let value), .output(let value), .language(let value): value
        case .compileOnly, .refuse: false
        }
    }
}

public enum ServerArgRules {
    /// Options that load code into the compiler or run programs.
    static let runsCode = [
        "-fplugin", "-iplugindir", "-fpass-plugin", "-Xclang", "-mllvm", "-fmodule-mapper", "-wrapper", "-B",
        "-specs", "--specs", "-fload-pass-plugin",
    ]
    /// Options that read or write files beside the compile's own input and output.
    static let touchesFiles = [
        "@", "-save-temps", "-fdump", "-aux-info", "-MF", "-MD", "-MMD", "-fprofile-", "-fauto-profile",
        "-fcallgraph-info", "-fstack-usage", "-fcompare-debug", "-fdiagnostics-format=sarif-file",
        "-fdiagnostics-format=json-file", "-fdiagnostics-add-output", "-fdiagnostics-set-output", "-fmodules",
        "-fmodule-", "-fprebuilt-module-path", "-fimplicit-module-maps", "-fsanitize-blacklist",
        "-fsanitize-ignorelist", "-fsanitize-coverage-allowlist", "-fsanitize-coverage-ignorelist",
        "-fsanitize-coverage-blocklist", "-fsanitize-coverage-whitelist", "-fsanitize-system-ignorelist",
        "-fxray-attr-list", "-fxray-always-instrument", "-fxray-never-instrument", "-fsave-optimization-record",
        "-foptimization-record-file", "-ftime-trace", "-fproc-stat-report", "-fbasic-block-sections=list",
        "-fcrash-diagnostics", "-fdeps-", "-fresolution", "-fvtv-", "-fembed-offload", "-ftest-coverage",
        "--coverage", "-fdiagnostics-generate-patch", "-gsplit-dwarf", "-dumpdir", "-dumpbase", "-time=", "-include",
        "-imacros", "-Xassembler",
        "-Xpreprocessor", "-Wp,", "-fmemory-profile", "-fcs-profile",
    ]
    /// Options that stop before the object (or print instead of compiling); a server only makes objects.
    static let notACompile: Set<String> = [
        "-E", "-S", "-M", "-MM", "-###", "--help", "--version", "-dumpversion", "-dumpmachine", "-dumpspecs",
        "-dumpfullversion",
    ]

    /// Flags passed through as they are.
    static let keptFlags: Set<String> = [
        "-w", "-ansi", "-pedantic", "-pedantic-errors", "-p", "-pg", "-v", "-Q", "-time", "-pthread", "-shared",
        "-static", "-pie", "-no-pie", "-static-pie", "-rdynamic", "-nostdlib", "-nodefaultlibs", "-nostartfiles",
        "-static-libgcc", "-static-libstdc++", "-s", "-no-canonical-prefixes", "-fPIC", "-fpic", "-fPIE", "-fpie",
    ]
    /// Families passed through (after the refusals above and the path check below).
    static let keptPrefixes = ["-O", "-g", "-f", "-m", "-W", "-std=", "--std=", "--param=", "--target="]
    /// Options with a separate value that are passed through with it.
    static let keptWithValue: Set<String> = ["--param", "-target", "-arch"]

    /// Linker options: meaningless with -c, dropped with their value.
    static let linkerWithValue: Set<String> = ["-l", "-L", "-Xlinker", "-u", "-z", "-T", "-e", "--sysroot"]
    static let linkerPrefixes = ["-l", "-L", "-Wl,", "--sysroot="]
    /// Preprocessor flags that are harmless and meaningless for preprocessed input.
    static let droppedFlags: Set<String> = ["-pipe", "-trigraphs", "-traditional-cpp", "-traditional"]

    /// Options whose value is a path but which never open it (they rewrite names recorded in the object).
    public static let pathMappingPrefixes = [
        "-ffile-prefix-map=", "-fdebug-prefix-map=", "-fmacro-prefix-map=", "-frandom-seed=",
        "-fdebug-compilation-dir=", "-fcoverage-compilation-dir=",
    ]

    /// The rule for `argument` (which starts with `-` or `@`).
    public static func rule(for argument: String) -> ServerArgRule {
        if argument == "-c" { return .compileOnly }
        if argument.hasPrefix("-o") { return .output(value: argument == "-o") }
        if argument.hasPrefix("-x") { return .language(value: argument == "-x") }
        if notACompile.contains(argument) || argument.hasPrefix("-print-") {
            return .refuse("argument '\(shown(argument))' does not make an object; only compiles (-c) are served")
        }
        if runsCode.contains(where: argument.hasPrefix) {
            return .refuse(
                "argument '\(shown(argument))' is not allowed on this server: it can load code or run programs")
        }
        if touchesFiles.contains(where: argument.hasPrefix)
            || argument.hasPrefix("-fopt-info") && argument.contains("=")
        {
            return .refuse(
                "argument '\(shown(argument))' is not allowed on this server: it reads or writes files outside the job")
        }
        if argument.hasPrefix("-Wa,") {
            for option in argument.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false) {
                if let why = AssemblerOptions.refusal(option) {
                    return .refuse(
                        "assembler option '\(shown(option))' (in '\(shown(argument))') is not allowed on this server: \(why)"
                    )
                }
            }
            return .keep(value: false)
        }
        if linkerWithValue.contains(argument) { return .drop(value: true) }
        if linkerPrefixes.contains(where: argument.hasPrefix) || droppedFlags.contains(argument) {
            return .drop(value: false)
        }
        if let option = GCCOptions.preprocessorOption(argument) {
            return .drop(value: argument == option && GCCOptions.takesSeparateValue.contains(option))
        }
        if argument.hasPrefix("-d") {
            return .refuse("argument '\(shown(argument))' is not allowed on this server: compiler dumps write files")
        }
        if keptFlags.contains(argument) || keptPrefixes.contains(where: argument.hasPrefix) {
            return .keep(value: false)
        }
        if keptWithValue.contains(argument) { return .keep(value: true) }
        return .refuse("argument '\(shown(argument))' is not on this server's list of compile options")
    }

    /// A kept argument that names a path is refused: a file outside the job could be read or written.
    static func pathRefusal(_ argument: String) -> String? {
        guard argument.contains("/"), !pathMappingPrefixes.contains(where: argument.hasPrefix) else { return nil }
        return "argument '\(shown(argument))' names a path; files outside the job are not used on this server"
    }

    static func valueRefusal(_ value: String) -> String? {
        value.contains("/")
            ? "value '\(shown(value))' names a path; files outside the job are not used on this server" : nil
    }
}

// The server's view of a client's command line: it is hostile until proven otherwise. This file turns a
// request's argv into the exact argv sshccd runs, with the input and output inside the job directory, or a
// refusal that says why. Pure: no files are touched here.

/// A compile the server has agreed to run.
public struct ServerCompile: Equatable, Sendable {
    /// The allowed compiler name to look up on the server's PATH.
    public var compilerName: String
    /// Arguments after the compiler name, with input and output inside the job directory.
    public var arguments: [String]
    /// Path of the preprocessed source to write before running the compiler.
    public var inputPath: String
    /// Path the object file will be read from.
    public var outputPath: String

    public init(compilerName: String, arguments: [String], inputPath: String, outputPath: String) {
        self.compilerName = compilerName
        self.arguments = arguments
        self.inputPath = inputPath
        self.outputPath = outputPath
    }
}

public enum ServerPlan: Equatable, Sendable {
    case compile(ServerCompile)
    /// The job is refused; the message goes to the client in SERR.
    case refuse(String)
}

public enum ServerArgPolicy {
    /// Plans the compile of `argv` (compiler first) in `jobDirectory`.
    public static func plan(_ argv: [String], allowList: CompilerAllowList, jobDirectory: String) -> ServerPlan {
        guard let compiler = argv.first else { return .refuse("empty command line") }
        guard let compilerName = allowList.allowedName(for: compiler) else {
            return .refuse(
                "compiler '\(compiler)' is not allowed on this server (allowed: "
                    + allowList.names.sorted().joined(separator: ", ")
                    + ", with target-triple prefixes and -N versions)")
        }

        var kept: [String] = []
        var source: (name: String, language: Language)?
        var xLanguage: Language?
        var sawCompileOnly = false
        var outputs = 0
        let arguments = Array(argv.dropFirst())
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            func separateValue() -> String? {
                guard index < arguments.count else { return nil }
                defer { index += 1 }
                return arguments[index]
            }
            if !argument.hasPrefix("-") || argument == "-" {
                guard source == nil else { return .refuse("more than one input file ('\(argument)')") }
                guard let language = xLanguage ?? Language.fromFileName(argument)?.language else {
                    return .refuse("input '\(argument)' is not a C, C++ or Objective-C source name")
                }
                source = (argument, language)
                continue
            }
            if let reason = refusal(argument) { return .refuse(reason) }
            if argument == "-c" {
                sawCompileOnly = true
            } else if argument.hasPrefix("-o") {
                // The client's own path (stock distcc sends an absolute one) is replaced, never written to.
                if argument == "-o" && separateValue() == nil { return .refuse("-o without a file") }
                outputs += 1
                continue
            } else if argument.hasPrefix("-x") {
                guard let name = argument == "-x" ? separateValue() : String(argument.dropFirst(2)),
                    let kind = Language.fromXName(name)
                else { return .refuse("language '\(argument)' is not compiled here") }
                xLanguage = kind.language
                continue
            } else if let option = GCCOptions.preprocessorOption(argument) {
                // Harmless for preprocessed input; dropped rather than passed to a compiler.
                if argument == option, GCCOptions.takesSeparateValue.contains(option), separateValue() == nil {
                    return .refuse("\(option) without a value")
                }
                continue
            }
            kept.append(argument)
            if GCCOptions.takesSeparateValue.contains(argument) {
                guard let value = separateValue() else { return .refuse("\(argument) without a value") }
                kept.append(value)
            }
        }
        guard sawCompileOnly else { return .refuse("only compile-only (-c) jobs are served") }
        guard outputs <= 1 else { return .refuse("more than one -o") }
        guard let source else { return .refuse("no input file") }

        let stem = safeStem(PathName.dropSuffix(PathName.base(source.name)))
        let inputPath = jobDirectory + "/" + stem + source.language.preprocessedSuffix
        let outputPath = jobDirectory + "/" + stem + ".o"
        // `-x <lang>-cpp-output` first: the input is never preprocessed again, whatever its name.
        let final = ["-x", source.language.preprocessedXName] + kept + [inputPath, "-o", outputPath]
        return .compile(
            ServerCompile(compilerName: compilerName, arguments: final, inputPath: inputPath, outputPath: outputPath))
    }

    /// Options that could run code, read or write files outside the job, or change what is compiled.
    static func refusal(_ argument: String) -> String? {
        let exact: Set<String> = [
            "-E", "-S", "-M", "-MM", "-wrapper", "-Xclang", "-fdirectives-only", "-include",
            "-imacros", "-aux-info", "-MD", "-MMD",
        ]
        let prefixes = [
            "-fplugin", "-iplugindir", "-fpass-plugin", "-B", "-specs", "--specs", "@", "-save-temps", "-fdump-",
            "-dumpdir", "-dumpbase", "-fprofile-", "-fauto-profile", "-fcallgraph-info", "-MF", "-print-", "--sysroot",
            "-fdiagnostics-format=sarif-file", "-fdiagnostics-format=json-file", "-Wp,", "-Xpreprocessor",
        ]
        if exact.contains(argument) || prefixes.contains(where: { argument.hasPrefix($0) }) {
            return "argument '\(argument)' is not allowed on this server"
        }
        if argument.hasPrefix("-Wa,"), ArgScanner.assemblerWritesFiles(argument.dropFirst(4).split(separator: ",")) {
            return "assembler argument '\(argument)' is not allowed on this server"
        }
        if argument == "-Xassembler" { return "argument '-Xassembler' is not allowed on this server" }
        return nil
    }

    /// A file stem that is safe inside the job directory: no separators, no leading dot or dash.
    static func safeStem(_ stem: String) -> String {
        let cleaned = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_+-.".contains($0)) ? $0 : "_" })
        guard let first = cleaned.first, first != ".", first != "-" else { return "source" }
        return String(cleaned.prefix(100))
    }
}

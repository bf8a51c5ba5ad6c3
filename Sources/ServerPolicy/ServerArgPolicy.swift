// The server's view of a client's command line: it is hostile until proven otherwise. Every argument must be
// on the allow-list of what compiling preprocessed source needs (ServerArgRules); the rest are refused with the
// reason. The output is always the job directory's own file — a stock distcc client's absolute `-o` path is
// replaced, never written to. The compile runs in two steps, `-S` then assemble, so that sshccd can read the
// assembly before the assembler does (AssemblyPolicy): `.incbin` hidden in C string escapes is only visible
// there. Pure: no files are touched here.

import CompileCore

/// A compile the server has agreed to run.
public struct ServerCompile: Equatable, Sendable {
    /// The allowed compiler name to look up on the server's PATH.
    public var compilerName: String
    /// Step 1, after the compiler name: preprocessed source to assembly, inside the job directory.
    public var arguments: [String]
    /// Step 2, after the compiler name: the checked assembly to the object (clang: the source again).
    public var assembleArguments: [String]
    /// Path of the preprocessed source to write before running clang.
    public var inputPath: String
    /// Path of the assembly step 1 writes.
    public var assemblyPath: String
    /// gcc reads the checked source (step 1) and the checked assembly (step 2) from stdin (`-`), so both can
    /// be started before their input exists and wait for it: their start-up is off the job's critical path.
    /// clang reads the source file (`inputPath`) in both steps.
    public var readsStandardInput: Bool { !compilerName.contains("clang") }
    /// Path the object file will be read from.
    public var outputPath: String
    /// The source is gcc's `-fdirectives-only` text: the compiler expands its macros (SourcePolicy checks it
    /// as such), and the option, which a local compile does not have, is taken out of the DWARF producer
    /// string (ProducerMend).
    public var directivesOnly: Bool
    /// The client's toolchain identity (`DIGEST SUMMARY`) when it sent one: the server compares its own.
    public var clientToolchain: String?

    public init(
        compilerName: String, arguments: [String], assembleArguments: [String], inputPath: String,
        assemblyPath: String, outputPath: String, directivesOnly: Bool = false, clientToolchain: String? = nil
    ) {
        self.directivesOnly = directivesOnly
        self.clientToolchain = clientToolchain
        self.compilerName = compilerName
        self.arguments = arguments
        self.assembleArguments = assembleArguments
        self.inputPath = inputPath
        self.assemblyPath = assemblyPath
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
                "compiler '\(shown(compiler))' is not allowed on this server (allowed: "
                    + allowList.names.sorted().joined(separator: ", ")
                    + ", with target-triple prefixes and -N versions)")
        }

        var kept: [String] = []
        var source: (name: String, language: Language)?
        var xLanguage: Language?
        var sawCompileOnly = false
        var directivesOnly = false
        var clientToolchain: String?
        var outputs = 0
        let arguments = Array(argv.dropFirst())
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            // `@file` would make the driver read a server file as more arguments: it goes to the rules.
            if !argument.hasPrefix("-") && !argument.hasPrefix("@") || argument == "-" {
                guard source == nil else { return .refuse("more than one input file ('\(shown(argument))')") }
                guard let language = xLanguage ?? Language.fromFileName(argument, driver: compilerName)?.language else {
                    return .refuse("input '\(shown(argument))' is not a C, C++ or Objective-C source name")
                }
                source = (argument, language)
                continue
            }
            if argument.hasPrefix(ToolchainCheck.argumentPrefix) {
                clientToolchain = String(argument.dropFirst(ToolchainCheck.argumentPrefix.count))
                continue
            }
            if argument == ArgScanner.directivesOnlyOption {
                // Text whose macros the compiler expands: gcc only (clang would preprocess it all again).
                guard !compilerName.contains("clang") else {
                    return .refuse("'\(argument)' text is compiled by gcc only")
                }
                directivesOnly = true
                kept.append(argument)
                continue
            }
            let rule = ServerArgRules.rule(for: argument)
            var value: String?
            if rule.takesValue {
                guard index < arguments.count else { return .refuse("\(shown(argument)) without a value") }
                value = arguments[index]
                index += 1
            }
            switch rule {
            case .refuse(let reason): return .refuse(reason)
            case .compileOnly: sawCompileOnly = true
            case .output:
                // The client's own path (stock distcc sends an absolute one) is replaced, never written to.
                outputs += 1
            case .language:
                let name = value ?? String(argument.dropFirst(2))
                guard let kind = Language.fromXName(name) else {
                    return .refuse("language '-x \(shown(name))' is not compiled here (only C, C++, Objective-C)")
                }
                xLanguage = kind.language
            case .drop: continue
            case .keep:
                if let reason = ServerArgRules.pathRefusal(argument) ?? value.flatMap(ServerArgRules.valueRefusal) {
                    return .refuse(reason)
                }
                kept.append(argument)
                if let value { kept.append(value) }
            }
        }
        guard sawCompileOnly else { return .refuse("only compile-only (-c) jobs are served") }
        guard outputs <= 1 else { return .refuse("more than one -o") }
        guard let source else { return .refuse("no input file") }

        let stem = safeStem(PathName.dropSuffix(PathName.base(source.name)))
        let inputPath = jobDirectory + "/" + stem + source.language.preprocessedSuffix
        let assemblyPath = jobDirectory + "/" + stem + ".s"
        let outputPath = jobDirectory + "/" + stem + ".o"
        // `-x <lang>-cpp-output` first: the input is never preprocessed again, whatever its name. gcc reads it
        // from stdin: the assembly is byte for byte the same (names come from the line markers), and gcc can
        // start before the source has arrived.
        let clang = compilerName.contains("clang")
        let fromSource = ["-x", source.language.preprocessedXName] + kept + [clang ? inputPath : "-"]
        let compile = fromSource + ["-S", "-o", assemblyPath]
        // gcc: the same options again, for the target's assembler flags (--64, --gdwarf-5); the object is byte
        // for byte what `-c` makes (gcc -c goes through the same assembly). clang's integrated assembler pads
        // code differently from text than when it emits objects directly, so clang compiles the checked source
        // again with -c: deterministic, so the inline assembly is what was checked, at twice the CPU. gcc's
        // assembler reads the checked text from stdin: the object is the same as from the file (the .s name
        // appears nowhere in it; the -g and Brotli tests compare).
        let assemble =
            clang
            ? fromSource + ["-c", "-o", outputPath]
            : kept.filter { $0 != ArgScanner.directivesOnlyOption } + ["-x", "assembler", "-", "-c", "-o", outputPath]
        return .compile(
            ServerCompile(
                compilerName: compilerName, arguments: compile, assembleArguments: assemble, inputPath: inputPath,
                assemblyPath: assemblyPath, outputPath: outputPath, directivesOnly: directivesOnly,
                clientToolchain: clientToolchain))
    }

    /// A file stem that is safe inside the job directory: no separators, no leading dot or dash.
    static func safeStem(_ stem: String) -> String {
        let cleaned = String(stem.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_+-.".contains($0)) ? $0 : "_" })
        guard let first = cleaned.first, first != ".", first != "-" else { return "source" }
        return String(cleaned.prefix(100))
    }
}

// The wrapper's preprocessor without gcc's driver: cc1 run directly with the command line the driver prints
// for the job's flags (`gcc -### … -E -o OUT`). The driver costs ~1 ms of wall time and as much CPU per job
// before cc1 even starts. The command is learnt once per flag set: the job's source path, output, macro and
// dependency-file values are replaced by stand-ins before the driver is asked, and put back for each job.
// Anything the driver would do beyond starting one cc1 (a message, a second program, an unknown line) keeps
// the driver.
// Pure; the wrapper runs the driver and keeps what it learnt (SSHCCClient/PreprocessorCache.swift).

public enum PreprocessorCommand {
    /// Every stand-in holds one of these; an argument that already does is never templated.
    static let markers = ["sshcc-stand-in", "sshcc_stand_in"]
    static let outputDirectory = "/sshcc-stand-in-dir"
    static let outputStem = "sshcc-stand-in-out"
    static let sourceToken = "sshcc-stand-in-source"
    static let valueToken = "sshcc_stand_in_"
    /// Options whose values the driver passes to cc1 untouched and which differ from file to file: macros
    /// (`-DFILE=…`) and the dependency file and its targets (`-MF x.d -MQ x.o`, which the wrapper adds).
    static let opaque = ["-D", "-U", "-MF", "-MT", "-MQ"]

    /// A job's preprocessor command line with its own parts replaced by stand-ins.
    public struct Template: Equatable, Sendable {
        /// The driver's argv (compiler first) with `-o` and the stand-ins: the same for every job of a flag set.
        public var arguments: [String]
        /// Each stand-in and the job's value for it.
        public var bindings: [String: String]
    }

    /// `arguments` (the driver's argv, compiler first, without `-o`) for the job whose source is `source`:
    /// the source (keeping its suffix, by which the driver picks the language) and each value of an `opaque`
    /// option become stand-ins, and the output a stand-in path. Nil when an argument already holds one.
    public static func template(_ arguments: [String], source: String) -> Template? {
        guard !arguments.contains(where: holdsStandIn) else { return nil }
        var bindings: [String: String] = [:]
        var templated: [String] = []
        var index = 0
        func value(_ value: String) -> String {
            let token = valueToken + "\(bindings.count)"
            bindings[token] = value
            return token
        }
        var sourceSeen = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if index > 1, !sourceSeen, argument == source {
                let token = sourceToken + source.dropFirst(PathName.dropSuffix(source).count)
                bindings[token] = source
                templated.append(token)
                sourceSeen = true
            } else if opaque.contains(argument), index < arguments.count {
                templated += [argument, value(arguments[index])]
                index += 1
            } else if let option = opaque.first(where: { argument.hasPrefix($0) && argument.count > $0.count }) {
                templated.append(option + value(String(argument.dropFirst(option.count))))
            } else {
                templated.append(argument)
            }
        }
        guard sourceSeen else { return nil }
        return Template(arguments: templated + ["-o", outputDirectory + "/" + outputStem], bindings: bindings)
    }

    /// Lines the driver prints with `-###` besides its commands, whatever the flags (by their start).
    static let informational = [
        "Using built-in specs.", "COLLECT_GCC=", "COLLECT_LTO_WRAPPER=", "OFFLOAD_TARGET_NAMES=",
        "OFFLOAD_TARGET_DEFAULT=", "Target: ", "Configured with: ", "Thread model: ",
        "Supported LTO compression algorithms: ", "gcc version ", "COMPILER_PATH=", "LIBRARY_PATH=",
        "COLLECT_GCC_OPTIONS=",
    ]

    /// The one command of `printed` (the driver's `-###` output for a template) if it is a preprocessor
    /// (an absolute path to cc1, cc1plus, cc1obj…, with `-E`) and the driver printed nothing else of its
    /// own (a warning would be lost without it); nil otherwise.
    public static func derive(_ printed: String) -> [String]? {
        for line in printed.split(separator: "\n") where line.first != " " {
            guard informational.contains(where: { line.hasPrefix($0) }) else { return nil }
        }
        guard let commands = DriverCommands.parse(printed), commands.count == 1, let command = commands.first,
            let program = command.first, program.hasPrefix("/"),
            program.split(separator: "/").last?.hasPrefix("cc1") == true, command.contains("-E")
        else { return nil }
        return command
    }

    /// `command` (a derived one) for a job: its bindings put back and `output` as the output. Nil when a
    /// stand-in is left over (the driver made something of it that cannot be put back).
    public static func instantiate(_ command: [String], bindings: [String: String], output: String) -> [String]? {
        let (directory, stem) = (PathName.directory(output), PathName.base(output))
        // Longest first: `…_1` must not be put back inside `…_10`.
        let longestFirst = bindings.sorted { $0.key.count > $1.key.count }
        let instantiated = command.map { argument -> String in
            guard holdsStandIn(argument) else { return argument }
            if let value = bindings[argument] { return value }
            var result = argument
            for (token, value) in longestFirst {
                result = result.replacing(token, with: value)
            }
            return result.replacing(outputDirectory, with: directory).replacing(outputStem, with: stem)
        }
        return instantiated.contains(where: holdsStandIn) ? nil : instantiated
    }

    static func holdsStandIn(_ argument: String) -> Bool { markers.contains { argument.contains($0) } }
}

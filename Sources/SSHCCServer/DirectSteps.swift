// gcc's steps run without their driver: cc1 (or cc1plus) for the assembly, `as` for the object, with the
// command lines the driver itself prints for the job's flags (`gcc -###`, DriverCommands). One sshccd serves
// a channel's jobs one after another, and a build's files share their flags, so the driver runs once per flag
// set and not twice per job. Anything unusual (more than one command, a program not found, the driver
// failing or taking over 2 s) is remembered as "use the driver", which then does what it always did.

import CompileCore
import POSIXSupport
import ServerPolicy

/// A step's program and argv: cc1 or `as` as the driver would run them, or the driver itself.
struct StepCommand {
    var executable: String
    var arguments: [String]
}

struct DirectSteps {
    /// Derived commands per step template (nil: this template runs through the driver).
    private var commands: [[String]: StepCommand?] = [:]
    /// Templates are few; a hostile stream of ever-new flags must not grow the cache without limit.
    static let capacity = 64

    /// What does what `driver arguments` (argv, the compiler's name first) would do for the job in
    /// `directory` whose files are named `stem`; nil to run the driver. `printCommands` runs the driver with
    /// the argv it is given (`-###` added) and returns its stderr, nil if it failed.
    mutating func command(
        arguments: [String], directory: String, stem: String, path: String?, printCommands: ([String]) -> String?
    ) -> StepCommand? {
        guard let template = DriverCommands.template(arguments, directory: directory, stem: stem) else { return nil }
        let derived: StepCommand?
        if let known = commands[template] {
            derived = known
        } else {
            derived = Self.derive(printCommands([template[0], "-###"] + template.dropFirst()), path: path)
            if commands.count >= Self.capacity { commands.removeAll() }
            commands[template] = derived
        }
        return derived.map {
            StepCommand(
                executable: $0.executable,
                arguments: DriverCommands.instantiate($0.arguments, directory: directory, stem: stem))
        }
    }

    /// The one command in `-###` output, its program resolved as the driver would (a bare name on PATH).
    private static func derive(_ printed: String?, path: String?) -> StepCommand? {
        guard let printed, let commands = DriverCommands.parse(printed), commands.count == 1,
            let command = commands.first, let program = Environment.findExecutable(command[0], path: path)
        else { return nil }
        return StepCommand(executable: program, arguments: command)
    }
}
